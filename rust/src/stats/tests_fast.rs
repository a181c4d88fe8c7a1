//! The streaming, shared-pass and `f32`-key paths against a sort-based
//! reference, on data with NaN, infinities, signed zeros and duplicates, over
//! populations from empty to every event, on 1 and 3 threads.

use super::*;
use crate::fcs::Scale;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }

    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }

    /// Mostly spread-out values of both signs, with some ties, zeros of
    /// both signs, infinities and (when `nan`) NaNs.
    fn value(&mut self, nan: bool) -> f32 {
        let u = self.unit();
        match self.next() % 100 {
            0 if nan => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => 0.0,
            4 => -0.0,
            5..=24 => [1.5f32, -2.0, 1000.0, 7.25][(self.next() % 4) as usize],
            25..=34 => (u * 1e-30) as f32,
            _ => ((u * 30.0 - 10.0).exp() * if self.next() % 3 == 0 { -1.0 } else { 1.0 }) as f32,
        }
    }
}

/// numpy's percentiles (and median at index 0) of `v`, by sorting.
fn reference(v: &[f64], qs: &[f64], median: bool) -> Vec<f64> {
    if v.is_empty() || v.iter().any(|x| x.is_nan()) {
        return vec![f64::NAN; qs.len()];
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let median_at = median.then_some(0);
    let bounds = quantile_bounds(s.len(), qs, median_at);
    let ranks = ranks_of(&bounds);
    let at: Vec<f64> = ranks.iter().map(|&r| s[r]).collect();
    interpolate(&bounds, &ranks, &at, median_at)
}

fn as_pops<'a>(v: &[Option<&'a [u32]>]) -> Vec<Pop<'a>> {
    v.iter().map(|m| m.map_or(Pop::All, Pop::Sorted)).collect()
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn data(n: usize, p: usize, nan_cols: &[usize], seed: u64) -> Vec<f32> {
    let mut g = Lcg(seed);
    (0..n * p)
        .map(|i| g.value(nan_cols.contains(&(i % p))))
        .collect()
}

/// Populations of every kind: empty, tiny, just under and over the
/// streaming threshold, nested, overlapping, every event.
fn populations(n: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut g = Lcg(seed);
    let mut pops: Vec<Vec<u32>> = vec![Vec::new(), vec![7], (0..5).collect()];
    for (keep, _) in [(0.999, 0), (0.6, 1), (0.3, 2), (0.9, 3)] {
        let base = pops.last().cloned().filter(|b| b.len() > 1000);
        let from: Vec<u32> = base.unwrap_or_else(|| (0..n as u32).collect());
        pops.push(from.into_iter().filter(|_| g.unit() < keep).collect());
    }
    pops.push((0..RADIX_MIN as u32 - 1).collect());
    pops.push(
        (0..RADIX_MIN as u32)
            .map(|i| i * 3 % n as u32)
            .collect::<Vec<_>>(),
    );
    for p in pops.iter_mut() {
        p.sort_unstable();
        p.dedup();
    }
    pops
}

fn run(
    values: &[f32],
    p: usize,
    pops: &[Option<&[u32]>],
    cols: &[usize],
    req: &Request,
    threads: usize,
) -> Vec<Vec<Vec<f64>>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| compute(values, p, pops, cols, req, &[]))
        .unwrap()
}

#[test]
fn f32_keys_order_like_total_cmp() {
    let mut g = Lcg(3);
    let mut xs: Vec<f32> = (0..20_000).map(|_| g.value(true)).collect();
    xs.extend([
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::MAX,
        f32::MIN,
    ]);
    xs.extend([f32::from_bits(1), f32::from_bits(0x8000_0001)]);
    let mut by_key = xs.clone();
    by_key.sort_by_key(|x| x.lane());
    let mut by_cmp = xs.clone();
    by_cmp.sort_by(|a, b| (*a as f64).total_cmp(&(*b as f64)));
    for (a, b) in by_key.iter().zip(&by_cmp) {
        assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
    }
    for x in xs.iter().filter(|x| !x.is_nan()) {
        assert_eq!(f32::from_lane(x.lane()).to_bits(), (*x as f64).to_bits());
        let d = *x as f64;
        assert_eq!(f64::from_lane(d.lane()).to_bits(), d.to_bits());
    }
}

