//! Writing FCS 3.1 files (one data set; list mode; I, F, D or fixed-width A).
// The writer indexes arrays it sized and validated itself (never file bytes).
#![allow(clippy::indexing_slicing)]

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use super::header::format_header;
use super::layout::{param_kw, ByteOrder, ValueKind};
use super::text::escape;
use crate::error::{Error, Result};

/// Row-major event values to write.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
}

impl<'a> From<&'a [f32]> for Values<'a> {
    fn from(v: &'a [f32]) -> Self {
        Values::F32(v)
    }
}

impl<'a> From<&'a [f64]> for Values<'a> {
    fn from(v: &'a [f64]) -> Self {
        Values::F64(v)
    }
}

impl Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    #[inline(always)]
    fn get(&self, i: usize) -> f64 {
        match self {
            Values::F32(v) => v[i] as f64,
            Values::F64(v) => v[i],
        }
    }
}

#[derive(Debug, Clone)]
pub struct WriteSpec {
    pub channels: Vec<String>,
    /// `$PnS` per channel; empty strings are not written.
    pub markers: Vec<String>,
    /// Extra keywords, in order. Layout keywords are computed and replace any given.
    pub keywords: Vec<(String, String)>,
    pub kind: ValueKind,
    /// `$PnB` per channel (I: 1..=64 bits, padded to whole bytes; A: characters).
    pub bits: Vec<u32>,
    pub byte_order: ByteOrder,
}

/// Keywords the writer always computes itself.
fn is_layout_keyword(key: &str, n_par: usize) -> bool {
    let k = key.to_ascii_uppercase();
    const FIXED: [&str; 12] = [
        "$BEGINANALYSIS",
        "$ENDANALYSIS",
        "$BEGINSTEXT",
        "$ENDSTEXT",
        "$BEGINDATA",
        "$ENDDATA",
        "$BYTEORD",
        "$DATATYPE",
        "$MODE",
        "$NEXTDATA",
        "$PAR",
        "$TOT",
    ];
    if FIXED.contains(&k.as_str()) {
        return true;
    }
    if let Some(rest) = k.strip_prefix("$P") {
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = digits.parse::<usize>() {
            let suffix = &rest[digits.len()..];
            // Parameters beyond $PAR would describe channels that are not there.
            return n == 0 || n > n_par || matches!(suffix, "B" | "N" | "S" | "DATATYPE");
        }
    }
    false
}

const DELIMITER_CANDIDATES: [u8; 8] = [b'|', 0x0c, b'/', b'\\', b'!', b'^', b'~', 0x1e];

/// A delimiter that no keyword contains and no value starts with (where a
/// doubled delimiter would be ambiguous); preferably one that appears nowhere.
fn choose_delimiter(pairs: &[(String, String)]) -> Result<u8> {
    let nowhere = |d: u8| {
        pairs
            .iter()
            .all(|(k, v)| !k.as_bytes().contains(&d) && !v.as_bytes().contains(&d))
    };
    let safe = |d: u8| {
        pairs
            .iter()
            .all(|(k, v)| !k.as_bytes().contains(&d) && v.as_bytes().first() != Some(&d))
    };
    DELIMITER_CANDIDATES
        .iter()
        .copied()
        .find(|&d| nowhere(d))
        .or_else(|| DELIMITER_CANDIDATES.iter().copied().find(|&d| safe(d)))
        .ok_or_else(|| {
            Error::InvalidArgument("keywords contain every usable TEXT delimiter".into())
        })
}

