//! The fixed 58-byte HEADER: version and the byte offsets of TEXT, DATA and ANALYSIS.

use crate::error::{Error, Result};

pub const HEADER_LEN: usize = 58;

/// Offsets as written in the HEADER, relative to the start of the data set,
/// inclusive at both ends. `None` means blank or zero (the FCS 3.x way of
/// saying "look in TEXT", used for offsets beyond 99,999,999).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: String,
    pub text: (u64, u64),
    pub data: Option<(u64, u64)>,
    pub analysis: Option<(u64, u64)>,
}

/// Parse the HEADER that starts at `base` in `buf`.
pub fn parse_header(buf: &[u8], base: usize) -> Result<Header> {
    let end = base
        .checked_add(HEADER_LEN)
        .ok_or_else(|| Error::fcs_at(base as u64, "HEADER offset overflows"))?;
    let head = buf.get(base..end).ok_or_else(|| {
        Error::fcs_at(
            base as u64,
            format!(
                "file too short for an FCS HEADER ({} bytes left, 58 needed)",
                buf.len().saturating_sub(base)
            ),
        )
    })?;
    let version = head.get(..6).unwrap_or_default();
    let ok_version = matches!(
        *version,
        [b'F', b'C', b'S', major, b'.', minor] if major.is_ascii_digit() && minor.is_ascii_digit()
    );
    if !ok_version {
        return Err(Error::fcs_at(
            base as u64,
            format!(
                "not an FCS file: HEADER starts with {:?}, expected FCSx.y",
                String::from_utf8_lossy(version)
            ),
        ));
    }
    let version = String::from_utf8_lossy(version).into_owned();
    let mut fields = [0u64; 6];
    for (i, field) in fields.iter_mut().enumerate() {
        let start = 10 + 8 * i;
        let raw = head
            .get(start..start + 8)
            .ok_or_else(|| Error::fcs_at((base + start) as u64, "HEADER is cut short"))?;
        *field = parse_offset_field(raw).ok_or_else(|| {
            Error::fcs_at(
                (base + start) as u64,
                format!(
                    "HEADER offset field {} is not a number: {:?}",
                    i + 1,
                    String::from_utf8_lossy(raw)
                ),
            )
        })?;
    }
    let pair = |a: u64, b: u64| {
        if a == 0 && b == 0 {
            None
        } else {
            Some((a, b))
        }
    };
    Ok(Header {
        version,
        text: (fields[0], fields[1]),
        data: pair(fields[2], fields[3]),
        analysis: pair(fields[4], fields[5]),
    })
}

/// An 8-byte right-justified ASCII integer; blank counts as zero.
fn parse_offset_field(raw: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(raw).ok()?.trim();
    if s.is_empty() {
        return Some(0);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Format a HEADER for the writer; offsets that do not fit in 8 digits are written as 0.
pub fn format_header(version: &str, text: (u64, u64), data: (u64, u64)) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(version.as_bytes());
    out.extend_from_slice(b"    ");
    let fits = |v: u64| v <= 99_999_999;
    let data = if fits(data.0) && fits(data.1) {
        data
    } else {
        (0, 0)
    };
    for v in [text.0, text.1, data.0, data.1, 0, 0] {
        out.extend_from_slice(format!("{v:>8}").as_bytes());
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = format_header("FCS3.1", (58, 300), (320, 1000));
        let p = parse_header(&h, 0).unwrap();
        assert_eq!(p.version, "FCS3.1");
        assert_eq!(p.text, (58, 300));
        assert_eq!(p.data, Some((320, 1000)));
        assert_eq!(p.analysis, None);
    }

    #[test]
    fn big_offsets_become_zero() {
        let h = format_header("FCS3.1", (58, 300), (320, 200_000_000));
        assert_eq!(parse_header(&h, 0).unwrap().data, None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_header(b"hello", 0).is_err());
        let mut h = format_header("FCS3.1", (58, 300), (320, 1000));
        h[12] = b'x';
        assert!(parse_header(&h, 0).is_err());
        let mut h = format_header("FCS3.1", (58, 300), (320, 1000));
        h[0] = b'G';
        assert!(parse_header(&h, 0).is_err());
    }
}
