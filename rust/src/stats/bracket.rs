//! Brackets around the wanted ranks of each population, from a sample (the
//! idea of Floyd and Rivest's selection).
//!
//! The events are sampled in short runs of consecutive rows, one run at a
//! jittered place in every stretch of `stride · RUN` events (runs read whole
//! cache lines and pages; the jitter keeps periodic data from biasing the
//! sample); a population's sample is the sampled events among its members,
//! about m = N / stride of them. The rank-r value of the population then lies,
//! with very high probability, between the sample's order statistics around
//! r·m/N, a few binomial standard deviations apart. The full pass counts, per
//! (population, column), the keys below such a bracket and keeps those inside
//! it; a rank whose counts show it fell outside is recomputed exactly
//! ([`super::select`]), so the bracket only decides the cost, never the result.

use std::ops::Range;

use rayon::prelude::*;

use super::lanes::{Simd, W};
use super::membership::{Membership, Pop};
use super::rows::Source;
use super::select::at_ranks;
use super::OrderKey;

/// Consecutive events per sampled run.
const RUN: usize = 16;

/// How wide brackets are and how much is sampled; tests shrink the margin
/// (or move the bracket) to force misses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tuning {
    /// Standard deviations each side.
    pub z: f64,
    /// Sample positions added each side.
    pub extra: f64,
    /// Sample positions the bracket's centre moves by.
    pub shift: f64,
    /// Scales the sampling stride.
    pub stride: f64,
    /// The SIMD builds the pass may use (tests compare them).
    pub simd: Simd,
}

impl Tuning {
    /// 4 sigma plus 3: a miss is rarer than 1e-4 per bracket.
    pub(crate) const DEFAULT: Tuning = Tuning {
        z: 4.0,
        extra: 3.0,
        shift: 0.0,
        stride: 1.0,
        simd: Simd::Avx2,
    };
}

/// Lowest and highest key a bracket keeps, for a block of [`W`] columns.
/// Lanes past the last column have `lo = hi = MIN`: a key there (0) is
/// neither below nor inside.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds<L> {
    pub lo: [L; W],
    pub hi: [L; W],
}

/// The brackets of every population of a group.
pub(crate) struct Plan<L> {
    /// Columns.
    pub k: usize,
    /// Per population, its slots (one per set of overlapping brackets).
    pub slots_of: Vec<Range<usize>>,
    /// Per slot, its ranks: indices into its population's rank list.
    pub ranks_in: Vec<Range<usize>>,
    /// Per (slot, block of columns).
    pub bounds: Vec<Bounds<L>>,
    /// Per (slot, block of columns): about how many keys the pass will keep
    /// there (from the sample), so their buffers are sized once.
    pub expect: Vec<usize>,
}

/// A bracket's lowest and highest key, and the keys it is expected to keep.
type Bracketed<L> = (L, L, usize);

/// One population's slot: its ranks, and the sample positions of its bounds
/// (below 0 or past the sample: unbounded).
struct Window {
    ranks: Range<usize>,
    lo: i64,
    hi: i64,
}

/// Sampling stride for a union of `u` events: about cbrt(u) / 2 (44 at
/// 664 k), which balances the sample's cost (linear in its size) against the
/// keys kept (which grow as sqrt(N · stride)).
fn stride(u: usize, t: &Tuning) -> usize {
    ((u as f64).cbrt() / 2.0 * t.stride).max(1.0) as usize
}

/// The sampled events among `n`: a run of [`RUN`] at a jittered offset in
/// every stretch of `s · RUN`; every event when `s == 1`.
#[cfg(test)]
fn sampled(n: usize, s: usize) -> impl Iterator<Item = usize> {
    sampled_in(n, s, 0..n.div_ceil(s * RUN))
}

/// The sampled events of the given stretches.
fn sampled_in(n: usize, s: usize, stretches: Range<usize>) -> impl Iterator<Item = usize> {
    let span = s * RUN;
    stretches.flat_map(move |i| {
        let h = (i as u64 ^ 0x5851_F42D_4C95_7F2D).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let start = i * span + ((h >> 32) as usize) % (span - RUN + 1);
        start.min(n)..(start + RUN).min(n)
    })
}

