//! FCS 2.0, 3.0, 3.1 and 3.2: reading (tolerant, with a repair report) and writing.
//!
//! The reader takes hostile bytes: no indexing or slicing that could panic on
//! input-derived values (`.get()` and slice patterns instead), and arithmetic on
//! declared sizes and offsets is checked or saturating. The fuzz target in
//! `fuzz/` holds it to that.
#![deny(clippy::indexing_slicing)]

pub mod decode;
pub mod header;
pub mod layout;
pub mod text;
pub mod write;

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod hostile_tests;

use std::path::Path;

use crate::compensation::spillover::{spillover_from_keywords, Spillover};
use crate::error::{Error, Result};
pub use decode::{Events, RowLayout};
use header::{parse_header, Header};
pub use layout::{ByteOrder, Channel, Scale, ValueKind};
pub use text::{Keywords, TextEncoding};

/// Something tolerant parsing had to fix, and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub code: String,
    pub message: String,
}

impl Repair {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Repair {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Parsing context: strict mode turns every repair into an error.
pub(crate) struct Ctx {
    strict: bool,
    repairs: Vec<Repair>,
}

impl Ctx {
    pub(crate) fn repair(&mut self, code: &str, message: impl Into<String>) -> Result<()> {
        let message = message.into();
        if self.strict {
            return Err(Error::fcs(format!("{message} [strict mode; code {code}]")));
        }
        self.repairs.push(Repair::new(code, message));
        Ok(())
    }
}

/// What to decode from DATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataMode {
    /// TEXT only.
    Skip,
    /// Scale values: masked, log-decoded, gain-divided, time × $TIMESTEP.
    Scale,
    /// Stored values: masked integers and raw floats.
    Raw,
    /// Scale values, except when DATA holds little-endian float32 rows at an
    /// aligned offset: then nothing is decoded and [`Dataset::zero_copy`] is
    /// set, so the caller can view the file's stored values and apply each
    /// channel's [`Scale`] itself.
    ScaleOrView,
}

#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub dataset: usize,
    pub strict: bool,
    pub data: DataMode,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            dataset: 0,
            strict: false,
            data: DataMode::Scale,
        }
    }
}

/// One data set of an FCS file.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub version: String,
    pub keywords: Keywords,
    pub encoding: TextEncoding,
    pub channels: Vec<Channel>,
    pub n_events: usize,
    pub events: Option<Events>,
    pub spillover: Option<Spillover>,
    pub repairs: Vec<Repair>,
    /// Absolute byte offset of this data set's HEADER.
    pub offset: u64,
    /// Absolute first and last byte of DATA actually decoded (None when empty).
    pub data_segment: Option<(u64, u64)>,
    /// Absolute offset of the next data set, if any.
    pub next: Option<u64>,
    pub byte_order: Option<ByteOrder>,
    /// DATA holds stored values as little-endian float32 rows in
    /// `data_segment`, left undecoded for the caller to view; scale values are
    /// those with each channel's `scale` applied.
    pub zero_copy: bool,
}

/// Keywords that change how DATA decodes: a conflicting repeat is an error, not a repair.
fn is_structural(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    const FIXED: [&str; 9] = [
        "$PAR",
        "$TOT",
        "$DATATYPE",
        "$BYTEORD",
        "$MODE",
        "$BEGINDATA",
        "$ENDDATA",
        "$NEXTDATA",
        "$TIMESTEP",
    ];
    if FIXED.contains(&k.as_str()) {
        return true;
    }
    // $PnB, $PnR, $PnE, $PnG, $PnDATATYPE
    if let Some(rest) = k.strip_prefix("$P") {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            let suffix = &rest[digits..];
            return matches!(suffix, "B" | "R" | "E" | "G" | "DATATYPE");
        }
    }
    false
}

