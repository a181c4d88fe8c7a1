//! Statistics of many large populations of one matrix in one shared pass.
//!
//! Gated populations nest: a row of the matrix is usually a member of several
//! of them. Streaming each population on its own reads such a row (a cache
//! miss, the real cost) once per population. Here a pass runs once over the
//! events, in spans run in parallel, skipping events in no population; each
//! row's populations come from its class (membership pattern, see
//! [`super::membership`]). For order statistics, a sample of each population
//! first gives brackets around its wanted ranks ([`super::bracket`]); the pass
//! then counts, per (bracket, column), the keys below the bracket and keeps
//! the few inside it, and selection runs on those ([`super::select`]).
//! The pass also notes NaNs per class and folds each row into the open moment
//! chunks of its populations ([`super::moments`]); squared deviations, which
//! need the chunks' means, take a second pass when asked for.
//!
//! Counts are integers and kept keys are selected by value, so no result
//! depends on the spans or on which worker ran which.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::bracket::{self, Tuning};
use super::lanes::{Hits, Kept, Lookup, W};
use super::membership::{classify, Pop};
use super::moments::{self, Fold, Moments, Need, Tracker};
use super::pass::{self, Worker};
use super::rows::Source;
use super::select;
use super::OrderKey;

fn borrow(v: &[(usize, Vec<f64>)]) -> Vec<(usize, &[f64])> {
    v.iter().map(|(c, s)| (*c, &s[..])).collect()
}

/// Populations per shared pass (bits of the membership pattern).
const GROUP: usize = 32;
/// Most patterns of membership a shared pass handles; beyond, the group splits.
const MAX_CLASSES: usize = 64;
/// Longest span: a span's counts are u32.
const MAX_SPAN: usize = 1 << 31;

/// Per population: per column, the values at its ranks (NaN when the column
/// holds a NaN), whether the column holds a NaN, and its moments; how many
/// columns needed the exact fallback, and how many keys the brackets kept.
pub(crate) struct Output {
    pub ordered: Vec<Vec<f64>>,
    pub nan: Vec<bool>,
    pub moments: Vec<Moments>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub misses: usize,
    #[cfg_attr(not(test), allow(dead_code))]
    pub kept: usize,
}

