//! Statistics of many large populations of one matrix in two shared passes.
//!
//! Gated populations nest: a row of the matrix is usually a member of several
//! of them. Streaming each population on its own reads such a row (a cache
//! miss, the real cost) once per population and pass. Here each pass runs once
//! over the events, in spans run in parallel, skipping events in no population:
//! - pass 1 counts each row's order keys into the histograms of its class
//!   (membership pattern, see [`super::membership`]; a population's histogram is
//!   the sum of its classes'), notes NaNs per class, and folds the row into the
//!   open moment chunks of each of its populations ([`super::moments`]);
//! - pass 2 keeps, per class and column, the keys in the buckets that hold a
//!   rank some population of the class wants, and folds squared deviations.
//!
//! Pass 1 lays the keys of a block of rows out column by column before
//! counting, so that the histograms being updated at a time are one column's
//! (one per class), which stay in the near caches, rather than every column's.
//! Counts are integers and kept keys are selected by value, so no result
//! depends on the spans or on which worker ran which.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::membership::{classify, Membership};
use super::moments::{self, Fold, Moments, Need, Tracker};
use super::rows::{Source, View};
use super::select::{buckets, locate_ranks, select_in_bucket, stride, top};
use super::OrderKey;

fn borrow(v: &[(usize, Vec<f64>)]) -> Vec<(usize, &[f64])> {
    v.iter().map(|(c, s)| (*c, &s[..])).collect()
}

/// Rows per block of pass 1.
const BLOCK: usize = 256;
/// Populations per shared pass (bits of the membership pattern).
const GROUP: usize = 32;
/// Most patterns of membership a shared pass handles; beyond, the group splits.
const MAX_CLASSES: usize = 64;

/// Per population: per column, the values at its ranks (NaN when the column
/// holds a NaN), whether the column holds a NaN, and its moments.
pub(crate) struct Output {
    pub ordered: Vec<Vec<f64>>,
    pub nan: Vec<bool>,
    pub moments: Vec<Moments>,
}

/// `ranks[i]` (sorted, distinct, each below the population's size; may be
/// empty) of every population `pops[i]` (`None` = every event), and the
/// moments `need` asks for, for every column of `src`.
pub(crate) fn run<T: OrderKey>(
    src: &Source<'_, T>,
    pops: &[Option<&[u32]>],
    ranks: &[Vec<usize>],
    need: Need,
) -> Vec<Output> {
    pops.chunks(GROUP)
        .zip(ranks.chunks(GROUP))
        .flat_map(|(pg, rg)| group(src, pg, rg, need))
        .collect()
}

struct Worker<K> {
    /// (class, column) × buckets counts.
    hist: Vec<u32>,
    /// Per (class, column): holds a NaN.
    nan: Vec<bool>,
    /// One block's keys, column by column, and the rows' classes.
    keys: Vec<K>,
    cls: Vec<u8>,
    /// Kept keys of (class, column) s in `stage[off[s]..][..at[s]]`.
    stage: Vec<K>,
    at: Vec<usize>,
    moments: Tracker,
}

/// Runs `f(worker, span)` for every span, the workers in parallel, each
/// taking the next span from a shared counter.
fn spread<K: Send>(
    ws: &mut [Worker<K>],
    spans: &[Range<usize>],
    f: impl Fn(&mut Worker<K>, Range<usize>) + Sync,
) {
    let next = AtomicUsize::new(0);
    let used = ws.len().min(spans.len());
    ws[..used].par_iter_mut().for_each(|w| loop {
        let si = next.fetch_add(1, Ordering::Relaxed);
        let Some(span) = spans.get(si) else { break };
        f(w, span.clone());
    });
}

/// The spans the events are cut into: enough for the workers to balance, few
/// enough that the moment chunks running past a span's end stay rare.
fn spans(n: usize, threads: usize, need: Need) -> Vec<Range<usize>> {
    let per_thread = if need.sums { 4 } else { 8 };
    let len = n
        .div_ceil(threads * per_thread)
        .next_multiple_of(BLOCK)
        .max(BLOCK);
    (0..n.div_ceil(len))
        .map(|s| s * len..((s + 1) * len).min(n))
        .collect()
}

