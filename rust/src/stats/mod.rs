//! Per-population, per-channel statistics.
//!
//! Definitions (the Python docstrings repeat them):
//! - mean: arithmetic mean; sd: sample standard deviation (n − 1); cv = 100·sd/mean.
//! - geomean: exp(mean(ln x)) over the values x > 0 only (values ≤ 0 are left
//!   out; NaN when none is positive).
//! - median and any percentile q: numpy's default linear interpolation between
//!   the order statistics at rank (n − 1)·q/100, found by selection, not sorting.
//! - rsd (FlowJo's robust SD) = (P84.13 − P15.87)/2; rcv = 100·rsd/median.
//! - mad: median(|x − median|), unscaled.
//! - min, max. Any NaN in a population's values makes every statistic but the
//!   count NaN for that channel (as numpy's do); an empty population gives NaN.

mod bracket;
mod fused;
mod lanes;
mod membership;
mod moments;
mod pass;
mod rows;
mod select;
#[cfg(test)]
mod tests_fast;

use rayon::prelude::*;

use crate::compensation::apply::Sample;
use crate::error::{Error, Result};
use crate::fcs::Scale;
use crate::gating::Members;

pub use membership::Pop;
use moments::Need;
use rows::Source;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stat {
    Mean,
    Sd,
    Cv,
    Geomean,
    Median,
    Rsd,
    Rcv,
    Mad,
    Min,
    Max,
}

impl Stat {
    pub fn parse(s: &str) -> Option<Stat> {
        Some(match s {
            "mean" => Stat::Mean,
            "sd" => Stat::Sd,
            "cv" => Stat::Cv,
            "geomean" => Stat::Geomean,
            "median" => Stat::Median,
            "rsd" => Stat::Rsd,
            "rcv" => Stat::Rcv,
            "mad" => Stat::Mad,
            "min" => Stat::Min,
            "max" => Stat::Max,
            _ => return None,
        })
    }
}

/// What to compute for every (population, channel).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub stats: Vec<Stat>,
    /// Extra percentiles (0..=100), reported after `stats` in this order.
    pub percentiles: Vec<f64>,
}

impl Request {
    fn validate(&self) -> Result<()> {
        if let Some(q) = self
            .percentiles
            .iter()
            .find(|q| !(0.0..=100.0).contains(*q))
        {
            return Err(Error::InvalidArgument(format!(
                "percentile {q} is outside 0..=100"
            )));
        }
        Ok(())
    }

    pub fn width(&self) -> usize {
        self.stats.len() + self.percentiles.len()
    }
}

/// numpy's `_lerp`: exact at both ends, symmetric about t = 0.5.
#[inline]
pub(crate) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// Order-preserving map of an f64 onto a u64 (the IEEE total order).
#[inline(always)]
pub(crate) fn key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// A sample type with a signed integer key of its own width that orders like
/// the values (the IEEE total order): `f32` data is compared on `i32` lanes,
/// never widened to `f64` first, so a row of 16 values is 16 SIMD lanes.
pub trait OrderKey: Sample + Default + 'static {
    type Lane: Copy + Ord + Send + Sync + Default + std::fmt::Debug + Into<i64> + 'static;
    /// Below and above every value's lane (only a NaN's lane can equal them).
    const LANE_MIN: Self::Lane;
    const LANE_MAX: Self::Lane;
    /// Order-preserving map onto a signed integer.
    fn lane(self) -> Self::Lane;
    /// The value a lane came from, as f64.
    fn from_lane(l: Self::Lane) -> f64;
    fn is_nan_value(self) -> bool;
}

impl OrderKey for f32 {
    type Lane = i32;
    const LANE_MIN: i32 = i32::MIN;
    const LANE_MAX: i32 = i32::MAX;
    #[inline(always)]
    fn lane(self) -> i32 {
        // Negative values: flip every bit but the sign, so that a larger
        // magnitude orders lower. The map is its own inverse.
        let b = self.to_bits() as i32;
        b ^ (((b >> 31) as u32) >> 1) as i32
    }
    #[inline(always)]
    fn from_lane(l: i32) -> f64 {
        f32::from_bits((l ^ (((l >> 31) as u32) >> 1) as i32) as u32) as f64
    }
    #[inline(always)]
    fn is_nan_value(self) -> bool {
        self.is_nan()
    }
}

