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
    let (k, np) = (plan.k, pops.len());
    let kb = k.div_ceil(W);
    let slots = plan.ranks_in.len();
    let mut grouped: Vec<(Vec<T::Lane>, [usize; W])> = (0..slots * kb)
        .into_par_iter()
        .map(|st| by_lane(kept.iter().map(|w| &w[st])))
        .collect();
    // Per (slot, column): its keys; then per (population, column): its slots'.
    let mut cols: Vec<Option<&mut [T::Lane]>> = (0..slots * k).map(|_| None).collect();
    for (st, (keys, counts)) in grouped.iter_mut().enumerate() {
        let (s, b) = (st / kb, st % kb);
        let mut rest = &mut keys[..];
        for (lane, &n) in counts.iter().enumerate() {
            let (mine, others) = std::mem::take(&mut rest).split_at_mut(n);
            rest = others;
            if let Some(c) = cols
                .get_mut(s * k + b * W + lane)
                .filter(|_| b * W + lane < k)
            {
                *c = Some(mine);
            }
        }
    }
    let mut tasks: Vec<Vec<&mut [T::Lane]>> = (0..np * k).map(|_| Vec::new()).collect();
    for (i, task) in tasks.chunks_mut(k).enumerate() {
        for s in plan.slots_of[i].clone() {
            for (j, t) in task.iter_mut().enumerate() {
                t.extend(cols[s * k + j].take());
            }
        }
    }
    let per: Vec<(Vec<f64>, usize, usize)> = tasks
        .into_par_iter()
        .enumerate()
        .map(|(s, parts)| {
            let (i, j) = (s / k, s % k);
            if nan[s] {
                return (vec![f64::NAN; ranks[i].len()], 0, 0);
            }
            column::<T>(plan, below, parts, i, j, &ranks[i]).unwrap_or_else(|kept| {
                let mut all: Vec<T::Lane> = match pops[i].list() {
                    Some(m) => m.iter().map(|&e| src.value(e as usize, j).lane()).collect(),
                    None => (0..src.n).map(|e| src.value(e, j).lane()).collect(),
                };
                let v = at_ranks(&mut all, &ranks[i]);
                (v.into_iter().map(T::from_lane).collect(), 1, kept)
            })
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

/// The keys of `streams` (one bracket's, over one block, from every
/// worker) grouped by lane, and how many each lane has.
fn by_lane<'a, L: Copy + Default + 'a>(
    streams: impl Iterator<Item = &'a Kept<L>> + Clone,
) -> (Vec<L>, [usize; W]) {
    let mut counts = [0usize; W];
    for st in streams.clone() {
        for &l in &st.lanes {
            counts[l as usize % W] += 1;
        }
    }
    let mut at = [0usize; W];
    for l in 1..W {
        at[l] = at[l - 1] + counts[l - 1];
    }
    let mut keys = vec![L::default(); counts.iter().sum()];
    for st in streams {
        for (&key, &l) in st.keys.iter().zip(&st.lanes) {
            let a = &mut at[l as usize % W];
            if let Some(o) = keys.get_mut(*a) {
                *o = key;
            }
            *a += 1;
        }
    }
    (keys, counts)
}

/// Population `i`'s ranks in column `j` from its brackets' counts and kept
/// keys (`parts`, one per slot of the population), and the number of keys
/// kept; Err(kept) when a bracket missed its ranks. Each bracket answers its
/// own ranks: its keys below `lo` and inside `[lo, hi]` place them, whatever
/// the other brackets hold.
fn column<T: OrderKey>(
    plan: &Plan<T::Lane>,
    below: &[&[u64]],
    parts: Vec<&mut [T::Lane]>,
    i: usize,
    j: usize,
    ranks: &[usize],
) -> Result<(Vec<f64>, usize, usize), usize> {
    let total = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(ranks.len());
    for (s, keys) in plan.slots_of[i].clone().zip(parts) {
        let under = below.iter().map(|w| w[s * plan.k + j]).sum::<u64>() as usize;
        let want = &ranks[plan.ranks_in[s].clone()];
        if !want.iter().all(|&r| r >= under && r - under < keys.len()) {
            return Err(total);
        }
        let offs: Vec<usize> = want.iter().map(|&r| r - under).collect();
        out.extend(at_ranks(keys, &offs).into_iter().map(T::from_lane));
    }
    Ok((out, 0, total))
}
