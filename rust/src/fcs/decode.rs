//! DATA decoding: stored bytes to one row-major matrix of values, in parallel.

use rayon::prelude::*;

use super::layout::{ByteOrder, Channel, Scale, ValueKind};
use crate::error::{Error, Result};

/// The decoded event matrix, row-major (n_events × n_channels). Float32 when
/// every channel is stored as float32 (no precision to gain from float64),
/// float64 otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum Events {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Events {
    pub fn len(&self) -> usize {
        match self {
            Events::F32(v) => v.len(),
            Events::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<f64> {
        match self {
            Events::F32(v) => v.get(i).map(|x| *x as f64),
            Events::F64(v) => v.get(i).copied(),
        }
    }
}

/// How the values of one event are laid out in DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowLayout {
    /// Every value occupies whole bytes.
    Bytes { row_bytes: usize },
    /// FCS 2.0 bit-packed integers (values not a whole number of bytes, packed MSB first).
    Packed { row_bits: u64 },
    /// `$DATATYPE A` with a fixed character width per value.
    AsciiFixed { row_bytes: usize },
    /// `$DATATYPE A` with `$PnB *`: values separated by whitespace or commas.
    AsciiDelimited,
}

/// Per-channel decoding plan.
#[derive(Debug, Clone)]
struct Slot {
    kind: ValueKind,
    /// Byte offset within the row (Bytes/AsciiFixed) or bit offset (Packed).
    offset: u64,
    /// Storage width in bytes (Bytes/AsciiFixed) or bits (Packed).
    width: u32,
    mask: u64,
    scale: Scale,
}

/// The storage width in bytes of a channel when values are byte-aligned.
pub fn storage_bytes(c: &Channel) -> Option<usize> {
    c.bits.map(|b| match c.kind {
        ValueKind::Ascii => b as usize,
        _ => b.div_ceil(8) as usize,
    })
}

/// Build the slot table. Returns an error for a byte order that cannot apply.
fn slots(
    chans: &[Channel],
    layout: &RowLayout,
    order: &ByteOrder,
    scaled: bool,
) -> Result<Vec<Slot>> {
    let mut off = 0u64;
    let mut out = Vec::with_capacity(chans.len());
    for (i, c) in chans.iter().enumerate() {
        let width = match layout {
            RowLayout::Packed { .. } => c.bits.unwrap_or(0),
            _ => storage_bytes(c).unwrap_or(0) as u32,
        };
        if let ByteOrder::Mixed(p) = order {
            let bin = matches!(c.kind, ValueKind::Uint | ValueKind::F32 | ValueKind::F64);
            if bin && !matches!(layout, RowLayout::Packed { .. }) && p.len() != width as usize {
                return Err(Error::fcs_kw(
                    "$BYTEORD",
                    format!(
                        "mixed byte order of {} bytes cannot apply to the {}-byte values of parameter {}",
                        p.len(),
                        width,
                        i + 1
                    ),
                ));
            }
        }
        out.push(Slot {
            kind: c.kind,
            offset: off,
            width,
            mask: c.mask,
            scale: if scaled { c.scale } else { Scale::Identity },
        });
        off += width as u64;
    }
    Ok(out)
}

#[inline(always)]
fn read_uint(b: &[u8], order: &ByteOrder) -> u64 {
    match order {
        ByteOrder::Little => match *b {
            [x] => x as u64,
            [x, y] => u16::from_le_bytes([x, y]) as u64,
            [x, y, z, w] => u32::from_le_bytes([x, y, z, w]) as u64,
            _ => b
                .iter()
                .enumerate()
                .fold(0u64, |v, (i, &x)| v | (x as u64) << (8 * i)),
        },
        ByteOrder::Big => match *b {
            [x] => x as u64,
            [x, y] => u16::from_be_bytes([x, y]) as u64,
            [x, y, z, w] => u32::from_be_bytes([x, y, z, w]) as u64,
            _ => b.iter().fold(0u64, |v, &x| (v << 8) | x as u64),
        },
        ByteOrder::Mixed(p) => b
            .iter()
            .zip(p)
            .fold(0u64, |v, (&x, &s)| v | (x as u64) << (8 * s as u32)),
    }
}

#[inline(always)]
fn read_binary(row: &[u8], s: &Slot, order: &ByteOrder) -> f64 {
    // The slot table is built from the same widths as the row size, so this
    // never misses; a miss would be a bug, shown as NaN rather than a panic.
    let start = s.offset as usize;
    let Some(b) = row.get(start..start.saturating_add(s.width as usize)) else {
        return f64::NAN;
    };
    match s.kind {
        ValueKind::Uint => (read_uint(b, order) & s.mask) as f64,
        ValueKind::F32 => f32::from_bits(read_uint(b, order) as u32) as f64,
        ValueKind::F64 => f64::from_bits(read_uint(b, order)),
        ValueKind::Ascii => f64::NAN,
    }
}