#[test]
fn quantiles_equal_sorting_on_any_population_and_thread_count() {
    let (n, p) = (60_000, 5);
    let values = data(n, p, &[3], 11);
    let owned = populations(n, 12);
    let mut pops: Vec<Option<&[u32]>> = owned.iter().map(|v| Some(&v[..])).collect();
    pops.push(None);
    let req = Request {
        stats: vec![Stat::Median, Stat::Mean, Stat::Min, Stat::Max, Stat::Rsd],
        percentiles: vec![0.0, 1.0, 50.0, 99.9, 100.0],
    };
    let q = Quantiles::of(&req);
    for cols in [vec![0, 1, 2, 3, 4], vec![4, 0, 3]] {
        let one = run(&values, p, &pops, &cols, &req, 1);
        let three = run(&values, p, &pops, &cols, &req, 3);
        let wide: Vec<f64> = values.iter().map(|&x| x as f64).collect();
        let as_f64 = compute(&wide, p, &pops, &cols, &req, &[]).unwrap();
        for (pi, pop) in pops.iter().enumerate() {
            for (j, &c) in cols.iter().enumerate() {
                let v: Vec<f64> = match pop {
                    Some(m) => m.iter().map(|&i| wide[i as usize * p + c]).collect(),
                    None => (0..n).map(|i| wide[i * p + c]).collect(),
                };
                let want = reference(&v, &q.qs, true);
                let got = &one[pi][j];
                // median, then P15.87/P84.13 (into rsd), then the extras.
                assert!(
                    same(got[0], want[0]),
                    "pop {pi} col {c}: {} vs {}",
                    got[0],
                    want[0]
                );
                for (g, w) in got[5..].iter().zip(&want[3..]) {
                    assert!(same(*g, *w), "pop {pi} col {c}: {g} vs {w}");
                }
                assert!(same(got[4], (want[2] - want[1]) / 2.0));
                for (a, b) in got.iter().zip(&three[pi][j]) {
                    assert!(same(*a, *b), "threads differ: pop {pi} col {c}");
                }
                for (a, b) in got.iter().zip(&as_f64[pi][j]) {
                    assert!(same(*a, *b), "f32 and f64 differ: pop {pi} col {c}");
                }
            }
        }
    }
}

#[test]
fn many_overlapping_populations_split_into_groups() {
    // 40 populations (more than one mask's worth) with random overlaps
    // (more membership patterns than one shared pass takes).
    let (n, p) = (30_000, 2);
    let values = data(n, p, &[], 21);
    let mut g = Lcg(22);
    let owned: Vec<Vec<u32>> = (0..40)
        .map(|_| (0..n as u32).filter(|_| g.unit() < 0.5).collect())
        .collect();
    let pops: Vec<Option<&[u32]>> = owned.iter().map(|v| Some(&v[..])).collect();
    let req = Request {
        stats: vec![Stat::Median],
        percentiles: vec![5.0, 95.0],
    };
    let q = Quantiles::of(&req);
    let got = run(&values, p, &pops, &[0, 1], &req, 2);
    for (pi, m) in owned.iter().enumerate() {
        for c in 0..p {
            let v: Vec<f64> = m
                .iter()
                .map(|&i| values[i as usize * p + c] as f64)
                .collect();
            let want = reference(&v, &q.qs, true);
            for (a, b) in got[pi][c].iter().zip(&want) {
                assert!(same(*a, *b), "pop {pi} col {c}: {a} vs {b}");
            }
        }
    }
}