fn segment_bytes(buf: &[u8], start: u64, end: u64) -> Option<&[u8]> {
    let s = usize::try_from(start).ok()?;
    let e = usize::try_from(end).ok()?;
    if e < s {
        return None;
    }
    buf.get(s..=e)
}

fn add_pairs(
    kw: &mut Keywords,
    pairs: Vec<(String, String)>,
    ctx: &mut Ctx,
    where_: &str,
) -> Result<()> {
    for (k, v) in pairs {
        let key = k.trim().to_string();
        if key.is_empty() {
            ctx.repair(
                "empty_keyword",
                format!("{where_} has an empty keyword (value {v:?}); ignored it"),
            )?;
            continue;
        }
        if let Some(old) = kw.insert_new(key.clone(), v.clone()) {
            if old.trim() == v.trim() {
                continue;
            }
            if is_structural(&key) {
                return Err(Error::fcs_kw(
                    &key,
                    format!(
                        "{where_} repeats the keyword with a conflicting value ({old:?} then {v:?})"
                    ),
                ));
            }
            ctx.repair(
                "duplicate_keyword",
                format!("{where_} repeats {key} with a different value; kept the first"),
            )?;
        }
    }
    Ok(())
}

/// Parse the primary (and supplemental) TEXT of the data set at `base`.
fn parse_text(
    buf: &[u8],
    base: u64,
    header: &Header,
    ctx: &mut Ctx,
) -> Result<(Keywords, TextEncoding)> {
    let len = buf.len() as u64;
    let (ts, te) = header.text;
    if ts < header::HEADER_LEN as u64 || te <= ts {
        return Err(Error::fcs_at(
            base.saturating_add(10),
            format!("HEADER gives an impossible TEXT segment ({ts}..{te})"),
        ));
    }
    let start = base
        .checked_add(ts)
        .ok_or_else(|| Error::fcs_at(base, "TEXT offset overflows"))?;
    let mut end = base.saturating_add(te);
    if start >= len {
        return Err(Error::fcs_at(
            start,
            format!("TEXT starts at byte {start}, past the end of the file ({len} bytes)"),
        ));
    }
    if end >= len {
        ctx.repair(
            "text_past_end",
            format!("TEXT end offset {end} is past the end of the file; read TEXT up to the end"),
        )?;
        end = len - 1;
    }
    let mut seg = segment_bytes(buf, start, end)
        .ok_or_else(|| Error::fcs_at(start, "TEXT segment cannot be read"))?;
    let Some(&delim) = seg.first() else {
        return Err(Error::fcs_at(start, "TEXT segment is empty"));
    };
    // A TEXT end offset one byte too far shows as a non-delimiter after a delimiter.
    if let [.., third, second, last] = *seg {
        if last != delim && second == delim && (seg.len() == 3 || third != delim) {
            ctx.repair(
                "text_end_off_by_one",
                format!(
                    "TEXT end offset {end} is one byte past the closing delimiter; used {}",
                    end - 1
                ),
            )?;
            seg = seg.split_last().map_or(seg, |(_, rest)| rest);
        }
    }
    let mut repairs = Vec::new();
    let raw = text::tokenize(seg, start, &mut repairs);
    for r in repairs {
        ctx.repair(&r.code, r.message)?;
    }
    let (pairs, mut encoding) = text::decode_pairs(raw);
    let mut kw = Keywords::new();
    add_pairs(&mut kw, pairs, ctx, "TEXT")?;

    // Supplemental TEXT (FCS 3.0+), same delimiter.
    let st = layout::parse_count(&kw, "$BEGINSTEXT")
        .ok()
        .flatten()
        .unwrap_or(0);
    let se = layout::parse_count(&kw, "$ENDSTEXT")
        .ok()
        .flatten()
        .unwrap_or(0);
    if st > 0 && se > st && (st, se) != (ts, te) {
        let (a, b) = (base.saturating_add(st), base.saturating_add(se));
        let overlaps = a <= end && b >= start;
        match segment_bytes(buf, a, b) {
            Some(s) if !overlaps => {
                let mut owned;
                let s = if s.first() == Some(&delim) {
                    s
                } else {
                    owned = vec![delim];
                    owned.extend_from_slice(s);
                    &owned[..]
                };
                let mut repairs = Vec::new();
                let raw = text::tokenize(s, a, &mut repairs);
                for r in repairs {
                    ctx.repair(&r.code, r.message)?;
                }
                let (pairs, enc) = text::decode_pairs(raw);
                if enc == TextEncoding::Latin1 {
                    encoding = enc;
                }
                add_pairs(&mut kw, pairs, ctx, "supplemental TEXT")?;
            }
            _ => ctx.repair(
                "bad_supplemental_text",
                format!(
                    "supplemental TEXT {st}..{se} is outside the file or overlaps TEXT; ignored it"
                ),
            )?,
        }
    }
    if encoding == TextEncoding::Latin1 && header.version.as_str() >= "FCS3.1" {
        ctx.repair(
            "text_not_utf8",
            "TEXT is not valid UTF-8 as FCS 3.1 requires; decoded it as latin-1",
        )?;
    }
    Ok((kw, encoding))
}

