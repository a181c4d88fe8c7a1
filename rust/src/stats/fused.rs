//! Order statistics of many populations of one matrix in two shared passes.
//!
//! Gated populations nest: a row of the matrix is usually a member of several
//! of them. Streaming each population on its own reads such a row (a cache
//! miss, the real cost) once per population and pass, and ends each pass with
//! a wait for the slowest thread, twice per population. Here one pass runs over
//! the union of the populations' rows; each row's keys are computed once and
//! counted into the histograms of every population it belongs to (a bit mask
//! per event says which), then a second pass keeps, per population and column,
//! the keys in the buckets that hold a wanted rank. The selection is then the
//! same as in [`super::streaming`], so the values are identical.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::rows::each_row;
use super::streaming::{buckets, locate_ranks, select_located, stride, top, Columns};
use super::OrderKey;

const CHUNK: usize = 16_384;
/// Populations per shared pass (bits of the membership mask).
const GROUP: usize = 32;

/// For each population: per column, the values at its `ranks` (NaN when the
/// column holds a NaN), and per column whether it holds a NaN.
pub(crate) type Ordered = (Vec<Vec<f64>>, Vec<bool>);

struct Worker<K> {
    /// (population, column) × buckets counts; all zero after `locate`.
    hist: Vec<u32>,
    nan: Vec<bool>,
    /// Per (population, column): kept keys in `stage[s][..at[s]]`.
    stage: Vec<Vec<K>>,
    at: Vec<usize>,
}

/// `ranks[i]` (sorted, distinct, each below the population's size) of every
/// population `pops[i]` (`None` = all `n` events), for every column of `cols`.
pub(crate) fn order_statistics<T: OrderKey>(
    values: &[T],
    p: usize,
    n: usize,
    pops: &[Option<&[u32]>],
    ranks: &[Vec<usize>],
    cols: &[usize],
) -> Vec<Ordered> {
    pops.chunks(GROUP)
        .zip(ranks.chunks(GROUP))
        .flat_map(|(pg, rg)| group::<T>(values, p, n, pg, rg, cols))
        .collect()
}

/// Runs `f(worker, chunk)` for every chunk index below `chunks`, the workers
/// in parallel, each taking the next chunk from a shared counter.
fn spread<K: Send>(ws: &mut [Worker<K>], chunks: usize, f: impl Fn(&mut Worker<K>, usize) + Sync) {
    let next = AtomicUsize::new(0);
    let used = ws.len().min(chunks);
    ws[..used].par_iter_mut().for_each(|w| loop {
        let ci = next.fetch_add(1, Ordering::Relaxed);
        if ci >= chunks {
            break;
        }
        f(w, ci);
    });
}

/// Most patterns of membership a shared pass handles; beyond, the group splits.
const MAX_CLASSES: usize = 64;