/// Mean, SD, min and max as the per-population streaming computed them (the
/// numbers the shared passes must reproduce bit for bit): chunks of
/// `moments::CHUNK` members summed in order, squared deviations from each
/// chunk's mean, chunks combined in order with Chan's formula.
fn chunked_moments(v: &[f64]) -> [f64; 4] {
    let (mut n, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for c in v.chunks(moments::CHUNK) {
        let cn = c.len() as f64;
        let cmean = c.iter().fold(0.0, |s, &x| s + x) / cn;
        let cm2 = c.iter().fold(0.0, |s, &x| s + (x - cmean) * (x - cmean));
        for &x in c {
            lo = lo.min(x);
            hi = hi.max(x);
        }
        if n == 0.0 {
            (n, mean, m2) = (cn, cmean, cm2);
        } else {
            let t = n + cn;
            let d = cmean - mean;
            mean += d * cn / t;
            m2 = m2 + cm2 + d * d * n * cn / t;
            n = t;
        }
    }
    let sd = if v.len() > 1 {
        (m2 / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    [mean, sd, lo, hi]
}

/// Nested populations whose chunks cross the spans of the shared passes
/// (and the pass-1 blocks), with every event among them too.
fn nested(n: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut g = Lcg(seed);
    let a: Vec<u32> = (0..n as u32).filter(|_| g.unit() < 0.8).collect();
    let b: Vec<u32> = a.iter().copied().filter(|_| g.unit() < 0.6).collect();
    let c: Vec<u32> = b.iter().copied().filter(|_| g.unit() < 0.3).collect();
    let d: Vec<u32> = a.iter().copied().filter(|&e| e % 5 != 0).collect();
    // A dense block, then a gap: chunks whose rows sit far apart.
    let e: Vec<u32> = (0..n as u32)
        .filter(|&e| e < 20_000 || e % 97 == 0)
        .collect();
    vec![a, b, c, d, e]
}

fn moments_req() -> Request {
    Request {
        stats: vec![
            Stat::Mean,
            Stat::Sd,
            Stat::Min,
            Stat::Max,
            Stat::Cv,
            Stat::Median,
        ],
        percentiles: vec![5.0, 95.0],
    }
}

#[test]
fn moments_equal_chunked_streaming_bit_for_bit() {
    let (n, p) = (100_000, 3);
    let mut values = data(n, p, &[], 31);
    // Finite values only: with an infinity the mean is inf/NaN either way.
    for x in values.iter_mut().filter(|x| !x.is_finite()) {
        *x = 3.5;
    }
    let owned = nested(n, 32);
    let mut pops: Vec<Option<&[u32]>> = owned.iter().map(|v| Some(&v[..])).collect();
    pops.push(None);
    let req = moments_req();
    let wide: Vec<f64> = values.iter().map(|&x| x as f64).collect();
    for threads in [1, 2, 3] {
        let got = run(&values, p, &pops, &[0, 1, 2], &req, threads);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let got64 = pool
            .install(|| compute(&wide, p, &pops, &[2, 0], &req, &[]))
            .unwrap();
        for (pi, pop) in pops.iter().enumerate() {
            for c in 0..p {
                let v: Vec<f64> = match pop {
                    Some(m) => m.iter().map(|&i| wide[i as usize * p + c]).collect(),
                    None => (0..n).map(|i| wide[i * p + c]).collect(),
                };
                let [mean, sd, lo, hi] = chunked_moments(&v);
                let g = &got[pi][c];
                let want = [mean, sd, lo, hi, 100.0 * sd / mean];
                for (a, b) in g[..5].iter().zip(&want) {
                    assert!(
                        same(*a, *b),
                        "{threads} threads, pop {pi} col {c}: {a} vs {b}"
                    );
                }
                let q = reference(&v, &Quantiles::of(&req).qs, true);
                assert!(same(g[5], q[0]) && same(g[6], q[1]) && same(g[7], q[2]));
                let j = [1, usize::MAX, 0][c];
                if let Some(g64) = got64[pi].get(j) {
                    for (a, b) in g64.iter().zip(g) {
                        assert!(same(*a, *b), "f64 differs: pop {pi} col {c}");
                    }
                }
            }
        }
    }
}

#[test]
fn raw_values_with_scales_equal_scaled_values() {
    let (n, p) = (40_000, 4);
    let mut g = Lcg(41);
    let raw: Vec<f32> = (0..n * p)
        .map(|i| match i % p {
            0 => (g.next() % 1024) as f32,
            1 => (g.unit() * 50_000.0) as f32,
            _ => g.value(false),
        })
        .collect();
    let increasing = [
        Scale::Log {
            decades: 4.0,
            offset: 1.0,
            range: 1024.0,
        },
        Scale::TimeStep(0.01),
        Scale::Identity,
        Scale::Gain(3.0),
    ];
    // A negative gain reverses the order: order statistics then run on the
    // scaled values rather than on the stored ones.
    let mut reversing = increasing;
    reversing[3] = Scale::Gain(-2.0);
    for scales in [increasing, reversing] {
        let scaled: Vec<f32> = raw
            .iter()
            .enumerate()
            .map(|(i, &x)| x.rescaled(scales[i % p]))
            .collect();
        let owned = nested(n, 42);
        let mut pops: Vec<Option<&[u32]>> = owned.iter().map(|v| Some(&v[..])).collect();
        pops.extend([None, Some(&[][..]), Some(&[5][..]), Some(&[1, 2, 3][..])]);
        for req in [
            moments_req(),
            Request {
                stats: vec![Stat::Mad, Stat::Geomean, Stat::Median],
                percentiles: vec![],
            },
        ] {
            for cols in [vec![0, 1, 2, 3], vec![3, 1]] {
                let want = run(&scaled, p, &pops, &cols, &req, 2);
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(3)
                    .build()
                    .unwrap();
                let got = pool
                    .install(|| compute(&raw, p, &pops, &cols, &req, &scales))
                    .unwrap();
                let wide: Vec<f64> = raw.iter().map(|&x| x as f64).collect();
                let got64 = compute(&wide, p, &pops, &cols, &req, &scales).unwrap();
                let wide_scaled: Vec<f64> = wide
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| x.rescaled(scales[i % p]))
                    .collect();
                let want64 = compute(&wide_scaled, p, &pops, &cols, &req, &[]).unwrap();
                let flat = |o: &Vec<Vec<Vec<f64>>>| -> Vec<f64> {
                    o.iter().flatten().flatten().copied().collect()
                };
                for (a, b) in flat(&got).iter().zip(flat(&want)) {
                    assert!(same(*a, b), "f32 raw + scales: {a} vs {b}");
                }
                for (a, b) in flat(&got64).iter().zip(flat(&want64)) {
                    assert!(same(*a, b), "f64 raw + scales: {a} vs {b}");
                }
            }
        }
    }
    let scales = increasing;
    let req = moments_req();
    assert!(compute(&raw, p, &[None], &[0], &req, &scales[..2]).is_err());
}

#[test]
fn shared_passes_take_empty_single_and_every_event() {
    let (n, p) = (20_000, 2);
    let values = data(n, p, &[1], 51);
    let cols = [0usize, 1];
    let src = rows::Source::new(&values, p, &cols, &[]);
    let one = [7u32];
    let pops: Vec<Option<&[u32]>> = vec![Some(&[][..]), Some(&one[..]), None];
    let ranks = vec![vec![], vec![0], vec![0, 9_999, 10_000, 19_999]];
    let need = moments::Need {
        sums: true,
        extremes: true,
        squares: true,
    };
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let out = pool.install(|| fused::run(&src, &as_pops(&pops), &ranks, need));
        assert_eq!(out.len(), 3);
        assert!(out[0].moments.iter().all(|m| m.n == 0.0));
        let x = values[7 * p] as f64;
        assert_eq!(out[1].ordered[0], vec![x]);
        assert!(same(out[1].moments[0].mean, x) && out[1].moments[0].m2 == 0.0);
        // Column 1 holds NaNs: flagged, no order statistics.
        assert!(out[2].nan[1] && !out[2].nan[0]);
        assert!(out[2].ordered[1].iter().all(|v| v.is_nan()));
        let mut sorted: Vec<f64> = (0..n).map(|i| values[i * p] as f64).collect();
        sorted.sort_by(f64::total_cmp);
        for (g, &r) in out[2].ordered[0].iter().zip(&ranks[2]) {
            assert!(same(*g, sorted[r]));
        }
    }
}

#[test]
fn more_classes_than_a_pass_takes_keep_moments_exact() {
    // 12 random overlapping populations: far more patterns than one pass takes.
    let (n, p) = (40_000, 2);
    let values = data(n, p, &[], 61);
    let mut g = Lcg(62);
    let owned: Vec<Vec<u32>> = (0..12)
        .map(|_| (0..n as u32).filter(|_| g.unit() < 0.7).collect())
        .collect();
    let pops: Vec<Option<&[u32]>> = owned.iter().map(|v| Some(&v[..])).collect();
    let req = moments_req();
    let got = run(&values, p, &pops, &[0, 1], &req, 2);
    for (pi, m) in owned.iter().enumerate() {
        for c in 0..p {
            let v: Vec<f64> = m
                .iter()
                .map(|&i| values[i as usize * p + c] as f64)
                .collect();
            let [mean, sd, lo, hi] = chunked_moments(&v);
            for (a, b) in got[pi][c][..4].iter().zip([mean, sd, lo, hi]) {
                assert!(same(*a, b), "pop {pi} col {c}: {a} vs {b}");
            }
        }
    }
}

/// Columns on which a sample says little: sorted values, few distinct
/// values, a constant with a few outliers, signed zeros and infinities, all
/// NaN; then the usual mix.
fn adversarial(n: usize, seed: u64) -> (Vec<f32>, usize) {
    let p = 6;
    let mut g = Lcg(seed);
    let mut v = vec![0f32; n * p];
    for i in 0..n {
        let row = &mut v[i * p..(i + 1) * p];
        row[0] = i as f32 * 0.5 - 1000.0;
        row[1] = (g.next() % 3) as f32;
        row[2] = if i % 4099 == 7 { 1e30 } else { 2.5 };
        row[3] = [0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY][(g.next() % 4) as usize];
        row[4] = f32::NAN;
        row[5] = g.value(false);
    }
    (v, p)
}

fn sorted_ranks(v: &[f64], ranks: &[usize]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    ranks.iter().map(|&r| s[r]).collect()
}

#[test]
fn bracket_misses_fall_back_to_exact_selection() {
    let n = 50_000;
    let (values, p) = adversarial(n, 71);
    let cols: Vec<usize> = (0..p).collect();
    let src = rows::Source::new(&values, p, &cols, &[]);
    let half: Vec<u32> = (0..n as u32).filter(|e| e % 2 == 0).collect();
    let pops: Vec<Option<&[u32]>> = vec![None, Some(&half)];
    let sizes = [n, half.len()];
    let ranks: Vec<Vec<usize>> = sizes
        .iter()
        .map(|&m| vec![0, 1, m / 20, m / 2 - 1, m / 2, m - 2, m - 1])
        .collect();
    let need = moments::Need::default();
    let exact = bracket::Tuning::DEFAULT;
    // No margin, and brackets moved off their ranks either way.
    let tight = [0.0, 40.0, -40.0].map(|shift| bracket::Tuning {
        z: 0.0,
        extra: 0.0,
        shift,
        stride: 1.0,
        simd: lanes::Simd::Avx2,
    });
    for tune in [exact].iter().chain(&tight) {
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let out = pool.install(|| fused::run_with(&src, &as_pops(&pops), &ranks, need, tune));
            for (pi, o) in out.iter().enumerate() {
                if tune.shift != 0.0 {
                    assert!(o.misses > 0, "pop {pi}: no bracket missed ({tune:?})");
                }
                for (j, &c) in cols.iter().enumerate() {
                    let v: Vec<f64> = match pops[pi] {
                        Some(m) => m
                            .iter()
                            .map(|&i| values[i as usize * p + c] as f64)
                            .collect(),
                        None => (0..n).map(|i| values[i * p + c] as f64).collect(),
                    };
                    if c == 4 {
                        assert!(o.nan[j] && o.ordered[j].iter().all(|x| x.is_nan()));
                        continue;
                    }
                    let want = sorted_ranks(&v, &ranks[pi]);
                    for (g, w) in o.ordered[j].iter().zip(&want) {
                        assert!(same(*g, *w), "{tune:?} pop {pi} col {c}: {g} vs {w}");
                    }
                }
            }
        }
    }
}

