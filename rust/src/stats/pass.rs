//! The shared pass over the events: each row's keys against the brackets of
//! the populations it is in, NaN flags per class, and the moment chunks.

use std::ops::Range;

use super::bracket::{Bounds, Plan};
use super::lanes::{compare_all, tops, W};
use super::membership::Membership;
use super::moments::{Fold, Tracker};
use super::rows::{Source, View};
use super::select::Tally;
use super::OrderKey;

/// The brackets a row of each class meets, laid out class by class so that
/// a row walks one contiguous run of them per block of columns.
pub(crate) struct Lookup<L> {
    /// Per class: its entries, `blocks` runs of `slots` each.
    pub start: Vec<usize>,
    pub slots: Vec<usize>,
    /// Top 16 bits of the bounds.
    pub bounds: Vec<Bounds<i16>>,
    /// Per entry: (slot, block).
    pub of: Vec<(usize, usize)>,
    _lane: std::marker::PhantomData<L>,
}

impl<L: Copy> Lookup<L> {
    pub(crate) fn new<T: OrderKey<Lane = L>>(plan: &Plan<L>, mb: &Membership) -> Self {
        let kb = plan.k.div_ceil(W);
        let mut lk = Lookup {
            start: Vec::with_capacity(mb.patterns.len()),
            slots: Vec::with_capacity(mb.patterns.len()),
            bounds: Vec::new(),
            of: Vec::new(),
            _lane: std::marker::PhantomData,
        };
        for &pat in &mb.patterns {
            let slots: Vec<usize> = plan
                .slots_of
                .iter()
                .enumerate()
                .filter(|(i, _)| pat >> i & 1 == 1)
                .flat_map(|(_, r)| r.clone())
                .collect();
            lk.start.push(lk.bounds.len());
            lk.slots.push(slots.len());
            for b in 0..kb {
                for &s in &slots {
                    lk.bounds.push(plan.bounds[s * kb + b].map(T::top16));
                    lk.of.push((s, b));
                }
            }
        }
        lk
    }
}

pub(crate) struct Worker<L> {
    /// Per (class, column): holds a NaN.
    pub nan: Vec<bool>,
    /// Per lookup entry: keys below its bracket in the current run of rows.
    pub below: Vec<[u16; W]>,
    pub tally: Tally<L>,
    pub moments: Tracker,
}

/// The pass over one span: keys against the brackets, NaN flags, moment sums.
/// Keys and NaN flags come from `ksrc`, sums from `src`: the same columns,
/// `ksrc` possibly unscaled (see [`Source::for_order`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn keys_and_sums<T: OrderKey>(
    w: &mut Worker<T::Lane>,
    ksrc: &Source<'_, T>,
    src: &Source<'_, T>,
    mb: &Membership,
    pops: &[Option<&[u32]>],
    span: Range<usize>,
    lookup: Option<&Lookup<T::Lane>>,
    sums: Option<Fold<'_>>,
) {
    let k = src.cols.len();
    let kb = k.div_ceil(W);
    let mut view = View::new(ksrc);
    // Sums need the scaled values only when the keys are read unscaled.
    let mut sview = (src.is_scaled() && !ksrc.is_scaled()).then(|| View::new(src));
    let mut xs = vec![0f64; k];
    // Lanes past the last column stay 0: no bracket counts or keeps them.
    let mut keys = vec![[T::Lane::default(); W]; kb];
    let mut top = [0i16; W];
    if sums.is_some() {
        w.moments.start(pops, src.n, &span);
    }
    let Worker {
        nan,
        below,
        tally,
        moments,
    } = w;
    below.fill([0; W]);
    let mut run = 0u32;
    for (e, &c) in span.clone().zip(&mb.class[span]) {
        if Some(c) == mb.empty {
            continue;
        }
        if let Some(lk) = lookup.filter(|_| run == RUN) {
            flush(lk, below, &mut tally.below, k);
            run = 0;
        }
        run += 1;
        let v = view.row(e);
        let c = c as usize;
        let mut any_nan = false;
        for (blk, chunk) in keys.iter_mut().zip(v.chunks(W)) {
            for (o, &x) in blk.iter_mut().zip(chunk) {
                *o = x.lane();
                any_nan |= x.is_nan_value();
            }
        }
        if any_nan {
            for (f, x) in nan[c * k..(c + 1) * k].iter_mut().zip(v) {
                *f |= x.is_nan_value();
            }
        }
        if let Some(lk) = lookup {
            let ns = lk.slots[c];
            let mut at = lk.start[c];
            let kept = tally.kept[c * k..(c + 1) * k].chunks_mut(W);
            for (blk, kept) in keys.iter().zip(kept) {
                tops::<T>(blk, &mut top);
                let mut m = compare_all(&top, &lk.bounds[at..at + ns], &mut below[at..at + ns]);
                at += ns;
                while m != 0 {
                    let j = m.trailing_zeros() as usize;
                    m &= m - 1;
                    if let Some(v) = kept.get_mut(j) {
                        v.push(blk[j]);
                    }
                }
            }
        }
        if let Some(fold) = sums {
            let v = match sview.as_mut() {
                Some(sv) => sv.row(e),
                None => v,
            };
            for (o, &x) in xs.iter_mut().zip(v) {
                *o = x.to_f64();
            }
            moments.row(mb.patterns[c], &xs, fold);
        }
    }
    if let Some(lk) = lookup {
        flush(lk, below, &mut tally.below, k);
    }
    if let Some(fold) = sums {
        let view = sview.as_mut().unwrap_or(&mut view);
        moments.finish(pops, fold, |e, xs| read_f64(view, e, xs));
    }
}

/// Rows between flushes of the u16 counts.
const RUN: u32 = u16::MAX as u32;

/// Adds the counts of the rows since the last flush to the totals.
fn flush<L>(lk: &Lookup<L>, below: &mut [[u16; W]], total: &mut [u64], k: usize) {
    for (&(s, b), bl) in lk.of.iter().zip(below.iter_mut()) {
        let cols = b * W..k.min((b + 1) * W);
        for (t, &x) in total[s * k..][cols].iter_mut().zip(bl.iter()) {
            *t += x as u64;
        }
        *bl = [0; W];
    }
}

#[inline(always)]
fn read_f64<T: OrderKey>(view: &mut View<'_, '_, T>, e: usize, xs: &mut [f64]) {
    for (o, &x) in xs.iter_mut().zip(view.row(e)) {
        *o = x.to_f64();
    }
}

/// The second pass, for the SD: squared deviations from the chunks' means.
pub(crate) fn squares<T: OrderKey>(
    w: &mut Worker<T::Lane>,
    src: &Source<'_, T>,
    mb: &Membership,
    pops: &[Option<&[u32]>],
    span: Range<usize>,
    fold: Fold<'_>,
) {
    let k = src.cols.len();
    let mut view = View::new(src);
    let mut xs = vec![0f64; k];
    w.moments.start(pops, src.n, &span);
    for (e, &c) in span.clone().zip(&mb.class[span]) {
        if Some(c) == mb.empty {
            continue;
        }
        read_f64(&mut view, e, &mut xs);
        w.moments.row(mb.patterns[c as usize], &xs, fold);
    }
    w.moments
        .finish(pops, fold, |e, xs| read_f64(&mut view, e, xs));
}
