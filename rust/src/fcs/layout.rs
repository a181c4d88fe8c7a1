//! From keywords to a decoding plan: per-channel storage (type, width, byte
//! order, bit mask) and per-channel scaling to Gating-ML "scale values".

use super::Ctx;
use crate::error::{Error, Result};
use crate::fcs::text::Keywords;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Unsigned integer ($DATATYPE I).
    Uint,
    /// IEEE float32 ($DATATYPE F).
    F32,
    /// IEEE float64 ($DATATYPE D).
    F64,
    /// ASCII text ($DATATYPE A).
    Ascii,
}

impl ValueKind {
    pub fn code(self) -> &'static str {
        match self {
            ValueKind::Uint => "I",
            ValueKind::F32 => "F",
            ValueKind::F64 => "D",
            ValueKind::Ascii => "A",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "I" => Some(ValueKind::Uint),
            "F" => Some(ValueKind::F32),
            "D" => Some(ValueKind::F64),
            "A" => Some(ValueKind::Ascii),
            _ => None,
        }
    }
}

/// `$BYTEORD`: the significance (0 = least) of each stored byte of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
    /// An old mixed order such as `3,4,1,2`, valid only for values of exactly its length.
    Mixed(Vec<u8>),
}

impl ByteOrder {
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Option<Vec<u8>> = s.split(',').map(|p| p.trim().parse::<u8>().ok()).collect();
        let parts = parts?;
        let n = parts.len();
        if n == 0 || n > 8 {
            return None;
        }
        // Must be a permutation of 1..=n.
        let mut seen = [false; 8];
        for &p in &parts {
            let slot = (p as usize)
                .checked_sub(1)
                .filter(|&i| i < n)
                .and_then(|i| seen.get_mut(i));
            match slot {
                Some(s) if !*s => *s = true,
                _ => return None,
            }
        }
        if parts.iter().enumerate().all(|(i, &p)| p as usize == i + 1) {
            Some(ByteOrder::Little)
        } else if parts.iter().enumerate().all(|(i, &p)| p as usize == n - i) {
            Some(ByteOrder::Big)
        } else {
            Some(ByteOrder::Mixed(parts.into_iter().map(|p| p - 1).collect()))
        }
    }
}

/// What turns a stored value into a scale value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Identity,
    /// Linear amplifier gain: value / gain.
    Gain(f64),
    /// `$PnE f1,f2` log amplifier: f2 * 10^(f1 * value / range).
    Log {
        decades: f64,
        offset: f64,
        range: f64,
    },
    /// Time channel: value * `$TIMESTEP`.
    TimeStep(f64),
}

impl Scale {
    /// Whether the scale never reverses the order of two values, so that the
    /// value at a rank of scaled data is the scaled value at that rank of the
    /// raw data (rounding to the stored width is monotone too), and a NaN
    /// comes only from a NaN.
    pub fn is_increasing(self) -> bool {
        let pos = |x: f64| x.is_finite() && x > 0.0;
        match self {
            Scale::Identity => true,
            Scale::Gain(g) => pos(g),
            Scale::TimeStep(t) => pos(t),
            Scale::Log {
                decades,
                offset,
                range,
            } => pos(decades) && pos(offset) && pos(range),
        }
    }

    #[inline(always)]
    pub fn apply(self, v: f64) -> f64 {
        match self {
            Scale::Identity => v,
            Scale::Gain(g) => v / g,
            Scale::Log {
                decades,
                offset,
                range,
            } => 10f64.powf(decades * v / range) * offset,
            Scale::TimeStep(t) => v * t,
        }
    }
}

/// Everything known about one parameter.
#[derive(Debug, Clone)]
pub struct Channel {
    pub name: String,
    pub marker: String,
    pub kind: ValueKind,
    /// `$PnB` as declared (None for delimited ASCII, `*`).
    pub bits: Option<u32>,
    pub range: Option<f64>,
    pub scale: Scale,
    pub is_time: bool,
    /// Bits kept from each stored integer (from `$PnR`, as the standard says).
    pub mask: u64,
}

pub(crate) fn param_kw(n: usize, suffix: &str) -> String {
    format!("$P{n}{suffix}")
}