#[test]
fn default_brackets_hold_on_adversarial_columns() {
    let n = 80_000;
    let (values, p) = adversarial(n, 72);
    let cols: Vec<usize> = (0..p).collect();
    let src = rows::Source::new(&values, p, &cols, &[]);
    let ranks = vec![vec![0, n / 100, n / 2 - 1, n / 2, n - 1]];
    let out = fused::run(&src, &[Pop::All], &ranks, moments::Need::default());
    // The spread columns (0, 5) are bracketed narrowly enough that nothing
    // misses; the tied ones (1: three values, 2: one but outliers, 3: four)
    // would keep most of the column, so the sample sends them to the exact
    // path instead, and the keys kept stay a small share of the data.
    assert_eq!(out[0].misses, 3);
    for j in [0, 1, 2, 3, 5] {
        let v: Vec<f64> = (0..n).map(|i| values[i * p + j] as f64).collect();
        let want = sorted_ranks(&v, &ranks[0]);
        for (g, w) in out[0].ordered[j].iter().zip(&want) {
            assert!(same(*g, *w), "col {j}: {g} vs {w}");
        }
    }
    assert!(out[0].kept * 20 < n * p, "kept {}", out[0].kept);
}

/// Requests with ranks 0 and N - 1 (percentiles 0 and 100, min and max) on
/// populations around the streaming threshold, on f32 and f64 data, on 1
/// and 3 threads, against sorting.
#[test]
fn threshold_populations_and_extreme_ranks_equal_sorting() {
    let (n, p) = (40_000, 3);
    let values = data(n, p, &[], 81);
    let wide: Vec<f64> = values.iter().map(|&x| x as f64).collect();
    let mut g = Lcg(82);
    let mut owned: Vec<Vec<u32>> = [RADIX_MIN - 1, RADIX_MIN, RADIX_MIN + 1, RADIX_MIN + 2]
        .iter()
        .map(|&m| {
            let mut s: Vec<u32> = (0..n as u32).filter(|_| g.unit() < 0.4).collect();
            s.truncate(m);
            s
        })
        .collect();
    // One member above the threshold: a row that no other population holds.
    let mut lone = owned[1].clone();
    let extra = (0..n as u32)
        .rev()
        .find(|e| lone.binary_search(e).is_err())
        .unwrap();
    lone.push(extra);
    lone.sort_unstable();
    owned.push(lone);
    let pops: Vec<Option<&[u32]>> = owned.iter().map(|v| Some(&v[..])).collect();
    let req = Request {
        stats: vec![Stat::Median, Stat::Min, Stat::Max, Stat::Mean],
        percentiles: vec![0.0, 100.0, 0.01, 99.99],
    };
    let q = Quantiles::of(&req);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let got32 = pool.install(|| compute(&values, p, &pops, &[0, 1, 2], &req, &[]).unwrap());
        let got64 = pool.install(|| compute(&wide, p, &pops, &[0, 1, 2], &req, &[]).unwrap());
        for (pi, m) in owned.iter().enumerate() {
            assert!(m.len() >= RADIX_MIN - 1);
            for c in 0..p {
                let v: Vec<f64> = m.iter().map(|&i| wide[i as usize * p + c]).collect();
                let want = reference(&v, &q.qs, true);
                let [mean, _, lo, hi] = chunked_moments(&v);
                for got in [&got32[pi][c], &got64[pi][c]] {
                    assert!(same(got[0], want[0]), "pop {pi} col {c}: median");
                    assert!(same(got[1], lo) && same(got[2], hi), "pop {pi} col {c}");
                    assert!(same(got[3], mean), "pop {pi} col {c}: mean");
                    for (a, b) in got[4..].iter().zip(&want[1..]) {
                        assert!(same(*a, *b), "pop {pi} col {c}: {a} vs {b}");
                    }
                }
            }
        }
    }
}

