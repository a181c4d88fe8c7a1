//! The shared pass over the events: each row's keys against the brackets of
//! the populations it is in ([`super::lanes`]), NaN flags per class, and the
//! moment chunks.

use std::ops::Range;

use super::bracket::Plan;
use super::lanes::{bracket_rows, Hits, Lookup, Simd, W};
use super::membership::Membership;
use super::moments::{Fold, Tracker};
use super::rows::{Source, View};
use super::OrderKey;

/// Rows per step: the bracketing kernel runs over them, then the moments
/// fold them while they are still in cache.
const STEP: usize = 512;

impl<L: Copy> Lookup<L> {
    /// The entries of every class of `mb`: for each block of `k` columns, the
    /// brackets of the slots of the class's populations (none without a plan).
    pub(crate) fn new(plan: Option<&Plan<L>>, mb: &Membership, k: usize) -> Self {
        let kb = k.div_ceil(W);
        let mut lk = Lookup {
            of_class: Vec::with_capacity(mb.patterns.len()),
            bounds: Vec::new(),
            block: Vec::new(),
            at: Vec::new(),
            stream: Vec::new(),
        };
        for &pat in &mb.patterns {
            let start = lk.bounds.len();
            if let Some(plan) = plan {
                let slots: Vec<usize> = plan
                    .slots_of
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| pat >> i & 1 == 1)
                    .flat_map(|(_, r)| r.clone())
                    .collect();
                for b in 0..kb {
                    for &s in &slots {
                        lk.bounds.push(plan.bounds[s * kb + b]);
                        lk.block.push(b);
                        lk.at.push(s * k + b * W);
                        lk.stream.push(s * kb + b);
                    }
                }
            }
            lk.of_class.push(start..lk.bounds.len());
        }
        lk
    }
}

/// One worker's share of the pass.
pub(crate) struct Worker<L> {
    pub hits: Hits<L>,
    /// Per (slot, column): keys below the bracket, over every span run.
    pub below: Vec<u64>,
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
    lookup: &Lookup<T::Lane>,
    sums: Option<Fold<'_>>,
    simd: Simd,
) {
    let k = src.cols.len();
    let mut view = View::new(ksrc);
    // Sums need the scaled values only when the keys are read unscaled.
    let mut sview = (src.is_scaled() && !ksrc.is_scaled()).then(|| View::new(src));
    let mut xs = vec![0f64; k];
    if sums.is_some() {
        w.moments.start(pops, src.n, &span);
    }
    w.hits.below.fill([0; W]);
    let mut at = span.start;
    while at < span.end {
        let step = at..(at + STEP).min(span.end);
        at = step.end;
        bracket_rows(&mut view, step.clone(), mb, lookup, &mut w.hits, simd);
        if let Some(fold) = sums {
            let v = sview.as_mut().unwrap_or(&mut view);
            for (e, &c) in step.clone().zip(&mb.class[step]) {
                if Some(c) != mb.empty {
                    read_f64(v, e, &mut xs);
                    w.moments.row(mb.patterns[c as usize], &xs, fold);
                }
            }
        }
    }
    // The span's counts (u32: a span is shorter than 2^31 rows) into the totals.
    for (ent, bl) in w.hits.below.iter().enumerate() {
        let cols = k - lookup.block[ent] * W;
        for (t, &x) in w.below[lookup.at[ent]..].iter_mut().zip(&bl[..cols.min(W)]) {
            *t += x as u64;
        }
    }
    if let Some(fold) = sums {
        let view = sview.as_mut().unwrap_or(&mut view);
        w.moments.finish(pops, fold, |e, xs| read_f64(view, e, xs));
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