impl OrderKey for f64 {
    type Lane = i64;
    const LANE_MIN: i64 = i64::MIN;
    const LANE_MAX: i64 = i64::MAX;
    #[inline(always)]
    fn lane(self) -> i64 {
        let b = self.to_bits() as i64;
        b ^ (((b >> 63) as u64) >> 1) as i64
    }
    #[inline(always)]
    fn from_lane(l: i64) -> f64 {
        f64::from_bits((l ^ (((l >> 63) as u64) >> 1) as i64) as u64)
    }
    #[inline(always)]
    fn is_nan_value(self) -> bool {
        self.is_nan()
    }
}

/// Below this many members a population gathers each column and selects in
/// it; from this many on it joins the shared pass over the events.
pub(crate) const RADIX_MIN: usize = 8192;

/// The values at the given sorted, distinct ranks of `v` (reordered in place).
///
/// Large inputs use one histogram pass over the top 16 bits of [`key`], then
/// select only inside the buckets that hold a wanted rank (a few percent of
/// the values), so k quantiles cost about two passes rather than k selections.
fn order_statistics(v: &mut [f64], ranks: &[usize]) -> Vec<f64> {
    if v.len() < RADIX_MIN {
        let mut out = Vec::with_capacity(ranks.len());
        let mut start = 0usize;
        for &r in ranks {
            if r >= start {
                v[start..].select_nth_unstable_by(r - start, f64::total_cmp);
                start = r + 1;
            }
            out.push(v[r]);
        }
        return out;
    }
    let mut hist = vec![0usize; 1 << 16];
    for &x in v.iter() {
        hist[(key(x) >> 48) as usize] += 1;
    }
    // For each rank: its bucket and its position inside the bucket.
    let mut where_: Vec<(usize, usize)> = Vec::with_capacity(ranks.len());
    let (mut bucket, mut below) = (0usize, 0usize);
    for &r in ranks {
        while below + hist[bucket] <= r {
            below += hist[bucket];
            bucket += 1;
        }
        where_.push((bucket, r - below));
    }
    let mut wanted: Vec<usize> = where_.iter().map(|w| w.0).collect();
    wanted.dedup();
    let mut members: Vec<Vec<f64>> = wanted
        .iter()
        .map(|&b| Vec::with_capacity(hist[b]))
        .collect();
    for &x in v.iter() {
        let b = (key(x) >> 48) as usize;
        if let Ok(i) = wanted.binary_search(&b) {
            members[i].push(x);
        }
    }
    where_
        .iter()
        .map(|&(b, off)| {
            let i = wanted.binary_search(&b).unwrap_or(0);
            let m = &mut members[i];
            *m.select_nth_unstable_by(off, f64::total_cmp).1
        })
        .collect()
}

/// numpy's median from the two middle order statistics: the middle value, or
/// the mean of the two middle values (not the interpolation `percentile` does,
/// which differs for infinities and by an ulp).
#[inline]
pub(crate) fn numpy_median(a: f64, b: f64, lo: usize, hi: usize) -> f64 {
    if lo == hi {
        a
    } else {
        (a + b) / 2.0
    }
}

/// Percentiles of `v` (reordered in place), numpy's linear interpolation; the
/// entry at `median_at` (a 50) follows `numpy.median` instead.
fn percentiles(v: &mut [f64], qs: &[f64], median_at: Option<usize>) -> Vec<f64> {
    let n = v.len();
    if n == 0 {
        return vec![f64::NAN; qs.len()];
    }
    let bounds = quantile_bounds(n, qs, median_at);
    let ranks = ranks_of(&bounds);
    let values = order_statistics(v, &ranks);
    interpolate(&bounds, &ranks, &values, median_at)
}