fn parse_f64(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

pub(crate) fn parse_count(kw: &Keywords, key: &str) -> Result<Option<u64>> {
    match kw.get(key) {
        None => Ok(None),
        Some(v) => {
            let t = v.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<u64>().map(Some).map_err(|_| {
                Error::fcs_kw(key, format!("value {t:?} is not a non-negative integer"))
            })
        }
    }
}

/// The `$PnR` bit mask: the next power of two at or above the range, minus one.
fn range_mask(range: Option<f64>, storage_bits: u32) -> u64 {
    let storage = if storage_bits >= 64 {
        u64::MAX
    } else {
        (1u64 << storage_bits) - 1
    };
    match range {
        Some(r) if r > 1.0 && r < 1.8e19 => {
            let p = (r.ceil() as u64).checked_next_power_of_two();
            match p {
                Some(p) => (p - 1) & storage,
                None => storage,
            }
        }
        _ => storage,
    }
}

/// Build the channel table from the keywords.
pub(crate) fn channels(kw: &Keywords, n_par: usize, ctx: &mut Ctx) -> Result<Vec<Channel>> {
    let default_kind = kw.get("$DATATYPE").and_then(ValueKind::parse);
    if let Some(dt) = kw.get("$DATATYPE") {
        if default_kind.is_none() {
            return Err(Error::fcs_kw(
                "$DATATYPE",
                format!("unknown data type {:?} (expected I, F, D or A)", dt.trim()),
            ));
        }
    }
    let timestep = timestep(kw, ctx)?;
    let mut out = Vec::with_capacity(n_par);
    for n in 1..=n_par {
        let name_kw = param_kw(n, "N");
        let name = match kw.get(&name_kw).map(str::trim) {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => {
                ctx.repair(
                    "missing_channel_name",
                    format!("{name_kw} is missing; named the channel P{n}"),
                )?;
                format!("P{n}")
            }
        };
        let marker = kw
            .get(&param_kw(n, "S"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let kind_kw = param_kw(n, "DATATYPE");
        let kind = match kw.get(&kind_kw) {
            Some(s) => ValueKind::parse(s).ok_or_else(|| {
                Error::fcs_kw(&kind_kw, format!("unknown data type {:?}", s.trim()))
            })?,
            None => default_kind.ok_or_else(|| Error::fcs_kw("$DATATYPE", "missing"))?,
        };
        let bits_kw = param_kw(n, "B");
        let bits = match kw.get(&bits_kw).map(str::trim) {
            Some("*") if kind == ValueKind::Ascii => None,
            Some(s) => {
                let b: u32 = s.parse().map_err(|_| {
                    Error::fcs_kw(&bits_kw, format!("bit width {s:?} is not an integer"))
                })?;
                Some(b)
            }
            None => return Err(Error::fcs_kw(&bits_kw, "required keyword is missing")),
        };
        let bits = check_bits(kind, bits, &bits_kw, ctx)?;
        let range = kw.get(&param_kw(n, "R")).and_then(parse_f64);
        let is_time = name.eq_ignore_ascii_case("time")
            || kw
                .get(&param_kw(n, "TYPE"))
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("time"));
        let scale = channel_scale(kw, n, kind, range, is_time, timestep, ctx)?;
        let mask = match (kind, bits) {
            (ValueKind::Uint, Some(b)) => range_mask(range, b),
            _ => u64::MAX,
        };
        out.push(Channel {
            name,
            marker,
            kind,
            bits,
            range,
            scale,
            is_time,
            mask,
        });
    }
    dedupe_names(&mut out, ctx)?;
    Ok(out)
}

fn check_bits(kind: ValueKind, bits: Option<u32>, key: &str, ctx: &mut Ctx) -> Result<Option<u32>> {
    let Some(b) = bits else { return Ok(None) };
    match kind {
        ValueKind::Uint if (1..=64).contains(&b) => Ok(Some(b)),
        ValueKind::Uint => Err(Error::fcs_kw(
            key,
            format!("integer bit width {b} is outside 1..=64"),
        )),
        ValueKind::F32 if b == 32 => Ok(Some(32)),
        ValueKind::F64 if b == 64 => Ok(Some(64)),
        ValueKind::F32 | ValueKind::F64 => {
            let want = if kind == ValueKind::F32 { 32 } else { 64 };
            ctx.repair(
                "float_bit_width",
                format!(
                    "{key} is {b} for $DATATYPE {}, which is always {want} bits; used {want}",
                    kind.code()
                ),
            )?;
            Ok(Some(want))
        }
        ValueKind::Ascii if (1..=64).contains(&b) => Ok(Some(b)),
        ValueKind::Ascii => Err(Error::fcs_kw(
            key,
            format!("ASCII field width {b} is outside 1..=64"),
        )),
    }
}

fn timestep(kw: &Keywords, ctx: &mut Ctx) -> Result<Option<f64>> {
    let Some(raw) = kw.get("$TIMESTEP") else {
        return Ok(None);
    };
    match parse_f64(raw) {
        Some(t) if t > 0.0 => Ok(Some(t)),
        _ => {
            ctx.repair(
                "timestep_not_numeric",
                format!(
                    "$TIMESTEP value {:?} is not a positive number; time left unscaled",
                    raw.trim()
                ),
            )?;
            Ok(None)
        }
    }
}

fn channel_scale(
    kw: &Keywords,
    n: usize,
    kind: ValueKind,
    range: Option<f64>,
    is_time: bool,
    timestep: Option<f64>,
    ctx: &mut Ctx,
) -> Result<Scale> {
    if is_time {
        // Time is scaled by $TIMESTEP only; a gain on the time channel is an
        // instrument artefact that no reader applies.
        return Ok(timestep.map_or(Scale::Identity, Scale::TimeStep));
    }
    let e_kw = param_kw(n, "E");
    let (decades, offset) = match kw.get(&e_kw) {
        None => (0.0, 0.0),
        Some(v) => {
            let parts: Vec<&str> = v.split(',').collect();
            match parts.as_slice() {
                [a, b] => match (parse_f64(a), parse_f64(b)) {
                    (Some(a), Some(b)) if a >= 0.0 => (a, b),
                    _ => {
                        ctx.repair(
                            "bad_amplification",
                            format!("{e_kw} value {v:?} is not two numbers; treated as linear"),
                        )?;
                        (0.0, 0.0)
                    }
                },
                _ => {
                    ctx.repair(
                        "bad_amplification",
                        format!("{e_kw} value {v:?} is not of the form f1,f2; treated as linear"),
                    )?;
                    (0.0, 0.0)
                }
            }
        }
    };
    if decades > 0.0 {
        if kind != ValueKind::Uint && kind != ValueKind::Ascii {
            ctx.repair(
                "log_amplification_on_float",
                format!(
                    "{e_kw} declares log amplification for floating-point data, which is stored \
                     linear; ignored it"
                ),
            )?;
            return Ok(Scale::Identity);
        }
        let Some(r) = range.filter(|r| *r > 0.0) else {
            return Err(Error::fcs_kw(
                &param_kw(n, "R"),
                "log-amplified channel needs a positive range",
            ));
        };
        // The standard: f2 = 0 with f1 > 0 means an offset of 1.
        let offset = if offset == 0.0 { 1.0 } else { offset };
        return Ok(Scale::Log {
            decades,
            offset,
            range: r,
        });
    }
    let g_kw = param_kw(n, "G");
    match kw.get(&g_kw) {
        None => Ok(Scale::Identity),
        Some(g) => match parse_f64(g) {
            Some(1.0) => Ok(Scale::Identity),
            Some(g) if g != 0.0 => Ok(Scale::Gain(g)),
            _ => {
                ctx.repair(
                    "bad_gain",
                    format!(
                        "{g_kw} value {:?} is not a non-zero number; ignored it",
                        g.trim()
                    ),
                )?;
                Ok(Scale::Identity)
            }
        },
    }
}

/// Rename repeated channel names to `name_2`, `name_3`, ... In linear time:
/// a hostile file can declare thousands of parameters with one name.
fn dedupe_names(chans: &mut [Channel], ctx: &mut Ctx) -> Result<()> {
    use std::collections::{HashMap, HashSet};
    // Every name as declared, so a rename never takes a later channel's name.
    let declared: HashSet<String> = chans.iter().map(|c| c.name.clone()).collect();
    let mut taken: HashSet<String> = HashSet::with_capacity(chans.len());
    let mut next_suffix: HashMap<String, u64> = HashMap::new();
    for (i, chan) in chans.iter_mut().enumerate() {
        if taken.insert(chan.name.clone()) {
            continue;
        }
        let k = next_suffix.entry(chan.name.clone()).or_insert(2);
        let mut candidate = format!("{}_{k}", chan.name);
        while taken.contains(&candidate) || declared.contains(&candidate) {
            *k = k.saturating_add(1);
            candidate = format!("{}_{k}", chan.name);
        }
        *k = k.saturating_add(1);
        ctx.repair(
            "duplicate_channel_name",
            format!(
                "channel name {:?} is used more than once; renamed parameter {} to {candidate:?}",
                chan.name,
                i + 1
            ),
        )?;
        taken.insert(candidate.clone());
        chan.name = candidate;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_orders() {
        assert_eq!(ByteOrder::parse("1,2,3,4"), Some(ByteOrder::Little));
        assert_eq!(ByteOrder::parse("4,3,2,1"), Some(ByteOrder::Big));
        assert_eq!(ByteOrder::parse("1,2"), Some(ByteOrder::Little));
        assert_eq!(ByteOrder::parse("2,1"), Some(ByteOrder::Big));
        assert_eq!(
            ByteOrder::parse("3,4,1,2"),
            Some(ByteOrder::Mixed(vec![2, 3, 0, 1]))
        );
        assert_eq!(ByteOrder::parse("1,1,2,3"), None);
        assert_eq!(ByteOrder::parse("x"), None);
        assert_eq!(ByteOrder::parse("1,2,3,9"), None);
    }

    #[test]
    fn masks() {
        assert_eq!(range_mask(Some(1024.0), 16), 1023);
        assert_eq!(range_mask(Some(11_209_599.0), 32), (1 << 24) - 1);
        assert_eq!(range_mask(Some(16_777_216.0), 32), (1 << 24) - 1);
        assert_eq!(range_mask(Some(262_144.0), 16), 0xFFFF);
        assert_eq!(range_mask(None, 16), 0xFFFF);
        assert_eq!(range_mask(Some(1e30), 64), u64::MAX);
    }
}