fn group<T: OrderKey>(
    src: &Source<'_, T>,
    pops: &[Option<&[u32]>],
    ranks: &[Vec<usize>],
    need: Need,
) -> Vec<Output> {
    let Some(mb) = classify(src.n, pops, MAX_CLASSES) else {
        let half = pops.len() / 2;
        let mut out = group(src, &pops[..half], &ranks[..half], need);
        out.extend(group(src, &pops[half..], &ranks[half..], need));
        return out;
    };
    let (np, k, nc) = (pops.len(), src.cols.len(), mb.patterns.len());
    let order = ranks.iter().any(|r| !r.is_empty());
    let threads = rayon::current_num_threads().max(1);
    let hist_len = if order { nc * k * stride::<T>() } else { 0 };
    let mut ws: Vec<Worker<T::Key>> = (0..threads)
        .map(|_| Worker {
            hist: vec![0; hist_len],
            nan: vec![false; nc * k],
            keys: vec![T::Key::default(); k * BLOCK],
            cls: vec![0; BLOCK],
            stage: Vec::new(),
            at: vec![0; nc * k],
            moments: Tracker::new(np, k),
        })
        .collect();
    let spans = spans(src.n, threads, need);
    let sums = Fold::Sums {
        extremes: need.extremes,
    };
    spread(&mut ws, &spans, |w, span| {
        pass1(w, src, &mb, pops, span, order, need.sums.then_some(sums));
    });
    // Per (population, column): NaN, from the classes'.
    let in_class = |i: usize, c: usize| mb.patterns[c] >> i & 1 == 1;
    let nan: Vec<bool> = (0..np * k)
        .map(|s| (0..nc).any(|c| in_class(s / k, c) && ws.iter().any(|w| w.nan[c * k + s % k])))
        .collect();
    let done1: Vec<moments::Done> = ws
        .iter_mut()
        .flat_map(|w| std::mem::take(&mut w.moments.done))
        .collect();
    let of_pop = |done: &[moments::Done], i: usize| -> Vec<(usize, Vec<f64>)> {
        done.iter()
            .filter(|d| d.0 == i)
            .map(|d| (d.1, d.2.clone()))
            .collect()
    };
    let len = |i: usize| pops[i].map_or(src.n, |m| m.len());
    let sums_of: Vec<Vec<(usize, Vec<f64>)>> = (0..np).map(|i| of_pop(&done1, i)).collect();
    let means: Vec<Vec<f64>> = if need.squares {
        (0..np)
            .map(|i| moments::chunk_means(len(i), k, &borrow(&sums_of[i])))
            .collect()
    } else {
        Vec::new()
    };
    // Where each population's ranks lie, and which buckets to keep.
    let plan = order.then(|| Keep::plan::<T>(&mut ws, &mb, ranks, &nan, k));
    if let Some(plan) = &plan {
        for w in ws.iter_mut() {
            w.hist = Vec::new();
            w.stage = vec![T::Key::default(); plan.stage_len];
        }
    }
    if plan.is_some() || need.squares {
        let squares = need.squares.then_some(Fold::Squares { means: &means });
        spread(&mut ws, &spans, |w, span| {
            pass2(w, src, &mb, pops, span, plan.as_ref(), squares);
        });
    }
    let done2: Vec<moments::Done> = ws
        .iter_mut()
        .flat_map(|w| std::mem::take(&mut w.moments.done))
        .collect();
    let ordered: Vec<Vec<Vec<f64>>> = match &plan {
        Some(plan) => plan.select::<T>(&ws, &mb, ranks, &nan, k),
        None => vec![vec![Vec::new(); k]; np],
    };
    let mut nan = nan.chunks(k);
    ordered
        .into_iter()
        .enumerate()
        .map(|(i, ordered)| {
            let squares = of_pop(&done2, i);
            Output {
                ordered,
                nan: nan.next().map(|c| c.to_vec()).unwrap_or_default(),
                moments: moments::combine(len(i), k, &borrow(&sums_of[i]), &borrow(&squares)),
            }
        })
        .collect()
}

/// Pass 1 over one span: histograms, NaN flags, moment sums.
fn pass1<T: OrderKey>(
    w: &mut Worker<T::Key>,
    src: &Source<'_, T>,
    mb: &Membership,
    pops: &[Option<&[u32]>],
    span: Range<usize>,
    order: bool,
    sums: Option<Fold<'_>>,
) {
    let k = src.cols.len();
    let sd = stride::<T>();
    let mut view = View::new(src);
    let mut xs = vec![0f64; k];
    w.moments.start(pops, src.n, &span);
    let Worker {
        hist,
        nan,
        keys,
        cls,
        moments,
        ..
    } = w;
    let mut e0 = span.start;
    while e0 < span.end {
        let e1 = (e0 + BLOCK).min(span.end);
        let mut cnt = 0;
        for (e, &c) in (e0..e1).zip(&mb.class[e0..e1]) {
            if Some(c) == mb.empty {
                continue;
            }
            let v = view.row(e);
            let mut any_nan = false;
            for (kj, &x) in keys.chunks_exact_mut(BLOCK).zip(v) {
                kj[cnt] = x.order_key();
                any_nan |= x.is_nan_value();
            }
            if any_nan {
                let c = c as usize;
                for (f, x) in nan[c * k..(c + 1) * k].iter_mut().zip(v) {
                    *f |= x.is_nan_value();
                }
            }
            if let Some(fold) = sums {
                for (o, &x) in xs.iter_mut().zip(v) {
                    *o = x.to_f64();
                }
                moments.row(mb.patterns[c as usize], &xs, fold);
            }
            cls[cnt] = c;
            cnt += 1;
        }
        if order {
            // Column by column: one column's histograms at a time in cache.
            for (j, kj) in keys.chunks_exact(BLOCK).enumerate() {
                for (&key, &c) in kj[..cnt].iter().zip(&cls[..cnt]) {
                    hist[(c as usize * k + j) * sd + top::<T>(key)] += 1;
                }
            }
        }
        e0 = e1;
    }
    if let Some(fold) = sums {
        moments.finish(pops, fold, |e, xs| read_f64(&mut view, e, xs));
    }
}