/// Read `bits` bits starting at bit `pos` (MSB first) from `data`.
#[inline]
fn read_bits(data: &[u8], pos: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for k in 0..bits as u64 {
        let p = pos + k;
        // The DATA plan sized `data` for every row; out of range reads as 0.
        let byte = data.get((p / 8) as usize).copied().unwrap_or(0);
        let bit = (byte >> (7 - (p % 8))) & 1;
        v = (v << 1) | bit as u64;
    }
    v
}

trait Out: Copy + Send + Sync + Default {
    fn from_f64(v: f64) -> Self;
    fn from_f32(v: f32) -> Self;
}
impl Out for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }
}
impl Out for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v as f64
    }
}

/// Lets the caller page DATA in and out around each window of rows, so a
/// memory-mapped file never holds all of DATA resident next to the decoded copy.
pub trait Pager: Sync {
    /// DATA bytes `start..start + len` are about to be read.
    fn prefetch(&self, _start: usize, _len: usize) {}
    /// DATA bytes `start..start + len` will not be read again.
    fn release(&self, _start: usize, _len: usize) {}
}

/// For DATA already in memory.
pub struct NoPaging;
impl Pager for NoPaging {}

/// Rows decoded between paging calls: about 64 MiB of a 16-channel float32 file.
const WINDOW_CHUNKS: usize = 64;

/// Rows per parallel work item: large enough to amortise scheduling, small
/// enough to balance 2..64 threads.
const CHUNK_ROWS: usize = 16_384;

fn decode_bytes<T: Out>(
    data: &[u8],
    n_events: usize,
    row_bytes: usize,
    slots: &[Slot],
    order: &ByteOrder,
    pager: &dyn Pager,
) -> Vec<T> {
    let p = slots.len();
    let mut out = vec![T::default(); n_events * p];
    if p == 0 || n_events == 0 {
        return out;
    }
    let fast_f32 = slots
        .iter()
        .all(|s| s.kind == ValueKind::F32 && s.width == 4)
        && !matches!(order, ByteOrder::Mixed(_));
    let big = matches!(order, ByteOrder::Big);
    let window_rows = CHUNK_ROWS * WINDOW_CHUNKS;
    let windows = out
        .chunks_mut(window_rows * p)
        .zip(data.chunks(window_rows * row_bytes));
    for (w, (wo, wd)) in windows.enumerate() {
        let start = w * window_rows * row_bytes;
        pager.prefetch(start, wd.len());
        wo.par_chunks_mut(CHUNK_ROWS * p)
            .zip(wd.par_chunks(CHUNK_ROWS * row_bytes))
            .for_each(|(o, d)| {
                if fast_f32 {
                    decode_f32_rows(o, d, slots, big);
                    return;
                }
                for (orow, drow) in o.chunks_exact_mut(p).zip(d.chunks_exact(row_bytes)) {
                    for (ov, s) in orow.iter_mut().zip(slots) {
                        *ov = T::from_f64(s.scale.apply(read_binary(drow, s, order)));
                    }
                }
            });
        pager.release(start, wd.len());
    }
    out
}

/// The common modern layout (all float32), kept simple enough to vectorise:
/// identity channels are a plain (byte-swapped) copy, scaled ones one multiply/divide.
fn decode_f32_rows<T: Out>(o: &mut [T], d: &[u8], slots: &[Slot], big: bool) {
    let p = slots.len();
    let read = |b: &[u8]| {
        let bytes = match *b {
            [a, b, c, d] => [a, b, c, d],
            _ => [0; 4],
        };
        if big {
            f32::from_be_bytes(bytes)
        } else {
            f32::from_le_bytes(bytes)
        }
    };
    if slots.iter().all(|s| s.scale == Scale::Identity) {
        for (ov, b) in o.iter_mut().zip(d.chunks_exact(4)) {
            *ov = T::from_f32(read(b));
        }
        return;
    }
    for (orow, drow) in o.chunks_exact_mut(p).zip(d.chunks_exact(4 * p)) {
        for ((ov, b), s) in orow.iter_mut().zip(drow.chunks_exact(4)).zip(slots) {
            let v = read(b);
            *ov = match s.scale {
                Scale::Identity => T::from_f32(v),
                sc => T::from_f64(sc.apply(v as f64)),
            };
        }
    }
}

fn decode_packed<T: Out>(data: &[u8], n_events: usize, row_bits: u64, slots: &[Slot]) -> Vec<T> {
    let p = slots.len();
    let mut out = vec![T::default(); n_events * p];
    if p == 0 {
        return out;
    }
    out.par_chunks_mut(CHUNK_ROWS * p)
        .enumerate()
        .for_each(|(ci, o)| {
            for (r, orow) in o.chunks_exact_mut(p).enumerate() {
                let row = (ci * CHUNK_ROWS + r) as u64;
                for (ov, s) in orow.iter_mut().zip(slots) {
                    let raw = read_bits(data, row * row_bits + s.offset, s.width) & s.mask;
                    *ov = T::from_f64(s.scale.apply(raw as f64));
                }
            }
        });
    out
}

fn parse_ascii_value(field: &[u8], at: u64) -> Result<f64> {
    let s = std::str::from_utf8(field)
        .map_err(|_| Error::fcs_at(at, "ASCII data value is not text"))?
        .trim();
    if s.is_empty() {
        return Ok(0.0);
    }
    s.parse::<f64>()
        .map_err(|_| Error::fcs_at(at, format!("ASCII data value {s:?} is not a number")))
}