/// For each quantile of n values: the two order statistics it needs and the
/// weight between them, as numpy computes them: rank h = (n - 1) q / 100,
/// `lo = floor(h)`, `hi = lo + 1` (so an infinite neighbour gives NaN even at
/// weight 0, as in numpy), and for the median entry floor/ceil as
/// `numpy.median` takes them.
pub(crate) fn quantile_bounds(
    n: usize,
    qs: &[f64],
    median_at: Option<usize>,
) -> Vec<(usize, usize, f64)> {
    qs.iter()
        .enumerate()
        .map(|(i, &q)| {
            let h = (n - 1) as f64 * q / 100.0;
            let lo = h.floor() as usize;
            let hi = if Some(i) == median_at {
                h.ceil() as usize
            } else {
                lo + 1
            };
            (lo, hi.min(n - 1), h - lo as f64)
        })
        .collect()
}

/// The distinct ranks the bounds need, ascending.
pub(crate) fn ranks_of(bounds: &[(usize, usize, f64)]) -> Vec<usize> {
    let mut ranks: Vec<usize> = bounds.iter().flat_map(|&(lo, hi, _)| [lo, hi]).collect();
    ranks.sort_unstable();
    ranks.dedup();
    ranks
}

/// Quantile values from the order statistics `values` at `ranks`.
pub(crate) fn interpolate(
    bounds: &[(usize, usize, f64)],
    ranks: &[usize],
    values: &[f64],
    median_at: Option<usize>,
) -> Vec<f64> {
    let at = |r: usize| values[ranks.binary_search(&r).unwrap_or(0)];
    bounds
        .iter()
        .enumerate()
        .map(|(i, &(lo, hi, t))| {
            if Some(i) == median_at {
                numpy_median(at(lo), at(hi), lo, hi)
            } else {
                lerp(at(lo), at(hi), t)
            }
        })
        .collect()
}

/// Which order statistics a request needs, as percentiles in a fixed order:
/// the median (if needed), P15.87 and P84.13 (if needed), then the extras.
pub(crate) struct Quantiles {
    pub median: bool,
    pub robust: bool,
    pub qs: Vec<f64>,
}

impl Quantiles {
    pub(crate) fn of(req: &Request) -> Self {
        let has = |s: Stat| req.stats.contains(&s);
        let median = has(Stat::Median) || has(Stat::Mad) || has(Stat::Rcv);
        let robust = has(Stat::Rsd) || has(Stat::Rcv);
        let mut qs = Vec::new();
        if median {
            qs.push(50.0);
        }
        if robust {
            qs.extend([15.87, 84.13]);
        }
        qs.extend_from_slice(&req.percentiles);
        Quantiles { median, robust, qs }
    }
}

/// Everything a column's statistics are assembled from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub nan: bool,
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub geomean: f64,
    pub min: f64,
    pub max: f64,
    /// Values of [`Quantiles::qs`], in order.
    pub quantiles: Vec<f64>,
    pub mad: f64,
}

/// The requested statistics, in request order, from a summary.
pub(crate) fn assemble(req: &Request, q: &Quantiles, s: &Summary) -> Vec<f64> {
    if s.nan || s.n == 0 {
        return vec![f64::NAN; req.width()];
    }
    let mut it = s.quantiles.iter().copied();
    let median = if q.median {
        it.next().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    };
    let (p16, p84) = if q.robust {
        (it.next().unwrap_or(f64::NAN), it.next().unwrap_or(f64::NAN))
    } else {
        (f64::NAN, f64::NAN)
    };
    let rsd = (p84 - p16) / 2.0;
    let mut out: Vec<f64> = req
        .stats
        .iter()
        .map(|st| match st {
            Stat::Mean => s.mean,
            Stat::Sd => s.sd,
            Stat::Cv => 100.0 * s.sd / s.mean,
            Stat::Geomean => s.geomean,
            Stat::Median => median,
            Stat::Rsd => rsd,
            Stat::Rcv => 100.0 * rsd / median,
            Stat::Mad => s.mad,
            Stat::Min => s.min,
            Stat::Max => s.max,
        })
        .collect();
    out.extend(it);
    out
}

