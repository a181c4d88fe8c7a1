//! Order statistics from the bracketing pass: each rank is selected among the
//! keys its bracket kept, or, when the counts show the bracket missed it,
//! among all of that population's keys of the column.

use rayon::prelude::*;

use super::bracket::Plan;
use super::lanes::{Kept, W};
use super::membership::Pop;
use super::rows::Source;
use super::OrderKey;

/// The keys at sorted, distinct `ranks` (each below `v.len()`) of `v`,
/// reordered in place: successive selections, each in what the last left
/// above its rank.
pub(crate) fn at_ranks<L: Copy + Ord>(v: &mut [L], ranks: &[usize]) -> Vec<L> {
    let mut out = Vec::with_capacity(ranks.len());
    let mut start = 0;
    let n = v.len();
    for &r in ranks.iter().filter(|&&r| r < n) {
        if r >= start {
            v[start..].select_nth_unstable(r - start);
            start = r + 1;
        }
        out.push(v[r]);
    }
    out
}

/// Per population: per column, the values at its ranks (NaN for a column
/// holding a NaN); how many columns a bracket missed in (recomputed exactly
/// from all the population's keys); how many keys its brackets kept.
pub(crate) struct Selected {
    pub ordered: Vec<Vec<Vec<f64>>>,
    pub misses: Vec<usize>,
    pub kept: Vec<usize>,
}