/// Where DATA is, and how its rows are laid out.
struct DataPlan {
    start: u64,
    len: u64,
    layout: RowLayout,
    n_events: usize,
}

fn row_bytes(chans: &[Channel]) -> Result<u64> {
    chans.iter().try_fold(0u64, |acc, c| {
        acc.checked_add(decode::storage_bytes(c).unwrap_or(0) as u64)
            .ok_or_else(|| Error::fcs_kw("$PnB", "row size overflows"))
    })
}

/// Choose between the HEADER's and TEXT's DATA offsets and work out the layout.
fn plan_data(
    buf: &[u8],
    base: u64,
    header: &Header,
    kw: &Keywords,
    chans: &[Channel],
    ctx: &mut Ctx,
) -> Result<DataPlan> {
    let file_len = buf.len() as u64;
    let text_off = match (
        layout::parse_count(kw, "$BEGINDATA")?,
        layout::parse_count(kw, "$ENDDATA")?,
    ) {
        (Some(a), Some(b)) if !(a == 0 && b == 0) => Some((a, b)),
        _ => None,
    };
    let tot = layout::parse_count(kw, "$TOT")?;
    let all_ascii = chans.iter().all(|c| c.kind == ValueKind::Ascii);
    let delimited = chans.iter().any(|c| c.bits.is_none());
    let byte_aligned_bits = chans
        .iter()
        .all(|c| c.kind != ValueKind::Uint || c.bits.is_some_and(|b| b % 8 == 0));
    let rb = row_bytes(chans)?;
    let row_bits: u64 = chans.iter().map(|c| c.bits.unwrap_or(0) as u64).sum();

    // Candidates in order of trust: TEXT offsets (exact to the byte, no 8-digit
    // limit), then the HEADER's.
    let mut candidates: Vec<(&str, (u64, u64))> = Vec::new();
    if let Some(t) = text_off {
        candidates.push(("TEXT $BEGINDATA/$ENDDATA", t));
    }
    if let Some(h) = header.data {
        if Some(h) != text_off {
            candidates.push(("HEADER", h));
        }
    }
    if candidates.is_empty() {
        if tot == Some(0) {
            return Ok(DataPlan {
                start: base,
                len: 0,
                layout: RowLayout::Bytes {
                    row_bytes: rb as usize,
                },
                n_events: 0,
            });
        }
        return Err(Error::fcs_at(
            base.saturating_add(26),
            "neither HEADER nor $BEGINDATA/$ENDDATA give the DATA segment",
        ));
    }
    let needed_for = |n: u64, packed: bool| -> Option<u64> {
        if packed {
            n.checked_mul(row_bits).map(|b| b.div_ceil(8))
        } else {
            n.checked_mul(rb)
        }
    };
    let mut last_err = String::new();
    for (i, (src, (s, e))) in candidates.iter().enumerate() {
        let (Some(start), Some(end)) = (base.checked_add(*s), base.checked_add(*e)) else {
            last_err = format!("{src} DATA offsets overflow");
            continue;
        };
        if end < start {
            if tot == Some(0) || (*s == 0 && *e == 0) {
                continue;
            }
            last_err = format!("{src} DATA segment ends ({end}) before it starts ({start})");
            continue;
        }
        if start >= file_len {
            last_err = format!(
                "{src} DATA starts at byte {start}, past the end of the file ({file_len} bytes)"
            );
            continue;
        }
        // `end` may be u64::MAX (a hostile $ENDDATA): the size is checked, never wrapped.
        let declared = (end - start).saturating_add(1);
        let available = declared.min(file_len - start);
        // Work out the layout and the bytes it needs.
        let (layout, n_events, needed) = if all_ascii && delimited {
            let n =
                tot.ok_or_else(|| Error::fcs_kw("$TOT", "required for delimited ASCII data"))?;
            // Every value takes at least one byte: a larger $TOT is a lie, and
            // believing it would size the output by the lie.
            let values = n.saturating_mul(chans.len() as u64);
            if values > available {
                last_err = format!(
                    "{src} DATA segment holds {available} bytes, too few for $TOT={n} × {} \
                     delimited ASCII values",
                    chans.len()
                );
                continue;
            }
            (RowLayout::AsciiDelimited, n, 0)
        } else if rb == 0 {
            return Err(Error::fcs_kw("$PAR", "data set has no parameters"));
        } else if all_ascii {
            let n = tot.unwrap_or(declared / rb);
            (
                RowLayout::AsciiFixed {
                    row_bytes: rb as usize,
                },
                n,
                needed_for(n, false).unwrap_or(u64::MAX),
            )
        } else if chans.iter().any(|c| c.kind == ValueKind::Ascii) {
            return Err(Error::fcs_kw(
                "$PnDATATYPE",
                "ASCII values mixed with binary values in one data set are not supported",
            ));
        } else if byte_aligned_bits {
            let n = match tot {
                Some(n) => n,
                None => {
                    ctx.repair(
                        "missing_tot",
                        format!(
                            "$TOT is missing; counted {} events from the DATA size",
                            declared / rb
                        ),
                    )?;
                    declared / rb
                }
            };
            (
                RowLayout::Bytes {
                    row_bytes: rb as usize,
                },
                n,
                needed_for(n, false).unwrap_or(u64::MAX),
            )
        } else {
            // Integer widths that are not whole bytes: either each value is
            // padded to whole bytes, or (FCS 2.0) values are bit-packed. The
            // DATA size tells which.
            let n = tot.unwrap_or(declared / rb);
            let padded = needed_for(n, false).unwrap_or(u64::MAX);
            let packed = needed_for(n, true).unwrap_or(u64::MAX);
            if declared >= padded || available >= padded {
                (
                    RowLayout::Bytes {
                        row_bytes: rb as usize,
                    },
                    n,
                    padded,
                )
            } else {
                ctx.repair(
                    "bit_packed_data",
                    format!(
                        "$PnB widths are not whole bytes and DATA holds {declared} bytes, the \
                         size of bit-packed values; decoded them as packed, most significant bit first"
                    ),
                )?;
                (RowLayout::Packed { row_bits }, n, packed)
            }
        };
        let n_usize = usize::try_from(n_events)
            .map_err(|_| Error::fcs_kw("$TOT", "event count does not fit in memory"))?;
        if needed > available {
            last_err = format!(
                "{src} DATA segment {start}..{end} holds {available} bytes but $TOT={n_events} × {} \
                 bytes per event needs {needed}{}",
                rb,
                if declared > file_len - start { " (file is truncated)" } else { "" }
            );
            continue;
        }
        if i > 0 {
            ctx.repair(
                "data_offsets_disagree",
                format!("{}; used the HEADER's DATA offsets {s}..{e}", last_err),
            )?;
        } else if candidates.len() > 1 {
            ctx.repair(
                "data_offsets_disagree",
                format!(
                    "HEADER and TEXT disagree on the DATA segment; used $BEGINDATA/$ENDDATA {s}..{e}"
                ),
            )?;
        }
        if declared > needed && !matches!(layout, RowLayout::AsciiDelimited) {
            ctx.repair(
                "data_longer_than_needed",
                format!(
                    "DATA segment is {declared} bytes but {needed} are needed for $TOT={n_events}; \
                     ignored the {} extra byte(s)",
                    declared - needed
                ),
            )?;
        }
        let len = if matches!(layout, RowLayout::AsciiDelimited) {
            available
        } else {
            needed
        };
        return Ok(DataPlan {
            start,
            len,
            layout,
            n_events: n_usize,
        });
    }
    if last_err.is_empty() {
        // Every candidate was a backwards segment ignored because $TOT is 0.
        return Ok(DataPlan {
            start: base,
            len: 0,
            layout: RowLayout::Bytes {
                row_bytes: rb as usize,
            },
            n_events: 0,
        });
    }
    Err(Error::fcs_at(base.saturating_add(26), last_err))
}

