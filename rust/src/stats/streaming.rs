//! Statistics of a large population by streaming over its rows, every column at
//! once, instead of gathering column by column (which re-reads each row once
//! per column: memory traffic, not arithmetic, was the cost).
//!
//! Pass 1, over fixed chunks of rows: per column, count, sum, min, max, NaN,
//! the chunk's own mean and squared deviations (combined across chunks in
//! order with Chan's formula, so results do not depend on the thread count),
//! and a histogram of the top 16 bits of each value's order key. Pass 2 keeps
//! only the values in the buckets that hold a wanted rank, and selection runs
//! inside those few.

use rayon::prelude::*;

use super::{
    geomean_of, interpolate, key, quantile_bounds, ranks_of, Quantiles, Request, Stat, Summary,
};
use crate::compensation::apply::Sample;

const CHUNK: usize = 16_384;
const BUCKETS: usize = 1 << 16;

#[derive(Clone, Copy)]
struct Rows<'a> {
    all: usize,
    members: Option<&'a [u32]>,
}

impl Rows<'_> {
    fn len(&self) -> usize {
        self.members.map_or(self.all, |m| m.len())
    }

    #[inline(always)]
    fn get(&self, i: usize) -> usize {
        match self.members {
            Some(m) => m[i] as usize,
            None => i,
        }
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

fn chunk_moments<T: Sample>(
    values: &[T],
    p: usize,
    rows: Rows<'_>,
    range: std::ops::Range<usize>,
    cols: &[usize],
) -> Vec<Moments> {
    let k = cols.len();
    let mut sum = vec![0f64; k];
    let mut min = vec![f64::INFINITY; k];
    let mut max = vec![f64::NEG_INFINITY; k];
    let mut nan = vec![false; k];
    for i in range.clone() {
        let row = &values[rows.get(i) * p..][..p];
        for (j, &c) in cols.iter().enumerate() {
            let x = row[c].to_f64();
            sum[j] += x;
            min[j] = min[j].min(x);
            max[j] = max[j].max(x);
            nan[j] |= x.is_nan();
        }
    }
    let n = range.len() as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let mut m2 = vec![0f64; k];
    for i in range {
        let row = &values[rows.get(i) * p..][..p];
        for (j, &c) in cols.iter().enumerate() {
            let d = row[c].to_f64() - mean[j];
            m2[j] += d * d;
        }
    }
    (0..k)
        .map(|j| Moments {
            n,
            mean: mean[j],
            m2: m2[j],
            min: min[j],
            max: max[j],
            nan: nan[j],
        })
        .collect()
}

/// Per column: the histogram of the top 16 bits of every value's order key,
/// and whether any value is NaN.
fn histograms<T: Sample>(
    values: &[T],
    p: usize,
    rows: Rows<'_>,
    cols: &[usize],
) -> (Vec<Vec<u32>>, Vec<bool>) {
    let k = cols.len();
    // One histogram set per thread over a contiguous share of the rows (a fold
    // per rayon split would allocate and add megabytes many times over).
    let parts = rayon::current_num_threads().max(1);
    let per = rows.len().div_ceil(parts);
    let partial: Vec<(Vec<Vec<u32>>, Vec<bool>)> = (0..parts)
        .into_par_iter()
        .map(|t| {
            let mut h = vec![vec![0u32; BUCKETS]; k];
            let mut nan = vec![false; k];
            for i in t * per..((t + 1) * per).min(rows.len()) {
                let row = &values[rows.get(i) * p..][..p];
                for (j, &c) in cols.iter().enumerate() {
                    let x = row[c].to_f64();
                    nan[j] |= x.is_nan();
                    h[j][(key(x) >> 48) as usize] += 1;
                }
            }
            (h, nan)
        })
        .collect();
    // Integer counts: the sum is exact whatever the split.
    let mut total = vec![vec![0u32; BUCKETS]; k];
    let mut any_nan = vec![false; k];
    for (h, nan) in partial {
        for (x, y) in total.iter_mut().zip(&h) {
            for (u, v) in x.iter_mut().zip(y) {
                *u += v;
            }
        }
        for (a, b) in any_nan.iter_mut().zip(nan) {
            *a |= b;
        }
    }
    (total, any_nan)
}

/// For sorted distinct ranks: (bucket, offset in bucket) of each.
fn locate(hist: &[u32], ranks: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(ranks.len());
    let (mut b, mut below) = (0usize, 0usize);
    for &r in ranks {
        while b + 1 < hist.len() && below + hist[b] as usize <= r {
            below += hist[b] as usize;
            b += 1;
        }
        out.push((b, r - below));
    }
    out
}

/// Summaries of every column of `cols` over the population's rows.
pub(crate) fn summaries<T: Sample>(
    values: &[T],
    p: usize,
    n_all: usize,
    members: Option<&[u32]>,
    cols: &[usize],
    req: &Request,
    q: &Quantiles,
) -> Vec<Summary> {
    let rows = Rows {
        all: n_all,
        members,
    };
    let m = rows.len();
    let k = cols.len();
    // Order statistics alone (a median, percentiles) need no moments: skipping
    // them saves two of the four passes over the rows.
    let needs_moments = req.stats.iter().any(|s| {
        matches!(
            s,
            Stat::Mean | Stat::Sd | Stat::Cv | Stat::Geomean | Stat::Min | Stat::Max
        )
    });
    let partials: Vec<Vec<Moments>> = if needs_moments {
        (0..m.div_ceil(CHUNK))
            .into_par_iter()
            .map(|ci| chunk_moments(values, p, rows, ci * CHUNK..((ci + 1) * CHUNK).min(m), cols))
            .collect()
    } else {
        Vec::new()
    };
    let mut moments: Vec<Moments> = (0..k)
        .map(|j| {
            partials.iter().map(|c| c[j]).fold(
                Moments {
                    n: 0.0,
                    mean: 0.0,
                    m2: 0.0,
                    min: f64::INFINITY,
                    max: f64::NEG_INFINITY,
                    nan: false,
                },
                Moments::combine,
            )
        })
        .collect();
    let median_at = q.median.then_some(0);
    let bounds = quantile_bounds(m, &q.qs, median_at);
    let ranks = ranks_of(&bounds);
    let order_stats: Vec<Vec<f64>> = if ranks.is_empty() {
        vec![Vec::new(); k]
    } else {
        let (hist, nan) = histograms(values, p, rows, cols);
        if !needs_moments {
            for (mo, flag) in moments.iter_mut().zip(nan) {
                mo.nan = flag;
            }
        }
        let located: Vec<Vec<(usize, usize)>> = hist.iter().map(|h| locate(h, &ranks)).collect();
        let wanted: Vec<Vec<usize>> = located
            .iter()
            .map(|l| {
                let mut w: Vec<usize> = l.iter().map(|x| x.0).collect();
                w.dedup();
                w
            })
            .collect();
        let span: Vec<(usize, usize)> = wanted
            .iter()
            .map(|w| {
                (
                    w.first().copied().unwrap_or(1),
                    w.last().copied().unwrap_or(0),
                )
            })
            .collect();
        // Pass 2: keep the values in wanted buckets (chunk order, then concatenated).
        let kept: Vec<Vec<Vec<f64>>> = (0..m.div_ceil(CHUNK))
            .into_par_iter()
            .map(|ci| {
                let mut out = vec![Vec::new(); k];
                for i in ci * CHUNK..((ci + 1) * CHUNK).min(m) {
                    let row = &values[rows.get(i) * p..][..p];
                    for (j, &c) in cols.iter().enumerate() {
                        let x = row[c].to_f64();
                        let b = (key(x) >> 48) as usize;
                        // Most values lie outside the few wanted buckets: a range
                        // test rejects them before the search.
                        if (span[j].0..=span[j].1).contains(&b)
                            && wanted[j].binary_search(&b).is_ok()
                        {
                            out[j].push(x);
                        }
                    }
                }
                out
            })
            .collect();
        (0..k)
            .into_par_iter()
            .map(|j| {
                let mut by_bucket: Vec<Vec<f64>> = vec![Vec::new(); wanted[j].len()];
                for chunk in &kept {
                    for &x in &chunk[j] {
                        if let Ok(b) = wanted[j].binary_search(&((key(x) >> 48) as usize)) {
                            by_bucket[b].push(x);
                        }
                    }
                }
                located[j]
                    .iter()
                    .map(|&(b, off)| {
                        let i = wanted[j].binary_search(&b).unwrap_or(0);
                        *by_bucket[i].select_nth_unstable_by(off, f64::total_cmp).1
                    })
                    .collect()
            })
            .collect()
    };
    let need_geomean = req.stats.contains(&Stat::Geomean);
    (0..k)
        .map(|j| {
            let mo = moments[j];
            Summary {
                nan: mo.nan,
                n: m,
                mean: mo.mean,
                sd: if m > 1 {
                    (mo.m2 / (mo.n - 1.0)).sqrt()
                } else {
                    f64::NAN
                },
                geomean: if need_geomean {
                    geomean_of((0..m).map(|i| values[rows.get(i) * p + cols[j]].to_f64()))
                } else {
                    f64::NAN
                },
                min: mo.min,
                max: mo.max,
                quantiles: interpolate(&bounds, &ranks, &order_stats[j], median_at),
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
        let streamed = summaries(&values, p, 60_000, Some(&members), &[0, 1, 2], &req, &q);
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