fn byteord_keyword(order: &ByteOrder) -> String {
    match order {
        ByteOrder::Little => "1,2,3,4".into(),
        ByteOrder::Big => "4,3,2,1".into(),
        ByteOrder::Mixed(p) => p
            .iter()
            .map(|s| (s + 1).to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn storage_width(kind: ValueKind, bits: u32) -> usize {
    match kind {
        ValueKind::Uint => bits.div_ceil(8) as usize,
        ValueKind::F32 => 4,
        ValueKind::F64 => 8,
        ValueKind::Ascii => bits as usize,
    }
}

fn validate(spec: &WriteSpec, n_values: usize) -> Result<usize> {
    let p = spec.channels.len();
    if p == 0 {
        return Err(Error::InvalidArgument(
            "at least one channel is needed".into(),
        ));
    }
    if n_values % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{n_values} values do not divide into {p} channels"
        )));
    }
    if !spec.markers.is_empty() && spec.markers.len() != p {
        return Err(Error::InvalidArgument(format!(
            "{} markers given for {p} channels",
            spec.markers.len()
        )));
    }
    if spec.bits.len() != p {
        return Err(Error::InvalidArgument(format!(
            "{} bit widths given for {p} channels",
            spec.bits.len()
        )));
    }
    for (c, &b) in spec.channels.iter().zip(&spec.bits) {
        if c.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "channel names must not be empty".into(),
            ));
        }
        let ok = match spec.kind {
            ValueKind::Uint => (1..=64).contains(&b),
            ValueKind::F32 => b == 32,
            ValueKind::F64 => b == 64,
            ValueKind::Ascii => (1..=64).contains(&b),
        };
        if !ok {
            return Err(Error::InvalidArgument(format!(
                "channel {c:?}: {b} bits is not valid for data type {}",
                spec.kind.code()
            )));
        }
        if let ByteOrder::Mixed(o) = &spec.byte_order {
            if o.len() != storage_width(spec.kind, b) && spec.kind != ValueKind::Ascii {
                return Err(Error::InvalidArgument(format!(
                    "byte order {} does not fit {}-byte values",
                    byteord_keyword(&spec.byte_order),
                    storage_width(spec.kind, b)
                )));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for c in &spec.channels {
        if !seen.insert(c.as_str()) {
            return Err(Error::InvalidArgument(format!(
                "channel name {c:?} is repeated"
            )));
        }
    }
    Ok(n_values / p)
}

/// Build the keyword list (minus data offsets) in writing order.
fn keyword_list(spec: &WriteSpec, n_events: usize) -> Result<Vec<(String, String)>> {
    let p = spec.channels.len();
    let mut out: Vec<(String, String)> = vec![
        ("$BEGINANALYSIS".into(), "0".into()),
        ("$ENDANALYSIS".into(), "0".into()),
        ("$BEGINSTEXT".into(), "0".into()),
        ("$ENDSTEXT".into(), "0".into()),
        ("$BYTEORD".into(), byteord_keyword(&spec.byte_order)),
        ("$DATATYPE".into(), spec.kind.code().into()),
        ("$MODE".into(), "L".into()),
        ("$NEXTDATA".into(), "0".into()),
        ("$PAR".into(), p.to_string()),
        ("$TOT".into(), n_events.to_string()),
    ];
    let user: Vec<&(String, String)> = spec
        .keywords
        .iter()
        .filter(|(k, _)| !is_layout_keyword(k, p))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in &spec.keywords {
        if k.trim().is_empty() || k.trim() != k {
            return Err(Error::InvalidArgument(format!(
                "keyword {k:?} is empty or has surrounding spaces"
            )));
        }
        if !seen.insert(k.to_ascii_uppercase()) {
            return Err(Error::InvalidArgument(format!(
                "keyword {k} is given more than once (keywords are case-insensitive)"
            )));
        }
        if v.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "keyword {k} has an empty value, which FCS 3.1 does not allow"
            )));
        }
    }
    let has = |key: &str| user.iter().any(|(k, _)| k.eq_ignore_ascii_case(key));
    for (i, name) in spec.channels.iter().enumerate() {
        let n = i + 1;
        let bits = spec.bits[i];
        out.push((param_kw(n, "N"), name.clone()));
        if let Some(m) = spec.markers.get(i).filter(|m| !m.is_empty()) {
            out.push((param_kw(n, "S"), m.clone()));
        }
        out.push((param_kw(n, "B"), bits.to_string()));
        if !has(&param_kw(n, "E")) {
            out.push((param_kw(n, "E"), "0,0".into()));
        }
        if !has(&param_kw(n, "R")) {
            let r = match spec.kind {
                ValueKind::Uint if bits < 64 => (1u64 << bits).to_string(),
                ValueKind::Uint => u64::MAX.to_string(),
                _ => "262144".into(),
            };
            out.push((param_kw(n, "R"), r));
        }
    }
    out.extend(user.into_iter().cloned());
    Ok(out)
}