/// Pages a memory-mapped DATA segment in ahead of decoding and out behind it.
struct MapPager<'a> {
    map: &'a memmap2::Mmap,
    data_start: usize,
}

impl decode::Pager for MapPager<'_> {
    fn prefetch(&self, start: usize, len: usize) {
        // Advice only: failure (an old kernel) just means ordinary page faults.
        let _ = self
            .map
            .advise_range(memmap2::Advice::PopulateRead, self.data_start + start, len);
    }

    fn release(&self, start: usize, len: usize) {
        // SAFETY: the map is a read-only shared file mapping, so dropping its
        // pages loses nothing (they re-read from the file if touched), and no
        // slice of this window is used after this call.
        let _ = unsafe {
            self.map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                self.data_start + start,
                len,
            )
        };
    }
}

/// Parse one data set starting at absolute offset `base`.
pub fn parse_dataset(buf: &[u8], base: u64, strict: bool, mode: DataMode) -> Result<Dataset> {
    parse_dataset_paged(buf, None, base, strict, mode)
}

/// As [`parse_dataset`], where `buf` is the contents of `map`, which is then
/// paged window by window while DATA decodes.
fn parse_dataset_paged(
    buf: &[u8],
    map: Option<&memmap2::Mmap>,
    base: u64,
    strict: bool,
    mode: DataMode,
) -> Result<Dataset> {
    let mut ctx = Ctx {
        strict,
        repairs: Vec::new(),
    };
    let base_usize = usize::try_from(base).map_err(|_| Error::fcs_at(base, "offset too large"))?;
    let header = parse_header(buf, base_usize)?;
    if !matches!(
        header.version.as_str(),
        "FCS1.0" | "FCS2.0" | "FCS3.0" | "FCS3.1" | "FCS3.2"
    ) {
        ctx.repair(
            "unknown_version",
            format!(
                "unknown FCS version {:?}; read it by the 3.x rules",
                header.version
            ),
        )?;
    }
    let (kw, encoding) = parse_text(buf, base, &header, &mut ctx)?;

    if let Some(m) = kw.get("$MODE") {
        if !m.trim().eq_ignore_ascii_case("L") {
            return Err(Error::fcs_kw(
                "$MODE",
                format!(
                    "data mode {:?} (histogram) is not supported; only list mode (L) is",
                    m.trim()
                ),
            ));
        }
    }
    let n_par = layout::parse_count(&kw, "$PAR")?
        .ok_or_else(|| Error::fcs_kw("$PAR", "required keyword is missing"))?;
    // Each parameter needs at least its $PnB and $PnN keywords; a larger $PAR is a lie.
    if n_par as usize > kw.len() {
        return Err(Error::fcs_kw(
            "$PAR",
            format!(
                "{n_par} parameters declared but TEXT holds only {} keywords",
                kw.len()
            ),
        ));
    }
    let n_par = n_par as usize;
    let channels = layout::channels(&kw, n_par, &mut ctx)?;
    let needs_order = channels
        .iter()
        .any(|c| matches!(c.kind, ValueKind::Uint | ValueKind::F32 | ValueKind::F64));
    let byte_order = match kw.get("$BYTEORD") {
        Some(b) => Some(ByteOrder::parse(b).ok_or_else(|| {
            Error::fcs_kw("$BYTEORD", format!("{:?} is not a byte order", b.trim()))
        })?),
        None if needs_order => {
            return Err(Error::fcs_kw("$BYTEORD", "required keyword is missing"));
        }
        None => None,
    };
    let spillover = match spillover_from_keywords(&kw) {
        Ok(s) => s,
        Err(e) => {
            ctx.repair(
                "bad_spillover",
                format!("{e}; no spillover matrix taken from the file"),
            )?;
            None
        }
    };
    let next = match layout::parse_count(&kw, "$NEXTDATA") {
        Ok(Some(n)) if n > 0 => Some(base.saturating_add(n)),
        Ok(_) => None,
        Err(e) => {
            ctx.repair("bad_nextdata", format!("{e}; treated as the last data set"))?;
            None
        }
    };
    let plan = plan_data(buf, base, &header, &kw, &channels, &mut ctx)?;
    let order = byte_order.clone().unwrap_or(ByteOrder::Little);
    let data_segment = (plan.len > 0).then(|| (plan.start, plan.start + plan.len - 1));
    // A view must be 4-byte aligned: an unaligned float32 slice is undefined
    // behaviour for any Rust kernel that later reads it. Scaled channels (a
    // Time channel with $TIMESTEP, a $PnG gain) do not prevent a view: the
    // kernels apply each channel's scale as they read (Sample::rescaled), and
    // a decoded copy is made only if someone asks for the scale values.
    let viewable = matches!(plan.layout, RowLayout::Bytes { .. })
        && plan.start % 4 == 0
        && byte_order == Some(ByteOrder::Little)
        && channels.iter().all(|c| c.kind == ValueKind::F32);
    let zero_copy = mode == DataMode::ScaleOrView && viewable;
    let events = match mode {
        DataMode::Skip => None,
        DataMode::ScaleOrView if zero_copy => None,
        DataMode::Scale | DataMode::Raw | DataMode::ScaleOrView => {
            let bytes = match data_segment {
                Some((s, e)) => segment_bytes(buf, s, e)
                    .ok_or_else(|| Error::fcs_at(s, "DATA segment cannot be read"))?,
                None => &[][..],
            };
            let map_pager;
            let pager: &dyn decode::Pager = match map {
                Some(m) => {
                    map_pager = MapPager {
                        map: m,
                        data_start: plan.start as usize,
                    };
                    &map_pager
                }
                None => &decode::NoPaging,
            };
            let seg = decode::Segment {
                bytes,
                start: plan.start,
                n_events: plan.n_events,
                layout: &plan.layout,
                order: &order,
            };
            Some(decode::decode(
                &seg,
                &channels,
                mode != DataMode::Raw,
                pager,
            )?)
        }
    };
    Ok(Dataset {
        version: header.version,
        keywords: kw,
        encoding,
        channels,
        n_events: plan.n_events,
        events,
        spillover,
        repairs: ctx.repairs,
        offset: base,
        data_segment,
        next,
        byte_order,
        zero_copy,
    })
}

