//! Statistics of a large population by streaming over its rows, every column at
//! once, instead of gathering column by column (which re-reads each row once
//! per column: memory traffic, not arithmetic, was the cost).
//!
//! Pass 1, over fixed chunks of rows: per column, count, sum, min, max, NaN,
//! the chunk's own mean and squared deviations (a second look at the chunk's
//! rows while they are still in cache; chunks are combined in order with
//! Chan's formula, so results do not depend on the thread count), and a
//! histogram of the top bits of each value's order key — a `u32` key for `f32`
//! data, whose top 13 bits split a binade in 16. Pass 2 keeps only the keys in
//! the buckets that hold a wanted rank; a radix selection on the following
//! bits narrows those down to a few, and a comparison selection ends it.
//!
//! Each worker owns one small histogram set for the whole request (cleared as
//! it is merged), so nothing is allocated per population. Workers take chunks
//! from a shared counter (a busy core does not hold the others up): histograms
//! are integer counts, moments are kept per chunk and combined in chunk order,
//! and kept keys are selected by value, so no result depends on which worker
//! saw which chunk, nor on the number of threads.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::compensation::apply::Sample;

use super::fused::Ordered;
use super::{
    geomean_of, interpolate, quantile_bounds, ranks_of, OrderKey, Quantiles, Request, Stat, Summary,
};

const CHUNK: usize = 16_384;

#[derive(Clone, Copy)]
struct Rows<'a> {
    all: usize,
    members: Option<&'a [u32]>,
}

impl Rows<'_> {
    fn len(&self) -> usize {
        self.members.map_or(self.all, |m| m.len())
    }

    /// Calls `f` with the event index of each of the population's rows `range`.
    #[inline(always)]
    fn each(&self, range: Range<usize>, mut f: impl FnMut(usize)) {
        match self.members {
            Some(m) => m[range].iter().for_each(|&i| f(i as usize)),
            None => range.for_each(f),
        }
    }

    /// Calls `f` with each of the population's rows `range` of the n × p
    /// matrix `values`.
    #[inline(always)]
    fn each_row<T: Sample>(
        &self,
        values: &[T],
        p: usize,
        range: Range<usize>,
        mut f: impl FnMut(&[T]),
    ) {
        super::rows::each_row(values, p, self.members, range, |_, row| f(row));
    }
}

#[derive(Clone, Copy, Debug)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    nan: bool,
}

impl Moments {
    const EMPTY: Moments = Moments {
        n: 0.0,
        mean: 0.0,
        m2: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        nan: false,
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
            nan: self.nan || b.nan,
        }
    }
}

/// One worker's state, reused across the populations of a request.
pub(crate) struct Worker<K> {
    /// k × buckets counts; all zero between populations.
    hist: Vec<u32>,
    nan: Vec<bool>,
    /// Per column, the keys pass 2 kept.
    kept: Vec<Vec<K>>,
    /// Per column, pass 2's staging area for one chunk.
    stage: Vec<Vec<K>>,
    /// (chunk index, per-column moments) of the chunks this worker took.
    moments: Vec<(usize, Vec<Moments>)>,
    /// One chunk's values, row by row (pass 1 with moments).
    block: Vec<f64>,
}

pub(crate) const fn buckets<T: OrderKey>() -> usize {
    1 << T::TOP_BITS
}

/// Distance between two columns' histograms: a few cache lines more than one
/// histogram, so that the same bucket of different columns neither shares an
/// L1 set nor aliases modulo 4 KiB (which stalls loads behind stores).
pub(crate) const fn stride<T: OrderKey>() -> usize {
    buckets::<T>() + 48
}

#[inline(always)]
pub(crate) fn top<T: OrderKey>(key: T::Key) -> usize {
    T::digit(key, T::KEY_BITS - T::TOP_BITS, T::TOP_BITS)
}