#[test]
fn f64_data_with_extremes_equals_sorting() {
    let (n, p) = (30_000, 2);
    let mut g = Lcg(91);
    let values: Vec<f64> = (0..n * p)
        .map(|i| match g.next() % 50 {
            0 => f64::INFINITY,
            1 => f64::NEG_INFINITY,
            2 => -0.0,
            3 => 0.0,
            4 => f64::from_bits(1),
            5 => -f64::MIN_POSITIVE,
            6 if i % p == 1 => f64::NAN,
            7..=20 => 1.0 + (g.next() % 5) as f64 * f64::EPSILON,
            _ => (g.unit() - 0.5) * 1e300,
        })
        .collect();
    let owned = nested(n, 92);
    let mut pops: Vec<Option<&[u32]>> = owned.iter().map(|v| Some(&v[..])).collect();
    pops.push(None);
    let req = Request {
        stats: vec![Stat::Median, Stat::Rsd],
        percentiles: vec![0.0, 2.5, 97.5, 100.0],
    };
    let q = Quantiles::of(&req);
    let one = run64(&values, p, &pops, &req, 1);
    let three = run64(&values, p, &pops, &req, 3);
    for (pi, pop) in pops.iter().enumerate() {
        for c in 0..p {
            let v: Vec<f64> = match pop {
                Some(m) => m.iter().map(|&i| values[i as usize * p + c]).collect(),
                None => (0..n).map(|i| values[i * p + c]).collect(),
            };
            let want = reference(&v, &q.qs, true);
            let got = &one[pi][c];
            assert!(same(got[0], want[0]), "pop {pi} col {c}");
            assert!(same(got[1], (want[2] - want[1]) / 2.0));
            for (a, b) in got[2..].iter().zip(&want[3..]) {
                assert!(same(*a, *b), "pop {pi} col {c}: {a} vs {b}");
            }
            for (a, b) in got.iter().zip(&three[pi][c]) {
                assert!(same(*a, *b), "threads differ: pop {pi} col {c}");
            }
        }
    }
}

