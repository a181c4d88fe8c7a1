//! Order statistics from the bracketing pass: each rank is selected among the
//! keys its bracket kept, or, when the counts show the bracket missed it,
//! among all of that population's keys of the column.

use rayon::prelude::*;

use super::bracket::Plan;
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

/// What one worker's share of the pass left: per (slot, column), the keys
/// below the bracket (a count); per (class, column), the keys inside a
/// bracket of one of the class's populations.
pub(crate) struct Tally<L> {
    pub below: Vec<u64>,
    pub kept: Vec<Vec<L>>,
}

/// Per population: per column, the values at its ranks (NaN for a column
/// holding a NaN); how many columns a bracket missed in (recomputed exactly
/// from all the population's keys); how many keys its brackets kept.
pub(crate) struct Selected {
    pub ordered: Vec<Vec<Vec<f64>>>,
    pub misses: Vec<usize>,
    pub kept: Vec<usize>,
}

pub(crate) fn finish<T: OrderKey>(
    plan: &Plan<T::Lane>,
    tallies: &[&Tally<T::Lane>],
    patterns: &[u32],
    src: &Source<'_, T>,
    pops: &[Option<&[u32]>],
    ranks: &[Vec<usize>],
    nan: &[bool],
) -> Selected {
    let k = plan.k;
    let per: Vec<(Vec<f64>, usize, usize)> = (0..pops.len() * k)
        .into_par_iter()
        .map(|s| {
            let (i, j) = (s / k, s % k);
            if nan[s] {
                return (vec![f64::NAN; ranks[i].len()], 0, 0);
            }
            column::<T>(plan, tallies, patterns, i, j, &ranks[i]).unwrap_or_else(|kept| {
                let mut all: Vec<T::Lane> = match pops[i] {
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

/// Population `i`'s ranks in column `j` from its brackets' tallies, and the
/// number of keys kept; Err(kept) when a bracket missed its ranks.
fn column<T: OrderKey>(
    plan: &Plan<T::Lane>,
    tallies: &[&Tally<T::Lane>],
    patterns: &[u32],
    i: usize,
    j: usize,
    ranks: &[usize],
) -> Result<(Vec<f64>, usize, usize), usize> {
    let k = plan.k;
    // The kept keys of the population's classes, for column j.
    let parts: Vec<&[T::Lane]> = patterns
        .iter()
        .enumerate()
        .filter(|(_, &p)| p >> i & 1 == 1)
        .flat_map(|(c, _)| tallies.iter().map(move |t| &t.kept[c * k + j][..]))
        .collect();
    let groups = merged::<T>(plan, tallies, i, j);
    let keys = split(&parts, &groups);
    let total = keys.iter().map(|v| v.len()).sum();
    let mut out = Vec::with_capacity(ranks.len());
    for (g, mut keys) in groups.iter().zip(keys) {
        let want = &ranks[g.ranks.clone()];
        if !want
            .iter()
            .all(|&r| r >= g.below && r - g.below < keys.len())
        {
            return Err(total);
        }
        let offs: Vec<usize> = want.iter().map(|&r| r - g.below).collect();
        out.extend(at_ranks(&mut keys, &offs).into_iter().map(T::from_lane));
    }
    Ok((out, 0, total))
}

/// A population's brackets in one column, overlapping ones merged: keys
/// below `lo` (the first bracket's count), and the ranks inside.
struct Group<L> {
    lo: L,
    hi: L,
    below: usize,
    ranks: std::ops::Range<usize>,
}

/// Merging keeps every rank inside: the keys under the second bracket's
/// `lo` are those under the first's plus the merged bracket's keys below it.
fn merged<T: OrderKey>(
    plan: &Plan<T::Lane>,
    tallies: &[&Tally<T::Lane>],
    i: usize,
    j: usize,
) -> Vec<Group<T::Lane>> {
    let mut out: Vec<Group<T::Lane>> = Vec::new();
    for s in plan.slots_of[i].clone() {
        let below: u64 = tallies.iter().map(|t| t.below[s * plan.k + j]).sum();
        let (lo, hi) = plan.bracket(s, j);
        let ranks = plan.ranks_in[s].clone();
        match out.last_mut() {
            Some(g) if lo <= g.hi => {
                g.hi = g.hi.max(hi);
                g.ranks.end = ranks.end;
            }
            _ => out.push(Group {
                lo,
                hi,
                below: below as usize,
                ranks,
            }),
        }
    }
    out
}

/// The keys of `parts` inside each group.
fn split<L: Copy + Ord + Default>(parts: &[&[L]], groups: &[Group<L>]) -> Vec<Vec<L>> {
    groups
        .iter()
        .map(|g| {
            let mut keys = Vec::new();
            keep_between(parts, g.lo, g.hi, &mut keys);
            keys
        })
        .collect()
}

/// The keys of `parts` in `[lo, hi]`, into `out`: written unconditionally,
/// the length advancing only past those inside (about half are, in no
/// predictable order, so a branch would mispredict).
fn keep_between<L: Copy + Ord + Default>(parts: &[&[L]], lo: L, hi: L, out: &mut Vec<L>) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.clear();
    out.resize(len + 1, L::default());
    let mut n = 0;
    for p in parts {
        for &x in p.iter() {
            if let Some(o) = out.get_mut(n) {
                *o = x;
            }
            n += (lo <= x && x <= hi) as usize;
        }
    }
    out.truncate(n);
}