/// Workers for `k` columns, one per thread of the current pool.
pub(crate) fn workers<T: OrderKey>(k: usize) -> Vec<Worker<T::Key>> {
    (0..rayon::current_num_threads().max(1))
        .map(|_| Worker {
            hist: vec![0; k * stride::<T>()],
            nan: vec![false; k],
            kept: vec![Vec::new(); k],
            stage: vec![Vec::new(); k],
            moments: Vec::new(),
            block: Vec::new(),
        })
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

fn chunk_range(ci: usize, m: usize) -> Range<usize> {
    ci * CHUNK..((ci + 1) * CHUNK).min(m)
}

/// The columns a request reads, and a way to view them row by row without a
/// copy when they are the row's first k (the usual case: every channel).
pub(crate) struct Columns<'a, T> {
    cols: &'a [usize],
    dense: bool,
    buf: Vec<T>,
}

impl<'a, T: Copy + Default> Columns<'a, T> {
    pub(crate) fn new(cols: &'a [usize]) -> Self {
        Columns {
            cols,
            dense: cols.iter().enumerate().all(|(j, &c)| j == c),
            buf: vec![T::default(); cols.len()],
        }
    }

    /// The request's values of one row, in request order.
    #[inline(always)]
    pub(crate) fn of<'r>(&'r mut self, row: &'r [T]) -> &'r [T] {
        let k = self.cols.len();
        if self.dense {
            &row[..k]
        } else {
            for (o, &c) in self.buf.iter_mut().zip(self.cols) {
                *o = row[c];
            }
            &self.buf[..k]
        }
    }
}

/// Pass 1 over one chunk: histograms, NaN, and (when asked) moments.
#[allow(clippy::too_many_arguments)]
fn pass1<T: OrderKey>(
    w: &mut Worker<T::Key>,
    values: &[T],
    p: usize,
    rows: Rows<'_>,
    ci: usize,
    cols: &[usize],
    order: bool,
    moments: bool,
) {
    let k = cols.len();
    let range = chunk_range(ci, rows.len());
    let mut view = Columns::new(cols);
    let sd = stride::<T>();
    let hist = &mut w.hist[..k * sd];
    let count = |hist: &mut [u32], v: &[T]| {
        for (h, &x) in hist.chunks_exact_mut(sd).zip(v) {
            h[top::<T>(x.order_key())] += 1;
        }
    };
    if !moments {
        let mut any_nan = false;
        rows.each_row(values, p, range.clone(), |row| {
            let v = view.of(row);
            any_nan |= v.iter().fold(false, |a, x| a | x.is_nan_value());
            count(hist, v);
        });
        // Rare: find which columns.
        if any_nan {
            for (j, &c) in cols.iter().enumerate() {
                let mut f = false;
                rows.each(range.clone(), |e| f |= values[e * p + c].is_nan_value());
                w.nan[j] |= f;
            }
        }
        return;
    }
    let mut sum = vec![0f64; k];
    let mut min = vec![f64::INFINITY; k];
    let mut max = vec![f64::NEG_INFINITY; k];
    let mut nan = vec![false; k];
    let (sum, min, max, nan) = (&mut sum[..k], &mut min[..k], &mut max[..k], &mut nan[..k]);
    // The chunk's values, kept contiguous for the second look (squared
    // deviations from the chunk's mean), which then reads them in sequence
    // instead of gathering the scattered rows again.
    let block = &mut w.block;
    block.clear();
    block.resize(range.len() * k, 0.0);
    let mut at = block.chunks_exact_mut(k);
    rows.each_row(values, p, range.clone(), |row| {
        let v = view.of(row);
        if order {
            count(hist, v);
        }
        let Some(b) = at.next() else { return };
        // Zipped, not indexed: no bounds checks, and vector code across columns.
        for (b, &x) in b.iter_mut().zip(v) {
            *b = x.to_f64();
        }
        for (s, &x) in sum.iter_mut().zip(b.iter()) {
            *s += x;
        }
        for ((lo, hi), &x) in min.iter_mut().zip(max.iter_mut()).zip(b.iter()) {
            *lo = lo.min(x);
            *hi = hi.max(x);
        }
        for (f, &x) in nan.iter_mut().zip(b.iter()) {
            *f |= x.is_nan();
        }
    });
    let n = range.len() as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let mean = &mean[..k];
    let mut m2 = vec![0f64; k];
    let m2 = &mut m2[..k];
    for b in w.block.chunks_exact(k) {
        for ((m, &mu), &x) in m2.iter_mut().zip(mean).zip(b) {
            let d = x - mu;
            *m += d * d;
        }
    }
    for (a, b) in w.nan.iter_mut().zip(nan.iter()) {
        *a |= b;
    }
    let per_column = (0..k)
        .map(|j| Moments {
            n,
            mean: mean[j],
            m2: m2[j],
            min: min[j],
            max: max[j],
            nan: nan[j],
        })
        .collect();
    w.moments.push((ci, per_column));
}