fn compose_text(pairs: &[(String, String)], delim: u8, data: (u64, u64)) -> Vec<u8> {
    let mut t = vec![delim];
    let mut push = |k: &str, v: &str| {
        escape(k, delim, &mut t);
        t.push(delim);
        escape(v, delim, &mut t);
        t.push(delim);
    };
    push("$BEGINDATA", &data.0.to_string());
    push("$ENDDATA", &data.1.to_string());
    for (k, v) in pairs {
        push(k, v);
    }
    t
}

fn encode_uint(v: u64, width: usize, order: &ByteOrder, out: &mut [u8]) {
    for (j, o) in out.iter_mut().enumerate().take(width) {
        let sig = match order {
            ByteOrder::Little => j,
            ByteOrder::Big => width - 1 - j,
            ByteOrder::Mixed(p) => p.get(j).copied().unwrap_or(0) as usize,
        };
        *o = (v >> (8 * sig)) as u8;
    }
}

fn encode_value(
    v: f64,
    kind: ValueKind,
    bits: u32,
    order: &ByteOrder,
    out: &mut [u8],
) -> std::result::Result<(), String> {
    match kind {
        ValueKind::Uint => {
            let max = if bits >= 64 {
                u64::MAX as f64
            } else {
                (1u64 << bits) as f64
            };
            if !(v >= 0.0 && v < max && v.fract() == 0.0) {
                return Err(format!("value {v} is not an integer in [0, 2^{bits})"));
            }
            encode_uint(v as u64, out.len(), order, out);
        }
        ValueKind::F32 => encode_uint((v as f32).to_bits() as u64, 4, order, out),
        ValueKind::F64 => encode_uint(v.to_bits(), 8, order, out),
        ValueKind::Ascii => {
            let s = if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{}", v as i64)
            } else {
                format!("{v}")
            };
            if s.len() > out.len() || !v.is_finite() {
                return Err(format!(
                    "value {v} does not fit in {} characters",
                    out.len()
                ));
            }
            let pad = out.len() - s.len();
            out[..pad].fill(b' ');
            out[pad..].copy_from_slice(s.as_bytes());
        }
    }
    Ok(())
}

const CHUNK_ROWS: usize = 65_536;

/// Everything before DATA, and the row layout that follows it.
struct Prologue {
    bytes: Vec<u8>,
    widths: Vec<usize>,
    row_bytes: usize,
}

/// HEADER, TEXT and padding up to DATA for `n_events` events. The TEXT holds
/// the DATA offsets, whose digits change the TEXT length: iterate to a fixed
/// point (two or three rounds at most). DATA starts 8-byte aligned.
fn prologue(spec: &WriteSpec, n_events: usize) -> Result<Prologue> {
    let p = spec.channels.len();
    let n_values = n_events
        .checked_mul(p)
        .ok_or_else(|| Error::InvalidArgument("data too large".into()))?;
    validate(spec, n_values)?;
    let widths: Vec<usize> = spec
        .bits
        .iter()
        .map(|&b| storage_width(spec.kind, b))
        .collect();
    let row_bytes: usize = widths.iter().sum();
    let data_len = (n_events as u64)
        .checked_mul(row_bytes as u64)
        .ok_or_else(|| Error::InvalidArgument("data too large".into()))?;
    let pairs = keyword_list(spec, n_events)?;
    let delim = choose_delimiter(&pairs)?;
    let text_start = 58u64;
    let data_range = |start: u64| {
        if data_len == 0 {
            (0, 0)
        } else {
            (start, start + data_len - 1)
        }
    };
    let mut data_start = 0u64;
    let mut text;
    loop {
        text = compose_text(&pairs, delim, data_range(data_start));
        let want = (text_start + text.len() as u64).div_ceil(8) * 8;
        if data_len == 0 || want == data_start {
            break;
        }
        data_start = want;
    }
    let text_end = text_start + text.len() as u64 - 1;
    let mut bytes = format_header("FCS3.1", (text_start, text_end), data_range(data_start));
    bytes.extend_from_slice(&text);
    if data_len > 0 {
        bytes.resize(data_start as usize, b' ');
    }
    Ok(Prologue {
        bytes,
        widths,
        row_bytes,
    })
}

