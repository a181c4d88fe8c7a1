//! Mean, SD, min and max of large populations, accumulated during the shared
//! passes over the union of their rows.
//!
//! The numbers must not depend on the thread count, nor change from the
//! per-population streaming that came before (its results are the contract):
//! each population's rows are cut into fixed chunks of [`CHUNK`] members; a
//! chunk's sum, min and max are folded in member order; its squared
//! deviations from its own mean (sum / len) are summed in member order in the
//! second pass; chunks are combined in order with Chan's formula.
//!
//! The shared passes split the events into spans run in parallel. A chunk is
//! owned by the span holding its first member: that span's worker folds the
//! chunk's rows in order, and when the chunk runs past the span's end, goes on
//! over the population's next members by itself. Every chunk is thus folded in
//! one sequence by one worker, whatever the spans.

use std::ops::Range;

/// Members per chunk; fixed (results depend on it).
pub(crate) const CHUNK: usize = 16_384;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Moments {
    pub n: f64,
    pub mean: f64,
    pub m2: f64,
    pub min: f64,
    pub max: f64,
}

impl Moments {
    pub(crate) const EMPTY: Moments = Moments {
        n: 0.0,
        mean: 0.0,
        m2: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    /// Chan et al.'s pairwise combination of two partial results.
    fn combine(self, b: Moments) -> Moments {
        if self.n == 0.0 {
            return b;
        }
        if b.n == 0.0 {
            return self;
        }
        let n = self.n + b.n;
        let delta = b.mean - self.mean;
        Moments {
            n,
            mean: self.mean + delta * b.n / n,
            m2: self.m2 + b.m2 + delta * delta * self.n * b.n / n,
            min: self.min.min(b.min),
            max: self.max.max(b.max),
        }
    }
}

/// Which moments a request needs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Need {
    /// Sums (for the mean, and the SD's chunk means).
    pub sums: bool,
    pub extremes: bool,
    /// Squared deviations (SD, CV).
    pub squares: bool,
}

/// What a pass folds into a population's open chunk.
#[derive(Clone, Copy)]
pub(crate) enum Fold<'a> {
    /// Sum, and min and max when asked: 3k values (sums, mins, maxs).
    Sums { extremes: bool },
    /// Squared deviations from each chunk's mean (`means[pop]`, k per chunk).
    Squares { means: &'a [Vec<f64>] },
}

/// One population's place in the span being run.
#[derive(Clone, Copy, Default)]
struct Cursor {
    /// Member index of the next row of the population.
    idx: usize,
    /// First member whose chunk this span owns.
    own_from: usize,
    /// First member past the span.
    end: usize,
    /// First member past the last chunk this span owns.
    owned_end: usize,
    len: usize,
}

/// A finished chunk: population, chunk index, folded values.
pub(crate) type Done = (usize, usize, Vec<f64>);

/// One worker's open chunks and finished ones.
pub(crate) struct Tracker {
    k: usize,
    cur: Vec<Cursor>,
    acc: Vec<f64>,
    pub done: Vec<Done>,
}

#[inline(always)]
fn member(pop: Option<&[u32]>, t: usize) -> usize {
    pop.map_or(t, |m| m[t] as usize)
}

fn position(pop: Option<&[u32]>, n: usize, e: usize) -> usize {
    pop.map_or(e.min(n), |m| m.partition_point(|&x| (x as usize) < e))
}

impl Tracker {
    pub(crate) fn new(pops: usize, k: usize) -> Self {
        Tracker {
            k,
            cur: vec![Cursor::default(); pops],
            acc: vec![0.0; pops * 3 * k],
            done: Vec::new(),
        }
    }

    /// Positions every population at the start of span `span` of `n` events.
    pub(crate) fn start(&mut self, pops: &[Option<&[u32]>], n: usize, span: &Range<usize>) {
        for (c, &pop) in self.cur.iter_mut().zip(pops) {
            let len = pop.map_or(n, |m| m.len());
            let idx = position(pop, n, span.start);
            let end = position(pop, n, span.end);
            let own_from = idx.next_multiple_of(CHUNK);
            // No chunk starts in the span: nothing to go on with past its end.
            let owned_end = if own_from < end {
                end.next_multiple_of(CHUNK).min(len)
            } else {
                end
            };
            *c = Cursor {
                idx,
                own_from,
                end,
                owned_end,
                len,
            };
        }
        let k = self.k;
        for a in self.acc.chunks_exact_mut(3 * k) {
            reset(a, k);
        }
    }