/// `below` is each worker's per (slot, column): the keys under the slot's
/// bracket; `kept` each worker's streams per (slot, block of columns): the
/// keys inside it.
pub(crate) fn finish<T: OrderKey>(
    plan: &Plan<T::Lane>,
    below: &[&[u64]],
    kept: &[&[Kept<T::Lane>]],
    src: &Source<'_, T>,
    pops: &[Pop<'_>],
    ranks: &[Vec<usize>],
    nan: &[bool],
) -> Selected {
    let k = plan.k;
    let kb = k.div_ceil(W);
    // The population of each slot.
    let mut pop_of = vec![0; plan.ranks_in.len()];
    for (i, r) in plan.slots_of.iter().enumerate() {
        for s in r.clone() {
            pop_of[s] = i;
        }
    }
    let blocks: Vec<Vec<Lane<T::Lane>>> = (0..plan.ranks_in.len() * kb)
        .into_par_iter()
        .map(|st| {
            let (s, b) = (st / kb, st % kb);
            let want = &ranks[pop_of[s]][plan.ranks_in[s].clone()];
            select_block(plan, below, kept, s, b, want)
        })
        .collect();
    let per: Vec<(Vec<f64>, usize, usize)> = (0..pops.len() * k)
        .into_par_iter()
        .map(|t| {
            let (i, j) = (t / k, t % k);
            if nan[t] {
                return (vec![f64::NAN; ranks[i].len()], 0, 0);
            }
            let (b, lane) = (j / W, j % W);
            let mut vals = Vec::with_capacity(ranks[i].len());
            let mut total = 0;
            let mut missed = false;
            for s in plan.slots_of[i].clone() {
                let got = &blocks[s * kb + b][lane];
                total += got.kept;
                match &got.values {
                    Some(v) => vals.extend(v.iter().map(|&x| T::from_lane(x))),
                    None => missed = true,
                }
            }
            if !missed {
                return (vals, 0, total);
            }
            let mut all: Vec<T::Lane> = match pops[i].list() {
                Some(m) => m.iter().map(|&e| src.value(e as usize, j).lane()).collect(),
                None => (0..src.n).map(|e| src.value(e, j).lane()).collect(),
            };
            let v = at_ranks(&mut all, &ranks[i]);
            (v.into_iter().map(T::from_lane).collect(), 1, total)
        })
        .collect();
    let mut it = per.into_iter();
    let mut out = Selected {
        ordered: Vec::with_capacity(pops.len()),
        misses: Vec::with_capacity(pops.len()),
        kept: Vec::with_capacity(pops.len()),
    };
    for _ in 0..pops.len() {
        let (mut vals, mut miss, mut kept) = (Vec::with_capacity(k), 0, 0);
        for (v, m, n) in it.by_ref().take(k) {
            vals.push(v);
            miss += m;
            kept += n;
        }
        out.ordered.push(vals);
        out.misses.push(miss);
        out.kept.push(kept);
    }
    out
}

/// One lane's answer from one bracket: the values at the bracket's ranks
/// (`None` when the bracket missed them), and how many keys it kept.
struct Lane<L> {
    values: Option<Vec<L>>,
    kept: usize,
}

/// Buckets per lane of the histogram that places each rank.
const BUCKETS: usize = 256;

/// The keys at slot `s`'s ranks `want` in every lane of block `b`, from the
/// bracket's streams (every worker's) in two passes and no copy of them: a
/// histogram per lane of each key's offset in its bracket (by its top bits)
/// places each rank in a bucket, then only those buckets' keys are gathered
/// and selected among.
fn select_block<L: Copy + Ord + Into<i64>>(
    plan: &Plan<L>,
    below: &[&[u64]],
    kept: &[&[Kept<L>]],
    s: usize,
    b: usize,
    want: &[usize],
) -> Vec<Lane<L>> {
    let k = plan.k;
    let kb = k.div_ceil(W);
    let lanes = W.min(k - b * W);
    let bd = &plan.bounds[s * kb + b];
    let lo: [i64; W] = bd.lo.map(|x| x.into());
    // A key's offset in its bracket (key >= lo, so the wrapping difference
    // is exact as u64); each lane's shift maps its span onto the buckets.
    let shift: [u32; W] = std::array::from_fn(|j| {
        let span = bd.hi[j].into().wrapping_sub(lo[j]) as u64;
        let span = if bd.hi[j].into() < lo[j] { 0 } else { span };
        (64 - span.leading_zeros()).saturating_sub(BUCKETS.trailing_zeros())
    });
    let bucket = |key: L, j: usize| -> usize {
        let d = key.into().wrapping_sub(lo[j]) as u64;
        ((d >> shift[j]) as usize).min(BUCKETS - 1)
    };
    let streams = || kept.iter().map(|w| &w[s * kb + b]);
    let mut hist = vec![0u32; W * BUCKETS];
    for st in streams() {
        for (&key, &l) in st.keys.iter().zip(&st.lanes) {
            let j = l as usize % W;
            hist[j * BUCKETS + bucket(key, j)] += 1;
        }
    }
    // Per lane: each wanted rank's bucket and place in it, or a miss.
    let mut targets: Vec<u16> = vec![u16::MAX; W * BUCKETS];
    let mut gathered: Vec<Vec<L>> = Vec::new();
    let mut places: Vec<Option<Vec<(usize, usize)>>> = Vec::with_capacity(lanes);
    let mut kept_of = [0usize; W];
    for (j, kept_j) in kept_of.iter_mut().enumerate().take(lanes) {
        let h = &hist[j * BUCKETS..(j + 1) * BUCKETS];
        let total: usize = h.iter().map(|&c| c as usize).sum();
        *kept_j = total;
        let under = below.iter().map(|w| w[s * k + b * W + j]).sum::<u64>() as usize;
        if !want.iter().all(|&r| r >= under && r - under < total) {
            places.push(None);
            continue;
        }
        let mut mine = Vec::with_capacity(want.len());
        let (mut bk, mut before) = (0usize, 0usize);
        for &r in want {
            let o = r - under;
            while before + h[bk] as usize <= o {
                before += h[bk] as usize;
                bk += 1;
            }
            let t = &mut targets[j * BUCKETS + bk];
            if *t == u16::MAX {
                *t = gathered.len() as u16;
                gathered.push(Vec::with_capacity(h[bk] as usize));
            }
            mine.push((*t as usize, o - before));
        }
        places.push(Some(mine));
    }
    if !gathered.is_empty() {
        for st in streams() {
            for (&key, &l) in st.keys.iter().zip(&st.lanes) {
                let j = l as usize % W;
                let t = targets[j * BUCKETS + bucket(key, j)];
                if t != u16::MAX {
                    gathered[t as usize].push(key);
                }
            }
        }
    }
    places
        .into_iter()
        .zip(kept_of)
        .map(|(p, kept)| Lane {
            values: p.map(|mine| {
                mine.iter()
                    .map(|&(t, o)| {
                        let g = &mut gathered[t];
                        *g.select_nth_unstable(o).1
                    })
                    .collect()
            }),
            kept,
        })
        .collect()
}