fn run64(
    values: &[f64],
    p: usize,
    pops: &[Option<&[u32]>],
    req: &Request,
    threads: usize,
) -> Vec<Vec<Vec<f64>>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let cols: Vec<usize> = (0..p).collect();
    pool.install(|| compute(values, p, pops, &cols, req, &[]))
        .unwrap()
}

/// The AVX2 kernel of the bracketing pass (where the CPU has it) against the
/// portable one: the same
/// order statistics, NaN flags, keys kept and misses, on rows of 5, 16, 21
/// and 40 columns (partial and several blocks), direct and copied rows
/// (columns reordered, a scale), nested populations, 1 and 3 threads.
#[test]
fn simd_pass_equals_portable_pass() {
    let n = 30_000;
    for (p, seed) in [(5usize, 91u64), (16, 92), (21, 93), (40, 94)] {
        let values = data(n, p, &[p / 2], seed);
        let all: Vec<usize> = (0..p).collect();
        let reordered: Vec<usize> = (0..p).rev().collect();
        let scales: Vec<Scale> = (0..p)
            .map(|c| {
                if c == 1 {
                    Scale::Gain(2.5)
                } else {
                    Scale::Identity
                }
            })
            .collect();
        let mut g = Lcg(seed + 100);
        let a: Vec<u32> = (0..n as u32).filter(|_| g.unit() < 0.8).collect();
        let b: Vec<u32> = a.iter().copied().filter(|_| g.unit() < 0.5).collect();
        let pops: Vec<Option<&[u32]>> = vec![None, Some(&a), Some(&b)];
        let ranks: Vec<Vec<usize>> = [n, a.len(), b.len()]
            .iter()
            .map(|&m| vec![0, m / 7, m / 2 - 1, m / 2, m * 9 / 10, m - 1])
            .collect();
        for (cols, sc) in [(&all, &[][..]), (&reordered, &[][..]), (&all, &scales[..])] {
            let src = rows::Source::new(&values, p, cols, sc);
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let run = |simd| {
                    let tune = bracket::Tuning {
                        simd,
                        ..bracket::Tuning::DEFAULT
                    };
                    pool.install(|| {
                        fused::run_with(
                            &src,
                            &as_pops(&pops),
                            &ranks,
                            moments::Need::default(),
                            &tune,
                        )
                    })
                };
                let (v, s) = (run(lanes::Simd::Avx2), run(lanes::Simd::Portable));
                for (pi, (v, s)) in v.iter().zip(&s).enumerate() {
                    assert_eq!((v.misses, v.kept), (s.misses, s.kept), "p {p} pop {pi}");
                    assert_eq!(v.nan, s.nan, "p {p} pop {pi}");
                    assert!(v.nan.iter().any(|&x| x), "p {p}: the NaN column");
                    for (x, y) in v.ordered.iter().flatten().zip(s.ordered.iter().flatten()) {
                        assert!(same(*x, *y), "p {p} pop {pi}: {x} vs {y}");
                    }
                }
            }
        }
    }
}