/// Brackets of sample positions around each sorted rank, overlapping ones
/// merged. With every member sampled (`s == 1`) the bracket is the rank
/// itself, which cannot miss.
fn windows(ranks: &[usize], len: usize, s: usize, m: usize, t: &Tuning) -> Vec<Window> {
    let mut out: Vec<Window> = Vec::new();
    for (i, &r) in ranks.iter().enumerate() {
        let (lo, hi) = if s == 1 && m == len {
            (r as i64, r as i64)
        } else {
            let q = (r as f64 + 0.5) / len as f64;
            let centre = q * m as f64 - 0.5 + t.shift;
            let d = t.z * (m as f64 * q * (1.0 - q)).sqrt() + t.extra;
            ((centre - d).floor() as i64, (centre + d).ceil() as i64)
        };
        match out.last_mut() {
            Some(w) if lo <= w.hi => {
                w.hi = w.hi.max(hi);
                w.lo = w.lo.min(lo);
                w.ranks.end = i + 1;
            }
            _ => out.push(Window {
                ranks: i..i + 1,
                lo,
                hi,
            }),
        }
    }
    out
}

/// Sampled rows' lanes (row-major), and per population its sampled rows.
type Drawn<L> = (Vec<L>, Vec<Vec<u32>>);

/// The sampled rows of the union, lanes row-major, and per population the
/// indices of its sampled rows (in pieces run in parallel, joined in order).
fn sample<T: OrderKey>(
    src: &Source<'_, T>,
    mb: &Membership,
    np: usize,
    s: usize,
) -> Drawn<T::Lane> {
    let k = src.cols.len();
    let stretch = s * RUN;
    let stretches = src.n.div_ceil(stretch);
    let per = stretches
        .div_ceil(4 * rayon::current_num_threads().max(1))
        .max(1);
    let pieces: Vec<Drawn<T::Lane>> = (0..stretches.div_ceil(per))
        .into_par_iter()
        .map(|pi| {
            let (mut lanes, mut rows_of) = (Vec::new(), vec![Vec::new(); np]);
            let mine = pi * per..((pi + 1) * per).min(stretches);
            let mut r = 0u32;
            for e in sampled_in(src.n, s, mine) {
                let c = mb.class[e];
                if Some(c) == mb.empty {
                    continue;
                }
                lanes.extend((0..k).map(|j| src.value(e, j).lane()));
                let mut bits = mb.patterns[c as usize];
                while bits != 0 {
                    rows_of[bits.trailing_zeros() as usize].push(r);
                    bits &= bits - 1;
                }
                r += 1;
            }
            (lanes, rows_of)
        })
        .collect();
    let mut lanes = Vec::with_capacity(pieces.iter().map(|p| p.0.len()).sum());
    let mut rows_of: Vec<Vec<u32>> = vec![Vec::new(); np];
    for (l, rs) in pieces {
        let base = (lanes.len() / k.max(1)) as u32;
        lanes.extend(l);
        for (all, mine) in rows_of.iter_mut().zip(rs) {
            all.extend(mine.into_iter().map(|r| r + base));
        }
    }
    (lanes, rows_of)
}

/// Per column, per window: the bounds from sample `col` (reordered).
fn bounds_of<L: Copy + Ord>(col: &mut [L], windows: &[Window], min: L, max: L) -> Vec<(L, L)> {
    let m = col.len() as i64;
    let inside = |x: i64| (0..m).contains(&x);
    let mut at: Vec<usize> = windows
        .iter()
        .flat_map(|w| [w.lo, w.hi])
        .filter(|&x| inside(x))
        .map(|x| x as usize)
        .collect();
    at.sort_unstable();
    at.dedup();
    let vals = at_ranks(col, &at);
    // Positions before the sample sit below every key, past it above.
    let get = |x: i64| {
        if x < 0 {
            return min;
        }
        at.binary_search(&(x as usize))
            .ok()
            .and_then(|i| vals.get(i).copied())
            .unwrap_or(max)
    };
    windows.iter().map(|w| (get(w.lo), get(w.hi))).collect()
}

/// How many times the sample positions of its window a bracket may hold
/// (more only with ties at its ends).
const CROWDED: usize = 4;

/// The bracket, or one that keeps nothing (so its ranks take the exact path)
/// when the sample shows it would keep far more keys than its window spans
/// and a good part of the population: heavy ties or values packed into a
/// narrow range would otherwise keep much of the column in memory.
/// Also returns how many of the sample's keys the bracket holds.
fn unless_crowded<T: OrderKey>(
    col: &[T::Lane],
    w: &Window,
    lo: T::Lane,
    hi: T::Lane,
) -> (T::Lane, T::Lane, usize) {
    let m = col.len() as i64;
    let span = (w.hi.min(m - 1) - w.lo.max(0) + 1).max(1) as usize;
    let inside = col.iter().filter(|&&x| (lo..=hi).contains(&x)).count();
    if inside > CROWDED * span + 64 && inside * 8 > col.len() {
        (T::LANE_MIN, T::LANE_MIN, 0)
    } else {
        (lo, hi, inside)
    }
}