#[inline(always)]
fn read_f64<T: OrderKey>(view: &mut View<'_, '_, T>, e: usize, xs: &mut [f64]) {
    for (o, &x) in xs.iter_mut().zip(view.row(e)) {
        *o = x.to_f64();
    }
}

/// Pass 2 over one span: keep the wanted keys; fold squared deviations.
fn pass2<T: OrderKey>(
    w: &mut Worker<T::Key>,
    src: &Source<'_, T>,
    mb: &Membership,
    pops: &[Option<&[u32]>],
    span: Range<usize>,
    plan: Option<&Keep>,
    squares: Option<Fold<'_>>,
) {
    let k = src.cols.len();
    let mut view = View::new(src);
    let mut xs = vec![0f64; k];
    w.moments.start(pops, src.n, &span);
    let Worker {
        stage, at, moments, ..
    } = w;
    for (e, &c) in span.clone().zip(&mb.class[span]) {
        if Some(c) == mb.empty {
            continue;
        }
        let v = view.row(e);
        let c = c as usize;
        if let Some(plan) = plan {
            // Every key is written to its stage, whose length grows only when
            // the key is wanted: no branch to mispredict.
            let words = plan.words;
            let slots = c * k..(c + 1) * k;
            for (((&x, a), &off), want) in v
                .iter()
                .zip(&mut at[slots.clone()])
                .zip(&plan.off[slots.clone()])
                .zip(plan.want[slots.start * words..slots.end * words].chunks_exact(words))
            {
                let key = x.order_key();
                let b = top::<T>(key);
                stage[off + *a] = key;
                *a += (want[b / 64] >> (b % 64) & 1) as usize;
            }
        }
        if let Some(fold) = squares {
            for (o, &x) in xs.iter_mut().zip(v) {
                *o = x.to_f64();
            }
            moments.row(mb.patterns[c], &xs, fold);
        }
    }
    if let Some(fold) = squares {
        moments.finish(pops, fold, |e, xs| read_f64(&mut view, e, xs));
    }
}

/// What pass 2 keeps, from pass 1's histograms.
struct Keep {
    /// Per (population, column): (bucket, offset in bucket) of each rank.
    located: Vec<Vec<(usize, usize)>>,
    /// Per (class, column): bit set of the wanted buckets, `words` u64 each.
    want: Vec<u64>,
    words: usize,
    /// Per (class, column): where its kept keys start in a worker's stage.
    off: Vec<usize>,
    stage_len: usize,
}

impl Keep {
    fn plan<T: OrderKey>(
        ws: &mut [Worker<T::Key>],
        mb: &Membership,
        ranks: &[Vec<usize>],
        nan: &[bool],
        k: usize,
    ) -> Keep {
        let (np, nc, nb, sd) = (
            ranks.len(),
            mb.patterns.len(),
            buckets::<T>(),
            stride::<T>(),
        );
        // Fold the workers' counts into the first worker's.
        if let Some((first, rest)) = ws.split_first_mut() {
            for w in rest.iter() {
                for (a, b) in first.hist.iter_mut().zip(&w.hist) {
                    *a += *b;
                }
            }
        }
        let hist: &[u32] = ws.first().map_or(&[], |w| &w.hist);
        let in_class = |i: usize, c: usize| mb.patterns[c] >> i & 1 == 1;
        let located: Vec<Vec<(usize, usize)>> = (0..np * k)
            .into_par_iter()
            .map(|s| {
                let (i, j) = (s / k, s % k);
                if nan[s] || ranks[i].is_empty() {
                    return Vec::new();
                }
                let mut total = vec![0u32; nb];
                for c in (0..nc).filter(|&c| in_class(i, c)) {
                    let h = &hist[(c * k + j) * sd..][..nb];
                    for (t, x) in total.iter_mut().zip(h) {
                        *t += x;
                    }
                }
                locate_ranks(&total, &ranks[i])
            })
            .collect();
        let words = nb.div_ceil(64);
        let mut want = vec![0u64; nc * k * words];
        for (s, loc) in located.iter().enumerate() {
            let (i, j) = (s / k, s % k);
            for &(b, _) in loc {
                for c in (0..nc).filter(|&c| in_class(i, c)) {
                    want[(c * k + j) * words + b / 64] |= 1 << (b % 64);
                }
            }
        }
        // A worker keeps at most every wanted key of a (class, column), and
        // writes one slot past its last kept key.
        let mut off = Vec::with_capacity(nc * k);
        let mut stage_len = 0;
        for s in 0..nc * k {
            off.push(stage_len);
            let h = &hist[s * sd..][..nb];
            let w = &want[s * words..][..words];
            let kept: usize = (0..nb)
                .filter(|&b| w[b / 64] >> (b % 64) & 1 == 1)
                .map(|b| h[b] as usize)
                .sum();
            stage_len += kept + 1;
        }
        Keep {
            located,
            want,
            words,
            off,
            stage_len,
        }
    }