/// Encode whole rows of `values` into `out` (rows × row_bytes), in parallel.
fn encode_rows(
    values: Values<'_>,
    first_event: usize,
    spec: &WriteSpec,
    widths: &[usize],
    out: &mut [u8],
) -> Result<()> {
    let p = spec.channels.len();
    let row_bytes: usize = widths.iter().sum();
    out.par_chunks_mut(row_bytes)
        .enumerate()
        .try_for_each(|(r, row)| {
            let mut off = 0;
            for c in 0..p {
                encode_value(
                    values.get(r * p + c),
                    spec.kind,
                    spec.bits[c],
                    &spec.byte_order,
                    &mut row[off..off + widths[c]],
                )
                .map_err(|m| {
                    Error::InvalidArgument(format!(
                        "channel {:?}, event {}: {m}",
                        spec.channels[c],
                        first_event + r
                    ))
                })?;
                off += widths[c];
            }
            Ok(())
        })
}

impl Values<'_> {
    fn rows(&self, start: usize, end: usize, p: usize) -> Values<'_> {
        match self {
            Values::F32(v) => Values::F32(&v[start * p..end * p]),
            Values::F64(v) => Values::F64(&v[start * p..end * p]),
        }
    }
}

/// Write the file to `w`. Returns the number of bytes written.
pub fn write_to<W: Write>(w: &mut W, values: Values<'_>, spec: &WriteSpec) -> Result<u64> {
    let p = spec.channels.len().max(1);
    if values.len() % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{} values do not divide into {p} channels",
            values.len()
        )));
    }
    let n_events = values.len() / p;
    let pro = prologue(spec, n_events)?;
    let io = |e: std::io::Error| Error::io("<output>", e);
    w.write_all(&pro.bytes).map_err(io)?;
    let mut buf = vec![0u8; CHUNK_ROWS.min(n_events) * pro.row_bytes];
    for first in (0..n_events).step_by(CHUNK_ROWS) {
        let end = (first + CHUNK_ROWS).min(n_events);
        let chunk = &mut buf[..(end - first) * pro.row_bytes];
        encode_rows(values.rows(first, end, p), first, spec, &pro.widths, chunk)?;
        w.write_all(chunk).map_err(io)?;
    }
    Ok(pro.bytes.len() as u64 + (n_events * pro.row_bytes) as u64)
}

/// Writes a file of a known number of events chunk by chunk, so memory stays
/// bounded whatever the size. The file appears (atomically, by rename) only on
/// [`StreamWriter::finish`]; dropping an unfinished writer removes its temporary file.
pub struct StreamWriter {
    dest: std::path::PathBuf,
    tmp: std::path::PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
    spec: WriteSpec,
    widths: Vec<usize>,
    row_bytes: usize,
    n_events: usize,
    written: usize,
    bytes: u64,
}