/// Pass 2 over one chunk: keep the keys that fall in a wanted bucket
/// (`want[j * buckets + b]` is 1 when column j wants bucket b).
fn pass2<T: OrderKey>(
    w: &mut Worker<T::Key>,
    values: &[T],
    p: usize,
    rows: Rows<'_>,
    range: Range<usize>,
    cols: &[usize],
    want: &[u8],
) {
    let k = cols.len();
    let nb = buckets::<T>();
    let mut view = Columns::new(cols);
    let len = range.len();
    let Worker { stage, kept, .. } = w;
    // Every key is written to its column's stage and the stage's length grows
    // by 1 only when the key is wanted: no branch to mispredict, whatever the
    // share of wanted keys.
    let stage = &mut stage[..k];
    for s in stage.iter_mut() {
        s.resize(len.max(s.len()), T::Key::default());
    }
    let mut at = vec![0usize; k];
    let at = &mut at[..k];
    rows.each_row(values, p, range, |row| {
        let v = view.of(row);
        for (((x, s), n), wj) in v
            .iter()
            .zip(stage.iter_mut())
            .zip(at.iter_mut())
            .zip(want.chunks_exact(nb))
        {
            let key = x.order_key();
            s[*n] = key;
            *n += usize::from(wj[top::<T>(key)]);
        }
    });
    for ((kj, s), &n) in kept.iter_mut().zip(stage.iter()).zip(at.iter()) {
        kj.extend_from_slice(&s[..n]);
    }
}

/// The (bucket, offset in bucket) of each sorted rank in the sum of `hists`
/// (one column's histogram from each worker), which are cleared on the way.
pub(crate) fn locate_ranks(mut hists: Vec<&mut [u32]>, ranks: &[usize]) -> Vec<(usize, usize)> {
    let Some((first, rest)) = hists.split_first_mut() else {
        return Vec::new();
    };
    for h in rest.iter_mut() {
        for (t, c) in first.iter_mut().zip(h.iter_mut()) {
            *t += *c;
            *c = 0;
        }
    }
    let mut out = Vec::with_capacity(ranks.len());
    let mut r = ranks.iter().copied().peekable();
    let mut below = 0usize;
    for (b, count) in first.iter_mut().enumerate() {
        let c = *count as usize;
        *count = 0;
        while let Some(rank) = r.next_if(|&rank| rank < below + c) {
            out.push((b, rank - below));
        }
        below += c;
    }
    out
}

/// Per column, the (bucket, offset in bucket) of each sorted rank, from every
/// worker's histograms, which are cleared on the way for the next population.
fn locate<T: OrderKey>(
    ws: &mut [Worker<T::Key>],
    k: usize,
    ranks: &[usize],
) -> Vec<Vec<(usize, usize)>> {
    let (nb, sd) = (buckets::<T>(), stride::<T>());
    (0..k)
        .map(|j| {
            let hists = ws
                .iter_mut()
                .map(|w| &mut w.hist[j * sd..j * sd + nb])
                .collect();
            locate_ranks(hists, ranks)
        })
        .collect()
}

/// Below this many keys a comparison selection finishes the job.
const SMALL: usize = 2048;