/// Members past the end, out of order or repeated are refused, not trusted
/// (classification relies on sorted, distinct members).
#[test]
fn malformed_populations_are_refused() {
    let (n, p) = (200_000, 2);
    let values = data(n, p, &[], 95);
    let req = Request {
        stats: vec![Stat::Median],
        percentiles: vec![],
    };
    let mut sorted: Vec<u32> = (0..n as u32).step_by(2).collect();
    assert!(compute(&values, p, &[Some(&sorted)], &[0, 1], &req, &[]).is_ok());
    let past = [1, 5, n as u32];
    let unsorted = [3, 2, 9];
    let repeated = [1, 4, 4, 7];
    for bad in [&past[..], &unsorted[..], &repeated[..]] {
        let e = compute(&values, p, &[Some(bad)], &[0, 1], &req, &[]);
        assert!(matches!(e, Err(Error::InvalidArgument(_))), "{bad:?}");
    }
    // Out of order across the parallel pieces' boundary.
    sorted.swap(65_535, 65_536);
    assert!(compute(&values, p, &[Some(&sorted)], &[0, 1], &req, &[]).is_err());
}

/// Statistics of gating nodes read as bits equal those of the same members
/// as lists, for requests that classify from the bits (order statistics) and
/// those that unpack them (moments, MAD, geometric mean), on 1 and 3 threads.
#[test]
fn members_as_bits_equal_members_as_lists() {
    let (n, p) = (70_001, 3);
    let values = data(n, p, &[], 96);
    let lists = populations(n, 97);
    let members = crate::gating::Members::from_lists(n, &lists);
    for (g, l) in lists.iter().enumerate() {
        assert_eq!(&members.indices(g), l);
    }
    let refs: Vec<Option<&[u32]>> = lists.iter().map(|l| Some(&l[..])).collect();
    let nodes: Vec<usize> = (0..lists.len()).collect();
    let cols = [0, 1, 2];
    for req in [
        Request {
            stats: vec![Stat::Median],
            percentiles: vec![5.0, 95.0],
        },
        Request {
            stats: vec![Stat::Median, Stat::Mean, Stat::Cv, Stat::Rsd],
            percentiles: vec![],
        },
        Request {
            stats: vec![Stat::Mad, Stat::Geomean],
            percentiles: vec![],
        },
    ] {
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let want = pool.install(|| compute(&values, p, &refs, &cols, &req, &[]).unwrap());
            let got = pool.install(|| {
                compute_members(&values, p, &members, &nodes, &cols, &req, &[]).unwrap()
            });
            for (a, b) in got
                .iter()
                .flatten()
                .flatten()
                .zip(want.iter().flatten().flatten())
            {
                assert!(same(*a, *b), "{req:?}: {a} vs {b}");
            }
        }
    }
    // Members of another matrix, or a node past the plan's, are refused.
    let req = Request {
        stats: vec![Stat::Median],
        percentiles: vec![],
    };
    assert!(compute_members(&values[..p * 10], p, &members, &[0], &cols, &req, &[]).is_err());
    assert!(compute_members(&values, p, &members, &[lists.len()], &cols, &req, &[]).is_err());
}