fn decode_ascii_fixed(
    data: &[u8],
    data_start: u64,
    n_events: usize,
    row_bytes: usize,
    slots: &[Slot],
) -> Result<Vec<f64>> {
    let p = slots.len();
    let mut out = Vec::with_capacity(n_events * p);
    for (r, row) in data.chunks_exact(row_bytes).take(n_events).enumerate() {
        for s in slots {
            let a = s.offset as usize;
            let at = data_start + (r * row_bytes + a) as u64;
            let field = row
                .get(a..a.saturating_add(s.width as usize))
                .ok_or_else(|| Error::fcs_at(at, "ASCII field outside its row"))?;
            out.push(s.scale.apply(parse_ascii_value(field, at)?));
        }
    }
    Ok(out)
}

fn decode_ascii_delimited(
    data: &[u8],
    data_start: u64,
    n_events: usize,
    slots: &[Slot],
) -> Result<Vec<f64>> {
    let p = slots.len();
    let want = n_events
        .checked_mul(p)
        .ok_or_else(|| Error::fcs_kw("$TOT", "event count × parameters overflows"))?;
    // Each value takes at least one byte, so DATA's size bounds the allocation.
    let mut out = Vec::with_capacity(want.min(data.len()));
    let is_sep = |b: u8| b == b' ' || b == b'\t' || b == b',' || b == b'\r' || b == b'\n';
    let mut i = 0usize;
    let run = |from: usize, sep: bool| {
        data.get(from..).map_or(0, |rest| {
            rest.iter().take_while(|&&b| is_sep(b) == sep).count()
        })
    };
    while out.len() < want {
        i += run(i, true);
        if i >= data.len() {
            return Err(Error::fcs_at(
                data_start + i as u64,
                format!(
                    "delimited ASCII DATA ends after {} of {want} values",
                    out.len()
                ),
            ));
        }
        let start = i;
        i += run(i, false);
        let s = slots
            .get(out.len() % p.max(1))
            .ok_or_else(|| Error::fcs_kw("$PAR", "no parameters"))?;
        let field = data.get(start..i).unwrap_or_default();
        out.push(
            s.scale
                .apply(parse_ascii_value(field, data_start + start as u64)?),
        );
    }
    Ok(out)
}

/// The DATA bytes to decode (exactly those the layout needs) and what they hold.
pub struct Segment<'a> {
    pub bytes: &'a [u8],
    /// Absolute file offset of `bytes[0]`, for error messages.
    pub start: u64,
    pub n_events: usize,
    pub layout: &'a RowLayout,
    pub order: &'a ByteOrder,
}

/// Decode DATA to scale values (`scaled`) or to stored values (masked
/// integers, raw floats).
pub fn decode(
    seg: &Segment<'_>,
    chans: &[Channel],
    scaled: bool,
    pager: &dyn Pager,
) -> Result<Events> {
    let (data, n_events, order) = (seg.bytes, seg.n_events, seg.order);
    let slots = slots(chans, seg.layout, order, scaled)?;
    let all_f32 = !chans.is_empty() && chans.iter().all(|c| c.kind == ValueKind::F32);
    Ok(match seg.layout {
        RowLayout::Bytes { row_bytes } => {
            if all_f32 {
                Events::F32(decode_bytes(
                    data, n_events, *row_bytes, &slots, order, pager,
                ))
            } else {
                Events::F64(decode_bytes(
                    data, n_events, *row_bytes, &slots, order, pager,
                ))
            }
        }
        RowLayout::Packed { row_bits } => {
            Events::F64(decode_packed(data, n_events, *row_bits, &slots))
        }
        RowLayout::AsciiFixed { row_bytes } => Events::F64(decode_ascii_fixed(
            data, seg.start, n_events, *row_bytes, &slots,
        )?),
        RowLayout::AsciiDelimited => {
            Events::F64(decode_ascii_delimited(data, seg.start, n_events, &slots)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_orders() {
        assert_eq!(read_uint(&[1, 2], &ByteOrder::Little), 0x0201);
        assert_eq!(read_uint(&[1, 2], &ByteOrder::Big), 0x0102);
        assert_eq!(read_uint(&[1, 2, 3], &ByteOrder::Little), 0x030201);
        assert_eq!(read_uint(&[1, 2, 3], &ByteOrder::Big), 0x010203);
        // 3,4,1,2: stored byte 0 is the third least significant.
        assert_eq!(
            read_uint(&[1, 2, 3, 4], &ByteOrder::Mixed(vec![2, 3, 0, 1])),
            0x0201_0403
        );
    }

    #[test]
    fn bits() {
        // 0b1010_1100 0b1111_0000: 10-bit value from bit 0 = 0b1010110011
        assert_eq!(
            read_bits(&[0b1010_1100, 0b1111_0000], 0, 10),
            0b10_1011_0011
        );
        assert_eq!(read_bits(&[0b1010_1100, 0b1111_0000], 10, 6), 0b11_0000);
    }
}