/// The key at rank `r` among `keys`, all of which agree above bit `shift`:
/// histograms of the next 12 bits narrow them down first.
fn radix_select<T: OrderKey>(
    mut keys: Vec<T::Key>,
    mut r: usize,
    mut shift: u32,
) -> Option<T::Key> {
    const BITS: u32 = 12;
    let mut hist = vec![0usize; 1 << BITS];
    while keys.len() > SMALL && shift > 0 {
        let bits = shift.min(BITS);
        shift -= bits;
        let h = &mut hist[..1 << bits];
        h.fill(0);
        for &key in &keys {
            h[T::digit(key, shift, bits)] += 1;
        }
        let mut d = 0usize;
        while d + 1 < h.len() && h[d] <= r {
            r -= h[d];
            d += 1;
        }
        keys.retain(|&key| T::digit(key, shift, bits) == d);
    }
    if r < keys.len() {
        Some(*keys.select_nth_unstable(r).1)
    } else {
        None
    }
}

/// The order statistics at `located` (bucket, offset) positions, from `keys`:
/// every key of the wanted buckets, in any order.
pub(crate) fn select_located<T: OrderKey>(keys: &[T::Key], located: &[(usize, usize)]) -> Vec<f64> {
    let mut last: Option<(usize, usize, f64)> = None;
    located
        .iter()
        .map(|&(b, off)| {
            if let Some((lb, lo, v)) = last {
                if (lb, lo) == (b, off) {
                    return v;
                }
            }
            let in_bucket: Vec<T::Key> = keys
                .iter()
                .copied()
                .filter(|&key| top::<T>(key) == b)
                .collect();
            let v = radix_select::<T>(in_bucket, off, T::KEY_BITS - T::TOP_BITS)
                .map_or(f64::NAN, T::from_key);
            last = Some((b, off, v));
            v
        })
        .collect()
}