/// Summary of one column's values gathered into `v` (reordered in place).
fn column_summary(v: &mut [f64], req: &Request, q: &Quantiles) -> Summary {
    let n = v.len();
    if n == 0 || v.iter().any(|x| x.is_nan()) {
        return Summary {
            nan: true,
            n,
            ..Summary::default()
        };
    }
    let has = |s: Stat| req.stats.contains(&s);
    let nf = n as f64;
    let mean = v.iter().sum::<f64>() / nf;
    let sd = if n > 1 {
        (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (nf - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    // ln of every value is costly: only when asked.
    let geomean = if has(Stat::Geomean) {
        geomean_of(v.iter().copied())
    } else {
        f64::NAN
    };
    let (min, max) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let quantiles = if q.qs.is_empty() {
        Vec::new()
    } else {
        percentiles(v, &q.qs, q.median.then_some(0))
    };
    let mad = if has(Stat::Mad) {
        let median = quantiles.first().copied().unwrap_or(f64::NAN);
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        percentiles(&mut dev, &[50.0], Some(0))[0]
    } else {
        f64::NAN
    };
    Summary {
        nan: false,
        n,
        mean,
        sd,
        geomean,
        min,
        max,
        quantiles,
        mad,
    }
}

/// exp(mean(ln x)) over x > 0; NaN when none is positive.
pub(crate) fn geomean_of(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut logsum, mut npos) = (0.0, 0usize);
    for x in xs.filter(|&x| x > 0.0) {
        logsum += x.ln();
        npos += 1;
    }
    if npos > 0 {
        (logsum / npos as f64).exp()
    } else {
        f64::NAN
    }
}

/// Statistics for every population × column. `values` is row-major n × p;
/// `populations` are sorted member lists (`None` = every event); `columns`
/// index into the rows; `scales` (empty, or one per matrix column) are the
/// columns' FCS scales, applied to each value read (`values` are then the
/// file's own numbers). Returns, per population, per column, `req.width()`
/// values. Every sum runs in a fixed order, so results are identical on any
/// thread count.
pub fn compute<T: OrderKey>(
    values: &[T],
    p: usize,
    populations: &[Option<&[u32]>],
    columns: &[usize],
    req: &Request,
    scales: &[Scale],
) -> Result<Vec<Vec<Vec<f64>>>> {
    let n = check_shape(values.len(), p, columns, req, scales)?;
    for pop in populations.iter().flatten() {
        if pop.last().is_some_and(|&i| i as usize >= n) {
            return Err(Error::InvalidArgument(
                "population refers past the last event".into(),
            ));
        }
        // Sorted and distinct (classification relies on it), so the last
        // member is the largest. Checked in parallel pieces that overlap by
        // one member.
        let sorted = pop.par_chunks(1 << 16).enumerate().all(|(ci, c)| {
            let prev = (ci > 0).then(|| pop[ci * (1 << 16) - 1]);
            prev.is_none_or(|p| p < c[0]) && c.windows(2).all(|w| w[0] < w[1])
        });
        if !sorted {
            return Err(Error::InvalidArgument(
                "population members are not sorted and distinct".into(),
            ));
        }
    }
    let pops: Vec<Pop<'_>> = populations
        .iter()
        .map(|m| m.map_or(Pop::All, Pop::Sorted))
        .collect();
    Ok(compute_pops(values, p, &pops, columns, req, scales))
}

/// [`compute`] for nodes of a gating result (`members`, evaluated on these
/// `values`): populations whose statistics need their members one by one
/// (small ones, MAD, geometric mean, moments) are unpacked into lists; the
/// others are classified straight from the bits.
pub fn compute_members<T: OrderKey>(
    values: &[T],
    p: usize,
    members: &Members,
    nodes: &[usize],
    columns: &[usize],
    req: &Request,
    scales: &[Scale],
) -> Result<Vec<Vec<Vec<f64>>>> {
    let n = check_shape(values.len(), p, columns, req, scales)?;
    if members.n_events() != n {
        return Err(Error::InvalidArgument(format!(
            "gating members of {} events for {n} events",
            members.n_events()
        )));
    }
    if let Some(&g) = nodes.iter().find(|&&g| g >= members.nodes()) {
        return Err(Error::InvalidArgument(format!(
            "node {g} is outside 0..{}",
            members.nodes()
        )));
    }
    let one_by_one = [
        Stat::Mean,
        Stat::Sd,
        Stat::Cv,
        Stat::Min,
        Stat::Max,
        Stat::Mad,
        Stat::Geomean,
    ]
    .iter()
    .any(|s| req.stats.contains(s));
    let lists: Vec<Option<Vec<u32>>> = nodes
        .par_iter()
        .map(|&g| (one_by_one || members.count(g) < RADIX_MIN).then(|| members.indices(g)))
        .collect();
    let pops: Vec<Pop<'_>> = nodes
        .iter()
        .zip(&lists)
        .map(|(&g, l)| match l {
            Some(l) => Pop::Sorted(l),
            None => Pop::Bits(members, g),
        })
        .collect();
    Ok(compute_pops(values, p, &pops, columns, req, scales))
}

/// The request, the matrix of `len` values in rows of `p`, the columns and
/// the scales checked against each other; the number of rows.
fn check_shape(
    len: usize,
    p: usize,
    columns: &[usize],
    req: &Request,
    scales: &[Scale],
) -> Result<usize> {
    req.validate()?;
    if p == 0 || len % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{len} values do not divide into rows of {p}"
        )));
    }
    if !scales.is_empty() && scales.len() != p {
        return Err(Error::InvalidArgument(format!(
            "{} scales for {p} columns",
            scales.len()
        )));
    }
    if let Some(&c) = columns.iter().find(|&&c| c >= p) {
        return Err(Error::InvalidArgument(format!(
            "column {c} is outside 0..{p}"
        )));
    }
    Ok(len / p)
}