/// Offsets of every data set in a file (following `$NEXTDATA`, bounded and loop-free).
pub fn dataset_offsets(buf: &[u8], strict: bool) -> Result<Vec<u64>> {
    let mut out = vec![0u64];
    let mut cur = 0u64;
    // Data sets of a sound file do not overlap, so their TEXT segments add up
    // to less than the file. A hostile chain of data sets whose TEXTs all span
    // the rest of the file would make this loop quadratic: stop it early.
    let budget = (buf.len() as u64).saturating_mul(2);
    let mut text_bytes = 0u64;
    loop {
        let cur_usize = usize::try_from(cur).map_err(|_| Error::fcs_at(cur, "offset too large"))?;
        let (ts, te) = parse_header(buf, cur_usize)?.text;
        let te = te.min((buf.len() as u64).saturating_sub(cur));
        text_bytes = text_bytes.saturating_add(te.saturating_sub(ts));
        if text_bytes > budget {
            return Err(Error::fcs_kw(
                "$NEXTDATA",
                format!("the data set at byte {cur} overlaps the data sets before it"),
            ));
        }
        let ds = parse_dataset(buf, cur, strict, DataMode::Skip)?;
        match ds.next {
            Some(n) if n > cur && n < buf.len() as u64 => {
                out.push(n);
                cur = n;
            }
            Some(n) if n <= cur => {
                return Err(Error::fcs_kw(
                    "$NEXTDATA",
                    format!("points backwards (to byte {n}) from the data set at byte {cur}"),
                ))
            }
            Some(n) => {
                if strict {
                    return Err(Error::fcs_kw(
                        "$NEXTDATA",
                        format!("points past the end of the file (byte {n})"),
                    ));
                }
                break;
            }
            None => break,
        }
    }
    Ok(out)
}