    /// Folds the values `xs` of one row into each population of `bits`.
    #[inline(always)]
    pub(crate) fn row(&mut self, mut bits: u32, xs: &[f64], fold: Fold<'_>) {
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            self.one(i, xs, fold);
        }
    }

    #[inline(always)]
    fn one(&mut self, i: usize, xs: &[f64], fold: Fold<'_>) {
        let k = self.k;
        let c = &mut self.cur[i];
        let t = c.idx;
        c.idx += 1;
        if t < c.own_from {
            return;
        }
        let last = (t + 1) % CHUNK == 0 || t + 1 == c.len;
        let a = &mut self.acc[i * 3 * k..(i + 1) * 3 * k];
        match fold {
            Fold::Sums { extremes } => {
                let (s, rest) = a.split_at_mut(k);
                // Zipped, not indexed: no bounds checks, vector code across columns.
                for (s, &x) in s.iter_mut().zip(xs) {
                    *s += x;
                }
                if extremes {
                    let (lo, hi) = rest.split_at_mut(k);
                    for ((lo, hi), &x) in lo.iter_mut().zip(hi.iter_mut()).zip(xs) {
                        *lo = lo.min(x);
                        *hi = hi.max(x);
                    }
                }
            }
            Fold::Squares { means } => {
                let mu = &means[i][t / CHUNK * k..][..k];
                for ((m, &mu), &x) in a[..k].iter_mut().zip(mu).zip(xs) {
                    let d = x - mu;
                    *m += d * d;
                }
            }
        }
        if last {
            let width = match fold {
                Fold::Sums { .. } => 3 * k,
                Fold::Squares { .. } => k,
            };
            self.done.push((i, t / CHUNK, a[..width].to_vec()));
            reset(a, k);
        }
    }

    /// Finishes the chunks this span owns that run past its end, reading the
    /// populations' next members with `row` (the scaled f64 values of an event).
    pub(crate) fn finish(
        &mut self,
        pops: &[Option<&[u32]>],
        fold: Fold<'_>,
        mut row: impl FnMut(usize, &mut [f64]),
    ) {
        let mut xs = vec![0.0; self.k];
        for (i, &pop) in pops.iter().enumerate() {
            let Cursor { end, owned_end, .. } = self.cur[i];
            self.cur[i].idx = end;
            for t in end..owned_end {
                row(member(pop, t), &mut xs);
                self.one(i, &xs, fold);
            }
        }
    }
}

fn reset(a: &mut [f64], k: usize) {
    let (s, rest) = a.split_at_mut(k);
    let (lo, hi) = rest.split_at_mut(k);
    s.fill(0.0);
    lo.fill(f64::INFINITY);
    hi.fill(f64::NEG_INFINITY);
}

/// Per chunk of a population of `len` members, the mean of every column, from
/// the finished chunks of pass 1 (`(chunk, sums | mins | maxs)`, any order).
pub(crate) fn chunk_means(len: usize, k: usize, sums: &[(usize, &[f64])]) -> Vec<f64> {
    let mut means = vec![0.0; len.div_ceil(CHUNK) * k];
    for &(ci, s) in sums {
        let n = chunk_len(len, ci) as f64;
        for (m, &s) in means[ci * k..][..k].iter_mut().zip(&s[..k]) {
            *m = s / n;
        }
    }
    means
}

fn chunk_len(len: usize, ci: usize) -> usize {
    CHUNK.min(len - ci * CHUNK)
}

/// Per column, the population's moments: its chunks (`sums` from pass 1,
/// `squares` from pass 2, each `(chunk, values)` in any order) combined in
/// chunk order.
pub(crate) fn combine(
    len: usize,
    k: usize,
    sums: &[(usize, &[f64])],
    squares: &[(usize, &[f64])],
) -> Vec<Moments> {
    let chunks = len.div_ceil(CHUNK);
    let mut by_chunk: Vec<Option<&[f64]>> = vec![None; chunks];
    for &(ci, s) in sums {
        by_chunk[ci] = Some(s);
    }
    let mut sq: Vec<Option<&[f64]>> = vec![None; chunks];
    for &(ci, s) in squares {
        sq[ci] = Some(s);
    }
    (0..k)
        .map(|j| {
            (0..chunks)
                .map(|ci| {
                    let n = chunk_len(len, ci) as f64;
                    let s = by_chunk[ci];
                    Moments {
                        n,
                        mean: s.map_or(0.0, |s| s[j] / n),
                        m2: sq[ci].map_or(0.0, |q| q[j]),
                        min: s.map_or(f64::INFINITY, |s| s[k + j]),
                        max: s.map_or(f64::NEG_INFINITY, |s| s[2 * k + j]),
                    }
                })
                .fold(Moments::EMPTY, Moments::combine)
        })
        .collect()
}