/// [`compute`] once the arguments are checked.
fn compute_pops<T: OrderKey>(
    values: &[T],
    p: usize,
    populations: &[Pop<'_>],
    columns: &[usize],
    req: &Request,
    scales: &[Scale],
) -> Vec<Vec<Vec<f64>>> {
    let n = values.len() / p;
    let src = Source::new(values, p, columns, scales);
    let q = Quantiles::of(req);
    // Large populations share passes over the union of their rows, every
    // column at a time; small ones (or MAD) gather each column.
    let streams = |pop: &Pop<'_>| pop.len(n) >= RADIX_MIN && !req.stats.contains(&Stat::Mad);
    let large: Vec<usize> = (0..populations.len())
        .filter(|&i| streams(&populations[i]))
        .collect();
    let mut shared: Vec<Option<Vec<Summary>>> = vec![None; populations.len()];
    if !large.is_empty() {
        let pops: Vec<Pop<'_>> = large.iter().map(|&i| populations[i]).collect();
        for (&i, s) in large.iter().zip(large_summaries(&src, &pops, req, &q)) {
            shared[i] = Some(s);
        }
    }
    let out = populations
        .iter()
        .zip(shared)
        .map(|(pop, shared)| {
            let summaries = shared.unwrap_or_else(|| {
                let list = pop.list();
                (0..columns.len())
                    .into_par_iter()
                    .map(|j| {
                        let mut v: Vec<f64> = match &list {
                            Some(m) => m
                                .iter()
                                .map(|&i| src.value(i as usize, j).to_f64())
                                .collect(),
                            None => (0..n).map(|i| src.value(i, j).to_f64()).collect(),
                        };
                        column_summary(&mut v, req, &q)
                    })
                    .collect()
            });
            summaries.iter().map(|s| assemble(req, &q, s)).collect()
        })
        .collect();
    out
}

/// Summaries of large populations from the shared passes.
fn large_summaries<T: OrderKey>(
    src: &Source<'_, T>,
    pops: &[Pop<'_>],
    req: &Request,
    q: &Quantiles,
) -> Vec<Vec<Summary>> {
    let has = |s: Stat| req.stats.contains(&s);
    let need = Need {
        sums: has(Stat::Mean) || has(Stat::Sd) || has(Stat::Cv),
        extremes: has(Stat::Min) || has(Stat::Max),
        squares: has(Stat::Sd) || has(Stat::Cv),
    };
    let median_at = q.median.then_some(0);
    let size = |pop: &Pop<'_>| pop.len(src.n);
    let bounds: Vec<Vec<(usize, usize, f64)>> = pops
        .iter()
        .map(|pop| quantile_bounds(size(pop), &q.qs, median_at))
        .collect();
    let ranks: Vec<Vec<usize>> = bounds.iter().map(|b| ranks_of(b)).collect();
    let got = fused::run(src, pops, &ranks, need);
    pops.iter()
        .zip(got)
        .zip(bounds.iter().zip(&ranks))
        .map(|((&pop, o), (bounds, ranks))| {
            let m = size(&pop);
            (0..src.cols.len())
                .into_par_iter()
                .map(|j| {
                    let mo = o.moments[j];
                    Summary {
                        nan: o.nan[j],
                        n: m,
                        mean: mo.mean,
                        sd: if m > 1 {
                            (mo.m2 / (mo.n - 1.0)).sqrt()
                        } else {
                            f64::NAN
                        },
                        // ln of every value is costly: only when asked.
                        geomean: if !has(Stat::Geomean) {
                            f64::NAN
                        } else {
                            match pop.list() {
                                Some(mm) => geomean_of(
                                    mm.iter().map(|&i| src.value(i as usize, j).to_f64()),
                                ),
                                None => geomean_of((0..m).map(|i| src.value(i, j).to_f64())),
                            }
                        },
                        min: mo.min,
                        max: mo.max,
                        quantiles: if ranks.is_empty() {
                            Vec::new()
                        } else {
                            interpolate(bounds, ranks, &o.ordered[j], median_at)
                        },
                        mad: f64::NAN,
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(stats: &[Stat], pct: &[f64]) -> Request {
        Request {
            stats: stats.to_vec(),
            percentiles: pct.to_vec(),
        }
    }

    #[test]
    fn percentiles_match_numpy_linear() {
        // numpy.percentile([3, 1, 4, 1, 5], [0, 25, 50, 90, 100]) = [1, 1, 3, 4.6, 5]
        let mut v = vec![3.0, 1.0, 4.0, 1.0, 5.0];
        let got = percentiles(&mut v, &[0.0, 25.0, 50.0, 90.0, 100.0], None);
        let want = [1.0, 1.0, 3.0, 4.6, 5.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn radix_path_matches_sorting() {
        let mut x = 12345u64;
        let v: Vec<f64> = (0..50_000)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                if i % 7 == 0 {
                    -u * 1e3
                } else {
                    (u * 20.0).exp()
                }
            })
            .collect();
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        let ranks = [0, 1, 2499, 2500, 25_000, 49_998, 49_999];
        let got = order_statistics(&mut v.clone(), &ranks);
        for (g, &r) in got.iter().zip(&ranks) {
            assert_eq!(*g, sorted[r]);
        }
    }

    #[test]
    fn moments_and_rules() {
        let data = [2.0f64, -1.0, 4.0, 8.0];
        let r = req(
            &[
                Stat::Mean,
                Stat::Sd,
                Stat::Geomean,
                Stat::Min,
                Stat::Max,
                Stat::Mad,
            ],
            &[],
        );
        let got = compute(&data, 1, &[None], &[0], &r, &[]).unwrap();
        let s = &got[0][0];
        assert!((s[0] - 3.25).abs() < 1e-12);
        let sd = ((1.5625 + 18.0625 + 0.5625 + 22.5625) / 3.0f64).sqrt();
        assert!((s[1] - sd).abs() < 1e-12);
        assert!((s[2] - 64f64.powf(1.0 / 3.0)).abs() < 1e-12); // positives only
        assert_eq!((s[3], s[4]), (-1.0, 8.0));
        assert!((s[5] - 2.5).abs() < 1e-12); // median 3; |x - 3| = 1, 4, 1, 5
    }

    #[test]
    fn empty_and_nan() {
        let data = [1.0f64, f64::NAN, 3.0];
        let r = req(&[Stat::Mean, Stat::Median], &[5.0]);
        let got = compute(
            &data,
            1,
            &[Some(&[][..]), Some(&[0, 1][..]), Some(&[0, 2][..])],
            &[0],
            &r,
            &[],
        )
        .unwrap();
        assert!(got[0][0].iter().all(|x| x.is_nan()));
        assert!(got[1][0].iter().all(|x| x.is_nan()));
        assert_eq!(got[2][0][0], 2.0);
        assert!(compute(&data, 1, &[Some(&[7][..])], &[0], &r, &[]).is_err());
        assert!(compute(&data, 1, &[None], &[0], &req(&[], &[101.0]), &[]).is_err());
    }
}