    /// Per population, per column, the values at its ranks.
    fn select<T: OrderKey>(
        &self,
        ws: &[Worker<T::Key>],
        mb: &Membership,
        ranks: &[Vec<usize>],
        nan: &[bool],
        k: usize,
    ) -> Vec<Vec<Vec<f64>>> {
        let (np, nc) = (ranks.len(), mb.patterns.len());
        // Each (class, column)'s kept keys, grouped by bucket.
        let grouped: Vec<Grouped<T::Key>> = (0..nc * k)
            .into_par_iter()
            .map(|s| self.group_keys::<T>(ws, s))
            .collect();
        let in_class = |i: usize, c: usize| mb.patterns[c] >> i & 1 == 1;
        let flat: Vec<Vec<f64>> = (0..np * k)
            .into_par_iter()
            .map(|s| {
                let (i, j) = (s / k, s % k);
                if nan[s] {
                    return vec![f64::NAN; ranks[i].len()];
                }
                let loc = &self.located[s];
                let mut out = Vec::with_capacity(loc.len());
                let mut keys = Vec::new();
                let mut at = 0;
                while at < loc.len() {
                    let b = loc[at].0;
                    let same = loc[at..].iter().take_while(|l| l.0 == b).count();
                    keys.clear();
                    for c in (0..nc).filter(|&c| in_class(i, c)) {
                        keys.extend_from_slice(grouped[c * k + j].bucket(b));
                    }
                    let offs: Vec<usize> = loc[at..at + same].iter().map(|l| l.1).collect();
                    out.extend(select_in_bucket::<T>(&mut keys, &offs));
                    at += same;
                }
                out
            })
            .collect();
        let mut flat = flat.into_iter();
        (0..np).map(|_| flat.by_ref().take(k).collect()).collect()
    }

    /// The keys every worker kept for (class, column) `s`, grouped by bucket.
    fn group_keys<T: OrderKey>(&self, ws: &[Worker<T::Key>], s: usize) -> Grouped<T::Key> {
        let words = &self.want[s * self.words..][..self.words];
        let list: Vec<usize> = (0..buckets::<T>())
            .filter(|&b| words[b / 64] >> (b % 64) & 1 == 1)
            .collect();
        let parts = || ws.iter().map(|w| &w.stage[self.off[s]..][..w.at[s]]);
        let total: usize = parts().map(|p| p.len()).sum();
        if list.len() <= 1 {
            let keys: Vec<T::Key> = parts().flatten().copied().collect();
            let start = vec![0, keys.len()];
            return Grouped { list, start, keys };
        }
        // Counting sort by bucket.
        let mut count = vec![0usize; list.len() + 1];
        let mut map = vec![0u16; buckets::<T>()];
        for (g, &b) in list.iter().enumerate() {
            map[b] = g as u16;
        }
        let index = |key: T::Key| map[top::<T>(key)] as usize;
        for p in parts() {
            for &key in p {
                count[index(key) + 1] += 1;
            }
        }
        for g in 1..count.len() {
            count[g] += count[g - 1];
        }
        let start = count.clone();
        let mut keys = vec![T::Key::default(); total];
        for p in parts() {
            for &key in p {
                let g = index(key);
                keys[count[g]] = key;
                count[g] += 1;
            }
        }
        Grouped { list, start, keys }
    }
}

/// Kept keys sorted into their buckets.
struct Grouped<K> {
    /// The buckets, ascending.
    list: Vec<usize>,
    /// Group g is `keys[start[g]..start[g + 1]]`.
    start: Vec<usize>,
    keys: Vec<K>,
}

impl<K> Grouped<K> {
    fn bucket(&self, b: usize) -> &[K] {
        match self.list.binary_search(&b) {
            Ok(g) => &self.keys[self.start[g]..self.start[g + 1]],
            Err(_) => &[],
        }
    }
}