impl StreamWriter {
    pub fn create(path: &Path, spec: WriteSpec, n_events: usize) -> Result<Self> {
        let name = path.display().to_string();
        let pro = prologue(&spec, n_events)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| Error::InvalidArgument(format!("{name}: not a file path")))?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            file_name.to_string_lossy(),
            std::process::id()
        ));
        let f = std::fs::File::create(&tmp).map_err(|e| Error::io(&name, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
        let mut me = StreamWriter {
            dest: path.to_path_buf(),
            tmp,
            out: None,
            spec,
            widths: pro.widths,
            row_bytes: pro.row_bytes,
            n_events,
            written: 0,
            bytes: pro.bytes.len() as u64,
        };
        out.write_all(&pro.bytes).map_err(|e| Error::io(&name, e))?;
        me.out = Some(out);
        Ok(me)
    }

    /// Append whole rows (row-major values of every channel).
    pub fn write_rows(&mut self, values: Values<'_>) -> Result<()> {
        let p = self.spec.channels.len();
        if values.len() % p != 0 {
            return Err(Error::InvalidArgument(format!(
                "{} values are not whole rows of {p} channels",
                values.len()
            )));
        }
        let rows = values.len() / p;
        if self.written + rows > self.n_events {
            return Err(Error::InvalidArgument(format!(
                "{} rows would exceed the {} events declared",
                self.written + rows,
                self.n_events
            )));
        }
        let name = self.dest.display().to_string();
        let Some(out) = self.out.as_mut() else {
            return Err(Error::InvalidArgument(format!("{name}: writer is closed")));
        };
        let mut buf = vec![0u8; CHUNK_ROWS.min(rows) * self.row_bytes];
        for first in (0..rows).step_by(CHUNK_ROWS) {
            let end = (first + CHUNK_ROWS).min(rows);
            let chunk = &mut buf[..(end - first) * self.row_bytes];
            encode_rows(
                values.rows(first, end, p),
                self.written + first,
                &self.spec,
                &self.widths,
                chunk,
            )?;
            out.write_all(chunk).map_err(|e| Error::io(&name, e))?;
        }
        self.written += rows;
        self.bytes += (rows * self.row_bytes) as u64;
        Ok(())
    }

    /// Check every declared event was written, then sync and rename into place.
    pub fn finish(mut self) -> Result<u64> {
        let name = self.dest.display().to_string();
        if self.written != self.n_events {
            return Err(Error::InvalidArgument(format!(
                "{name}: {} of the {} declared events were written",
                self.written, self.n_events
            )));
        }
        let Some(out) = self.out.take() else {
            return Err(Error::InvalidArgument(format!("{name}: writer is closed")));
        };
        let f = out
            .into_inner()
            .map_err(|e| Error::io(&name, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&name, e))?;
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&name, e))?;
        Ok(self.bytes)
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write to `path` atomically: a temporary file in the same folder, then a rename.
pub fn write_path(path: &Path, values: Values<'_>, spec: &WriteSpec) -> Result<u64> {
    let p = spec.channels.len().max(1);
    if values.len() % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{} values do not divide into {p} channels",
            values.len()
        )));
    }
    let mut w = StreamWriter::create(path, spec.clone(), values.len() / p)?;
    w.write_rows(values)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fcs::{read_bytes, Events, ReadOptions};

    fn spec(kind: ValueKind, bits: u32, order: ByteOrder) -> WriteSpec {
        WriteSpec {
            channels: vec!["FSC-A".into(), "CD38".into()],
            markers: vec!["".into(), "CD38 PE".into()],
            keywords: vec![
                ("$FIL".into(), "a|b/c.fcs".into()),
                ("$P2G".into(), "1".into()),
            ],
            kind,
            bits: vec![bits, bits],
            byte_order: order,
        }
    }

    #[test]
    fn round_trips() {
        let vals = [1.0, 2.0, 3.0, 65535.0, 0.0, 7.0];
        for (kind, bits) in [
            (ValueKind::F32, 32),
            (ValueKind::F64, 64),
            (ValueKind::Uint, 16),
            (ValueKind::Uint, 24),
            (ValueKind::Uint, 64),
            (ValueKind::Ascii, 8),
        ] {
            for order in [ByteOrder::Little, ByteOrder::Big] {
                let mut out = Vec::new();
                let s = spec(kind, bits, order.clone());
                write_to(&mut out, Values::F64(&vals), &s).unwrap();
                let ds = read_bytes(&out, &ReadOptions::default()).unwrap();
                assert!(ds.repairs.is_empty(), "{:?}", ds.repairs);
                assert_eq!(ds.n_events, 3);
                assert_eq!(ds.keywords.get("$FIL"), Some("a|b/c.fcs"));
                assert_eq!(ds.channels[1].marker, "CD38 PE");
                let got: Vec<f64> = match ds.events.unwrap() {
                    Events::F32(v) => v.into_iter().map(f64::from).collect(),
                    Events::F64(v) => v,
                };
                assert_eq!(got, vals, "{kind:?} {bits}");
            }
        }
    }

    #[test]
    fn rejects_out_of_range_ints() {
        let mut out = Vec::new();
        let s = spec(ValueKind::Uint, 8, ByteOrder::Little);
        assert!(write_to(&mut out, Values::F64(&[1.0, 256.0]), &s).is_err());
        assert!(write_to(&mut out, Values::F64(&[1.5, 2.0]), &s).is_err());
        assert!(write_to(&mut out, Values::F64(&[-1.0, 2.0]), &s).is_err());
    }

    #[test]
    fn empty_data() {
        let mut out = Vec::new();
        let s = spec(ValueKind::F32, 32, ByteOrder::Little);
        write_to(&mut out, Values::F64(&[]), &s).unwrap();
        let ds = read_bytes(&out, &ReadOptions::default()).unwrap();
        assert_eq!(ds.n_events, 0);
        assert_eq!(ds.events.unwrap().len(), 0);
    }
}