/// Brackets for `ranks[i]` (sorted, each below the size) of every population
/// `pops[i]`, whose classes are `mb`.
pub(crate) fn plan<T: OrderKey>(
    src: &Source<'_, T>,
    pops: &[Pop<'_>],
    ranks: &[Vec<usize>],
    mb: &Membership,
    t: &Tuning,
) -> Plan<T::Lane> {
    let (np, k) = (pops.len(), src.cols.len());
    let s = stride(mb.union, t);
    let (lanes, rows_of) = sample(src, mb, np, s);
    let len = |i: usize| pops[i].len(src.n);
    let windows: Vec<Vec<Window>> = (0..np)
        .map(|i| {
            if ranks[i].is_empty() || len(i) == 0 {
                Vec::new()
            } else {
                windows(&ranks[i], len(i), s, rows_of[i].len(), t)
            }
        })
        .collect();
    // Per (population, column): the bounds of its windows, and the keys
    // each is expected to keep (its share of the sample, scaled up).
    let bounds: Vec<Vec<Bracketed<T::Lane>>> = (0..np * k)
        .into_par_iter()
        .map(|x| {
            let (i, j) = (x / k, x % k);
            if windows[i].is_empty() {
                return Vec::new();
            }
            let mut col: Vec<T::Lane> = rows_of[i]
                .iter()
                .map(|&r| lanes[r as usize * k + j])
                .collect();
            let b = bounds_of(&mut col, &windows[i], T::LANE_MIN, T::LANE_MAX);
            let scale = len(i) as f64 / col.len().max(1) as f64;
            b.into_iter()
                .zip(&windows[i])
                .map(|((lo, hi), w)| {
                    let (lo, hi, inside) = unless_crowded::<T>(&col, w, lo, hi);
                    (lo, hi, (inside as f64 * scale) as usize)
                })
                .collect()
        })
        .collect();
    let kb = k.div_ceil(W);
    let mut plan = Plan {
        k,
        slots_of: Vec::with_capacity(np),
        ranks_in: Vec::new(),
        bounds: Vec::new(),
        expect: Vec::new(),
    };
    for (i, ws) in windows.iter().enumerate() {
        let first = plan.ranks_in.len();
        for (g, w) in ws.iter().enumerate() {
            plan.ranks_in.push(w.ranks.clone());
            for b in 0..kb {
                let mut bd = Bounds {
                    lo: [T::LANE_MIN; W],
                    hi: [T::LANE_MIN; W],
                };
                let mut expect = 0;
                for (l, j) in (b * W..k.min((b + 1) * W)).enumerate() {
                    let n;
                    (bd.lo[l], bd.hi[l], n) = bounds[i * k + j][g];
                    expect += n;
                }
                plan.bounds.push(bd);
                plan.expect.push(expect);
            }
        }
        plan.slots_of.push(first..plan.ranks_in.len());
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_merge_and_stay_in_order() {
        let t = Tuning::DEFAULT;
        // Two adjacent ranks (an even median) share a bracket; far ones do not.
        let w = windows(&[499_999, 500_000], 1_000_000, 64, 15_625, &t);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].ranks, 0..2);
        assert!(w[0].lo < 7812 && w[0].hi > 7812);
        let w = windows(&[0, 50_000, 500_000, 999_999], 1_000_000, 64, 15_625, &t);
        assert_eq!(w.len(), 4);
        assert!(w[0].lo < 0 && w[3].hi >= 15_625);
        // Every member sampled: exact.
        let w = windows(&[3, 4, 9], 10, 1, 10, &t);
        assert_eq!(w.len(), 3);
        assert_eq!((w[2].lo, w[2].hi), (9, 9));
    }

    #[test]
    fn samples_are_runs_inside_their_stretch() {
        for (n, s) in [(1000, 1), (1000, 3), (100_000, 44), (17, 5)] {
            let got: Vec<usize> = sampled(n, s).collect();
            assert!(got.windows(2).all(|w| w[0] < w[1]));
            assert!(got.iter().all(|&e| e < n));
            if s == 1 {
                assert_eq!(got.len(), n);
            }
            // At most one run per stretch, of consecutive events.
            let span = s * RUN;
            for i in 0..n.div_ceil(span) {
                let run: Vec<usize> = got.iter().copied().filter(|&e| e / span == i).collect();
                assert!(run.len() <= RUN);
                assert!(run.windows(2).all(|w| w[1] == w[0] + 1));
            }
        }
        assert_eq!(stride(1, &Tuning::DEFAULT), 1);
        assert_eq!(stride(664_000, &Tuning::DEFAULT), 43);
    }
}