/// `ranks[i]` (sorted, distinct, each below the population's size; may be
/// empty) of every population `pops[i]`, and the moments `need` asks for, for
/// every column of `src` (moments need the populations as lists).
pub(crate) fn run<T: OrderKey>(
    src: &Source<'_, T>,
    pops: &[Pop<'_>],
    ranks: &[Vec<usize>],
    need: Need,
) -> Vec<Output> {
    run_with(src, pops, ranks, need, &Tuning::DEFAULT)
}

/// [`run`] with brackets as `tune` says.
pub(crate) fn run_with<T: OrderKey>(
    src: &Source<'_, T>,
    pops: &[Pop<'_>],
    ranks: &[Vec<usize>],
    need: Need,
    tune: &Tuning,
) -> Vec<Output> {
    pops.chunks(GROUP)
        .zip(ranks.chunks(GROUP))
        .flat_map(|(pg, rg)| group(src, pg, rg, need, tune))
        .collect()
}

/// Runs `f(worker, span)` for every span, the workers in parallel, each
/// taking the next span from a shared counter.
fn spread<L: Send>(
    ws: &mut [Worker<L>],
    spans: &[Range<usize>],
    f: impl Fn(&mut Worker<L>, Range<usize>) + Sync,
) {
    let next = AtomicUsize::new(0);
    let used = ws.len().min(spans.len());
    ws[..used].par_iter_mut().for_each(|w| loop {
        let si = next.fetch_add(1, Ordering::Relaxed);
        let Some(span) = spans.get(si) else { break };
        f(w, span.clone());
    });
}

/// Spans per worker (see [`spans`]).
fn spans_per_worker(need: Need) -> usize {
    if need.sums {
        4
    } else {
        8
    }
}

/// The spans the events are cut into: enough for the workers to balance, few
/// enough that the moment chunks running past a span's end stay rare.
fn spans(n: usize, threads: usize, need: Need) -> Vec<Range<usize>> {
    let per_thread = spans_per_worker(need);
    let len = n
        .div_ceil(threads * per_thread)
        .next_multiple_of(256)
        .clamp(256, MAX_SPAN);
    (0..n.div_ceil(len))
        .map(|s| s * len..((s + 1) * len).min(n))
        .collect()
}

fn group<T: OrderKey>(
    src: &Source<'_, T>,
    pops: &[Pop<'_>],
    ranks: &[Vec<usize>],
    need: Need,
    tune: &Tuning,
) -> Vec<Output> {
    let Some(mb) = classify(src.n, pops, MAX_CLASSES) else {
        let half = pops.len() / 2;
        let mut out = group(src, &pops[..half], &ranks[..half], need, tune);
        out.extend(group(src, &pops[half..], &ranks[half..], need, tune));
        return out;
    };
    let (np, k, nc) = (pops.len(), src.cols.len(), mb.patterns.len());
    let order = ranks.iter().any(|r| !r.is_empty());
    // Order statistics on the stored values when the scales keep the order:
    // no scaling per event, only of the values selected.
    let stored = src.for_order();
    let ksrc = stored.as_ref().unwrap_or(src);
    let plan = order.then(|| bracket::plan(ksrc, pops, ranks, &mb, tune));
    // Moments follow each population's members in order: as lists.
    let owned: Vec<Option<std::borrow::Cow<'_, [u32]>>> = if need.sums || need.squares {
        pops.iter().map(|p| p.list()).collect()
    } else {
        pops.iter().map(|_| None).collect()
    };
    let lists: Vec<Option<&[u32]>> = owned.iter().map(|o| o.as_deref()).collect();
    let lookup = Lookup::new(plan.as_ref(), &mb, k);
    let threads = rayon::current_num_threads().max(1);
    let slots = plan.as_ref().map_or(0, |p| p.ranks_in.len());
    // A worker's share of each stream's keys: about 1/threads of the spans,
    // give or take a span or two (rarely more: then the stream grows).
    let share = |n: usize| n / threads + n / spans_per_worker(need).max(1) / threads * 2;
    let mut ws: Vec<Worker<T::Lane>> = (0..threads)
        .map(|_| Worker {
            hits: Hits {
                below: vec![[0; W]; lookup.bounds.len()],
                kept: match &plan {
                    Some(p) => p
                        .expect
                        .iter()
                        .map(|&n| Kept::with_capacity(share(n)))
                        .collect(),
                    None => vec![Kept::new(); slots * k.div_ceil(W)],
                },
                nan: vec![false; nc * k],
            },
            below: vec![0; slots * k],
            moments: Tracker::new(np, k),
        })
        .collect();
    let spans = spans(src.n, threads, need);
    let sums = Fold::Sums {
        extremes: need.extremes,
    };
    spread(&mut ws, &spans, |w, span| {
        pass::keys_and_sums(
            w,
            ksrc,
            src,
            &mb,
            &lists,
            span,
            &lookup,
            need.sums.then_some(sums),
            tune.simd,
        );
    });
    // Per (population, column): NaN, from the classes'.
    let in_class = |i: usize, c: usize| mb.patterns[c] >> i & 1 == 1;
    let nan: Vec<bool> = (0..np * k)
        .map(|s| {
            (0..nc).any(|c| in_class(s / k, c) && ws.iter().any(|w| w.hits.nan[c * k + s % k]))
        })
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
    let len = |i: usize| pops[i].len(src.n);
    let sums_of: Vec<Vec<(usize, Vec<f64>)>> = (0..np).map(|i| of_pop(&done1, i)).collect();
    let mut done2: Vec<moments::Done> = Vec::new();
    if need.squares {
        let means: Vec<Vec<f64>> = (0..np)
            .map(|i| moments::chunk_means(len(i), k, &borrow(&sums_of[i])))
            .collect();
        let squares = Fold::Squares { means: &means };
        spread(&mut ws, &spans, |w, span| {
            pass::squares(w, src, &mb, &lists, span, squares);
        });
        done2 = ws
            .iter_mut()
            .flat_map(|w| std::mem::take(&mut w.moments.done))
            .collect();
    }
    let selected = plan.as_ref().map(|plan| {
        let below: Vec<&[u64]> = ws.iter().map(|w| &w.below[..]).collect();
        let kept: Vec<&[Kept<T::Lane>]> = ws.iter().map(|w| &w.hits.kept[..]).collect();
        let mut s = select::finish(plan, &below, &kept, ksrc, pops, ranks, &nan);
        if stored.is_some() && src.is_scaled() {
            for cols in &mut s.ordered {
                for (j, vals) in cols.iter_mut().enumerate() {
                    for v in vals.iter_mut().filter(|v| !v.is_nan()) {
                        *v = src.scaled(j, T::from_f64(*v)).to_f64();
                    }
                }
            }
        }
        s
    });
    let (ordered, misses, kept) = match selected {
        Some(s) => (s.ordered, s.misses, s.kept),
        None => (vec![vec![Vec::new(); k]; np], vec![0; np], vec![0; np]),
    };
    let mut nan = nan.chunks(k);
    ordered
        .into_iter()
        .zip(misses.into_iter().zip(kept))
        .enumerate()
        .map(|(i, (ordered, (misses, kept)))| {
            let squares = of_pop(&done2, i);
            Output {
                ordered,
                nan: nan.next().map(|c| c.to_vec()).unwrap_or_default(),
                moments: moments::combine(len(i), k, &borrow(&sums_of[i]), &borrow(&squares)),
                misses,
                kept,
            }
        })
        .collect()
}