/// Summaries of every column of `cols` over the population's rows.
#[allow(clippy::too_many_arguments)]
pub(crate) fn summaries<T: OrderKey>(
    ws: &mut [Worker<T::Key>],
    values: &[T],
    p: usize,
    n_all: usize,
    members: Option<&[u32]>,
    cols: &[usize],
    req: &Request,
    q: &Quantiles,
    fused: Option<Ordered>,
) -> Vec<Summary> {
    let rows = Rows {
        all: n_all,
        members,
    };
    let m = rows.len();
    let k = cols.len();
    let chunks = m.div_ceil(CHUNK);
    // Order statistics alone (a median, percentiles) need no moments: that
    // saves a look at every row.
    let needs_moments = req.stats.iter().any(|s| {
        matches!(
            s,
            Stat::Mean | Stat::Sd | Stat::Cv | Stat::Geomean | Stat::Min | Stat::Max
        )
    });
    let median_at = q.median.then_some(0);
    let bounds = quantile_bounds(m, &q.qs, median_at);
    let ranks = ranks_of(&bounds);
    let order = !ranks.is_empty();
    // Order statistics computed already, with other populations'.
    let (fused, fused_nan) = match fused {
        Some((v, nan)) => (Some(v), nan),
        None => (None, vec![false; k]),
    };
    let pass1_order = order && fused.is_none();
    if pass1_order || needs_moments {
        spread(ws, chunks, |w, ci| {
            pass1(w, values, p, rows, ci, cols, pass1_order, needs_moments);
        });
    }
    let mut per_chunk: Vec<(usize, Vec<Moments>)> =
        ws.iter_mut().flat_map(|w| w.moments.drain(..)).collect();
    per_chunk.sort_unstable_by_key(|c| c.0);
    let mut moments: Vec<Moments> = (0..k)
        .map(|j| {
            per_chunk
                .iter()
                .map(|c| c.1[j])
                .fold(Moments::EMPTY, Moments::combine)
        })
        .collect();
    for (j, mo) in moments.iter_mut().enumerate() {
        mo.nan |= fused_nan[j];
        for w in ws.iter_mut() {
            mo.nan |= w.nan[j];
            w.nan[j] = false;
        }
    }
    // With a NaN every statistic is NaN: no order statistics needed.
    let order_stats: Vec<Vec<f64>> = if let Some(v) = fused {
        v
    } else if order {
        let located = locate::<T>(ws, k, &ranks);
        let wanted: Vec<Vec<usize>> = located
            .iter()
            .zip(&moments)
            .map(|(l, mo)| {
                let mut w: Vec<usize> = if mo.nan {
                    Vec::new()
                } else {
                    l.iter().map(|x| x.0).collect()
                };
                w.dedup();
                w
            })
            .collect();
        let nb = buckets::<T>();
        let mut want = vec![0u8; k * nb];
        for (j, w) in wanted.iter().enumerate() {
            for &b in w {
                want[j * nb + b] = 1;
            }
        }
        spread(ws, chunks, |w, ci| {
            pass2(w, values, p, rows, chunk_range(ci, m), cols, &want);
        });
        let keys: Vec<Vec<T::Key>> = (0..k)
            .map(|j| {
                let mut all = Vec::new();
                for w in ws.iter_mut() {
                    all.append(&mut w.kept[j]);
                }
                all
            })
            .collect();
        keys.par_iter()
            .zip(located.par_iter())
            .map(|(keys, loc)| select_located::<T>(keys, loc))
            .collect()
    } else {
        vec![Vec::new(); k]
    };
    let need_geomean = req.stats.contains(&Stat::Geomean);
    (0..k)
        .map(|j| {
            let mo = moments[j];
            let c = cols[j];
            Summary {
                nan: mo.nan,
                n: m,
                mean: mo.mean,
                sd: if m > 1 {
                    (mo.m2 / (mo.n - 1.0)).sqrt()
                } else {
                    f64::NAN
                },
                geomean: match (need_geomean, members) {
                    (false, _) => f64::NAN,
                    (true, Some(mm)) => {
                        geomean_of(mm.iter().map(|&i| values[i as usize * p + c].to_f64()))
                    }
                    (true, None) => geomean_of((0..m).map(|i| values[i * p + c].to_f64())),
                },
                min: mo.min,
                max: mo.max,
                quantiles: if order {
                    interpolate(&bounds, &ranks, &order_stats[j], median_at)
                } else {
                    Vec::new()
                },
                mad: f64::NAN,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{column_summary, Quantiles, Request, Stat};
    use super::*;

    #[test]
    fn streaming_equals_gathering() {
        let mut x = 99u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let p = 3;
        let values: Vec<f32> = (0..60_000 * p)
            .map(|i| ((next() * 12.0).exp() - 50.0) as f32 * if i % 3 == 1 { -1.0 } else { 1.0 })
            .collect();
        let members: Vec<u32> = (0..60_000u32).filter(|i| i % 3 != 0).collect();
        let req = Request {
            stats: vec![
                Stat::Mean,
                Stat::Sd,
                Stat::Median,
                Stat::Rsd,
                Stat::Min,
                Stat::Max,
                Stat::Geomean,
            ],
            percentiles: vec![1.0, 5.0, 95.0, 99.9],
        };
        let q = Quantiles::of(&req);
        let mut ws = workers::<f32>(3);
        let streamed = summaries(
            &mut ws,
            &values,
            p,
            60_000,
            Some(&members),
            &[0, 1, 2],
            &req,
            &q,
            None,
        );
        for (j, s) in streamed.iter().enumerate() {
            let mut v: Vec<f64> = members
                .iter()
                .map(|&i| values[i as usize * p + j] as f64)
                .collect();
            let g = column_summary(&mut v, &req, &q);
            assert_eq!(s.quantiles, g.quantiles);
            assert_eq!((s.min, s.max), (g.min, g.max));
            assert!((s.mean - g.mean).abs() <= 1e-12 * g.mean.abs().max(1.0));
            assert!((s.sd - g.sd).abs() <= 1e-10 * g.sd);
            assert!((s.geomean - g.geomean).abs() <= 1e-10 * g.geomean);
        }
    }
}
