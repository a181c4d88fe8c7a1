//! The streaming, shared-pass and `f32`-key paths against a sort-based
//! reference, on data with NaN, infinities, signed zeros and duplicates, over
//! populations from empty to every event, on 1 and 3 threads.

use super::*;

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
    pool.install(|| compute(values, p, pops, cols, req))
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
    by_key.sort_by_key(|x| x.order_key());
    let mut by_cmp = xs.clone();
    by_cmp.sort_by(|a, b| (*a as f64).total_cmp(&(*b as f64)));
    for (a, b) in by_key.iter().zip(&by_cmp) {
        assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
    }
    for x in xs.iter().filter(|x| !x.is_nan()) {
        assert_eq!(
            f32::from_key(x.order_key()).to_bits(),
            (*x as f64).to_bits()
        );
        let d = *x as f64;
        assert_eq!(f64::from_key(d.order_key()).to_bits(), d.to_bits());
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
        let as_f64 = compute(&wide, p, &pops, &cols, &req).unwrap();
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