/// Parse data set `opts.dataset` of an in-memory file.
pub fn read_bytes(buf: &[u8], opts: &ReadOptions) -> Result<Dataset> {
    read_impl(buf, None, opts)
}

fn read_impl(buf: &[u8], map: Option<&memmap2::Mmap>, opts: &ReadOptions) -> Result<Dataset> {
    let base = if opts.dataset == 0 {
        0
    } else {
        let offs = dataset_offsets(buf, opts.strict)?;
        *offs.get(opts.dataset).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "dataset={} requested but the file holds {} data set(s)",
                opts.dataset,
                offs.len()
            ))
        })?
    };
    parse_dataset_paged(buf, map, base, opts.strict, opts.data)
}

/// Open a regular file for reading: the file, its length, and its name for
/// errors (a directory is an error naming it).
pub(crate) fn open_file(path: &Path) -> Result<(std::fs::File, u64, String)> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::io(&name, e))?;
    let meta = file.metadata().map_err(|e| Error::io(&name, e))?;
    if meta.is_dir() {
        return Err(Error::io(
            &name,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        ));
    }
    Ok((file, meta.len(), name))
}

/// Memory-map a file read-only.
pub fn map_file(path: &Path) -> Result<memmap2::Mmap> {
    let (file, len, name) = open_file(path)?;
    if len == 0 {
        return Err(Error::fcs("file is empty").with_path(&name));
    }
    // SAFETY: the map is read-only; a file truncated by another process while
    // mapped is outside what any reader can defend against.
    unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&name, e))
}

/// Read one data set of the file at `path`.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<Dataset> {
    let name = path.display().to_string();
    let map = map_file(path)?;
    read_impl(&map, Some(&map), opts).map_err(|e| e.with_path(&name))
}

/// Read every data set of the file at `path`.
pub fn read_path_all(path: &Path, strict: bool, mode: DataMode) -> Result<Vec<Dataset>> {
    let name = path.display().to_string();
    let map = map_file(path)?;
    let offs = dataset_offsets(&map, strict).map_err(|e| e.with_path(&name))?;
    offs.into_iter()
        .map(|o| {
            parse_dataset_paged(&map, Some(&map), o, strict, mode).map_err(|e| e.with_path(&name))
        })
        .collect()
}