fn group<T: OrderKey>(
    values: &[T],
    p: usize,
    n: usize,
    pops: &[Option<&[u32]>],
    ranks: &[Vec<usize>],
    cols: &[usize],
) -> Vec<Ordered> {
    let (np, k, nb, sd) = (pops.len(), cols.len(), buckets::<T>(), stride::<T>());
    // Which populations each event belongs to; the rows to visit.
    let everyone = pops
        .iter()
        .enumerate()
        .filter(|(_, m)| m.is_none())
        .fold(0u32, |a, (i, _)| a | 1 << i);
    let mut mask = vec![everyone; n];
    for (i, m) in pops.iter().enumerate() {
        for &e in m.iter().copied().flatten() {
            mask[e as usize] |= 1 << i;
        }
    }
    // Rows with the same membership pattern (class) are counted together, once:
    // a population's histogram is the sum of its classes'. Nested gates make
    // few patterns, so a row costs one count per column, not one per population.
    let Some((class, patterns)) = classes(&mask) else {
        let half = np / 2;
        let mut out = group::<T>(values, p, n, &pops[..half], &ranks[..half], cols);
        out.extend(group::<T>(
            values,
            p,
            n,
            &pops[half..],
            &ranks[half..],
            cols,
        ));
        return out;
    };
    drop(mask);
    let nc = patterns.len();
    let union: Option<Vec<u32>> = (everyone == 0).then(|| {
        class
            .iter()
            .enumerate()
            .filter(|(_, &c)| patterns[c as usize] != 0)
            .map(|(e, _)| e as u32)
            .collect()
    });
    let union = union.as_deref();
    let rows = union.map_or(n, |u| u.len());
    let chunks = rows.div_ceil(CHUNK);
    let range = |ci: usize| ci * CHUNK..((ci + 1) * CHUNK).min(rows);
    let slots = nc * k;
    let mut ws: Vec<Worker<T::Key>> = (0..rayon::current_num_threads().max(1))
        .map(|_| Worker {
            hist: vec![0; slots * sd],
            nan: vec![false; slots],
            stage: vec![vec![T::Key::default(); 64]; slots],
            at: vec![0; slots],
        })
        .collect();
    let class = &class[..];
    // Pass 1: histograms and NaN per (class, column).
    spread(&mut ws, chunks, |w, ci| {
        let mut view = Columns::new(cols);
        let (hist, nan) = (&mut w.hist[..slots * sd], &mut w.nan[..slots]);
        each_row(values, p, union, range(ci), |e, row| {
            let v = view.of(row);
            let c = class[e] as usize;
            let h = &mut hist[c * k * sd..(c + 1) * k * sd];
            let mut any_nan = false;
            for (hj, &x) in h.chunks_exact_mut(sd).zip(v) {
                any_nan |= x.is_nan_value();
                hj[top::<T>(x.order_key())] += 1;
            }
            if any_nan {
                for (f, x) in nan[c * k..(c + 1) * k].iter_mut().zip(v) {
                    *f |= x.is_nan_value();
                }
            }
        });
    });
    // Fold the workers' counts into the first worker's.
    if let Some((first, rest)) = ws.split_first_mut() {
        for w in rest.iter_mut() {
            for (a, b) in first.hist.iter_mut().zip(w.hist.iter_mut()) {
                *a += *b;
                *b = 0;
            }
            for (a, b) in first.nan.iter_mut().zip(w.nan.iter()) {
                *a |= b;
            }
        }
    }
    let Some(w0) = ws.first() else {
        return Vec::new();
    };
    let in_class = |i: usize, c: usize| patterns[c] >> i & 1 == 1;
    // Per (population, column): NaN, and where each rank lies.
    let pslots = np * k;
    let nan: Vec<bool> = (0..pslots)
        .map(|s| (0..nc).any(|c| in_class(s / k, c) && w0.nan[c * k + s % k]))
        .collect();
    let located: Vec<Vec<(usize, usize)>> = (0..pslots)
        .into_par_iter()
        .map(|s| {
            let (i, j) = (s / k, s % k);
            let mut total = vec![0u32; nb];
            for c in (0..nc).filter(|&c| in_class(i, c)) {
                let h = &w0.hist[(c * k + j) * sd..][..nb];
                for (t, x) in total.iter_mut().zip(h) {
                    *t += x;
                }
            }
            locate_ranks(vec![&mut total[..]], &ranks[i])
        })
        .collect();
    // Which buckets each (population, column) wants, and each (class, column).
    let mut want = vec![0u8; pslots * nb];
    let mut class_want = vec![0u8; slots * nb];
    for (s, loc) in located.iter().enumerate() {
        if nan[s] {
            continue;
        }
        let (i, j) = (s / k, s % k);
        for &(b, _) in loc {
            want[s * nb + b] = 1;
            for c in (0..nc).filter(|&c| in_class(i, c)) {
                class_want[(c * k + j) * nb + b] = 1;
            }
        }
    }
    for w in ws.iter_mut() {
        w.hist = Vec::new();
    }
    let class_want = &class_want[..];
    // Pass 2: keep the keys some population of the row's class wants. Every
    // key is written to its stage, whose length grows only when the key is
    // wanted: no branch to mispredict, whatever the share of wanted keys.
    spread(&mut ws, chunks, |w, ci| {
        let mut view = Columns::new(cols);
        let (stage, at) = (&mut w.stage[..slots], &mut w.at[..slots]);
        each_row(values, p, union, range(ci), |e, row| {
            let v = view.of(row);
            let c = class[e] as usize;
            let (st, at) = (&mut stage[c * k..(c + 1) * k], &mut at[c * k..(c + 1) * k]);
            let wc = &class_want[c * k * nb..(c + 1) * k * nb];
            for (((s, a), wj), &x) in st
                .iter_mut()
                .zip(at.iter_mut())
                .zip(wc.chunks_exact(nb))
                .zip(v)
            {
                let key = x.order_key();
                s[*a] = key;
                *a += usize::from(wj[top::<T>(key)]);
                if *a == s.len() {
                    s.resize(2 * s.len(), T::Key::default());
                }
            }
        });
    });
    let ordered: Vec<Vec<f64>> = (0..pslots)
        .into_par_iter()
        .map(|s| {
            let (i, j) = (s / k, s % k);
            if nan[s] {
                return vec![f64::NAN; ranks[i].len()];
            }
            let wj = &want[s * nb..(s + 1) * nb];
            let mut keys = Vec::new();
            for c in (0..nc).filter(|&c| in_class(i, c)) {
                for w in &ws {
                    let cs = c * k + j;
                    keys.extend(
                        w.stage[cs][..w.at[cs]]
                            .iter()
                            .filter(|&&key| wj[top::<T>(key)] == 1),
                    );
                }
            }
            select_located::<T>(&keys, &located[s])
        })
        .collect();
    let mut ordered = ordered.into_iter();
    let mut nan = nan.into_iter();
    (0..np)
        .map(|_| {
            (
                ordered.by_ref().take(k).collect(),
                nan.by_ref().take(k).collect(),
            )
        })
        .collect()
}

/// Each event's class (index of its membership pattern) and the patterns;
/// None when there are more than [`MAX_CLASSES`].
fn classes(mask: &[u32]) -> Option<(Vec<u8>, Vec<u32>)> {
    let mut patterns: Vec<u32> = Vec::new();
    let mut last = (u32::MAX, 0u8);
    let mut class = Vec::with_capacity(mask.len());
    for &m in mask {
        if m != last.0 {
            let c = match patterns.iter().position(|&x| x == m) {
                Some(c) => c,
                None => {
                    if patterns.len() == MAX_CLASSES {
                        return None;
                    }
                    patterns.push(m);
                    patterns.len() - 1
                }
            };
            last = (m, c as u8);
        }
        class.push(last.1);
    }
    Some((class, patterns))
}
