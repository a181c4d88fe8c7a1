//! Timing of gate evaluation alone on a real FCS file, next to a memory floor.
//!
//!     CARGO_TARGET_DIR=/work/target-gate cargo run -p cd38-core --release \
//!         --example perf_gate -- /tmp/cd38-bench/bcell_1000000.fcs [runs] [threads] [hot]
//!
//! The plan is perf_stats.rs's (benches/bcell_data.py's strategy as cd38's
//! Python compiler lowers it). Figures are the best of `runs` on rayon pools of
//! 1 and 2 threads (or only `threads`), next to a same-run floor: one value
//! read from every row (every cache line of the matrix touched once). The file
//! is also read with DataMode::Raw and gated with its channels' scales; both
//! members hashes must agree. The same plan on 8,192 rows gated 122 times
//! shows the cost with every row in cache; `hot` runs only that (for perf).

use std::path::Path;
use std::time::Instant;

use cd38_core::compensation::invert;
use cd38_core::fcs::{read_path, DataMode, Events, ReadOptions, Scale};
use cd38_core::gating::{evaluate, CompSpec, DimSpec, Node, Plan, Predicate, Source};

/// Best wall time (ms) of `runs`, and the last result.
fn best<R>(runs: usize, mut f: impl FnMut() -> R) -> (f64, R) {
    let mut wall = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        wall = wall.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    match out {
        Some(r) => (wall * 1e3, r),
        None => panic!("runs must be positive"),
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => panic!("thread pool: {e}"),
    }
}

fn hash_members(m: &[Vec<u32>]) -> u64 {
    m.iter()
        .flat_map(|v| v.iter().map(|&x| x as u64))
        .fold(0xcbf29ce484222325u64, |h, x| {
            (h ^ x).wrapping_mul(0x100000001b3)
        })
}

fn read(path: &str, data: DataMode) -> (Vec<f32>, Vec<Scale>, Vec<f64>) {
    let opts = ReadOptions {
        data,
        ..ReadOptions::default()
    };
    let ds = match read_path(Path::new(path), &opts) {
        Ok(d) => d,
        Err(e) => panic!("{path}: {e}"),
    };
    let scales = ds.channels.iter().map(|c| c.scale).collect();
    let Some(Events::F32(values)) = ds.events else {
        panic!("{path}: expected float32 events")
    };
    let Some(spill) = ds.spillover else {
        panic!("{path}: no spillover")
    };
    (values, scales, spill.matrix)
}

fn plan(spill: &[f64]) -> Plan {
    let inverse = match invert(spill, 11) {
        Ok(v) => v,
        Err(e) => panic!("spillover: {e}"),
    };
    let comps = vec![CompSpec {
        detectors: (4..15).collect(),
        inverse,
    }];
    let raw = |c| DimSpec {
        source: Source::Channel(c),
        comp: None,
        transform: None,
    };
    let comp = |c| DimSpec {
        source: Source::Channel(c),
        comp: Some(0),
        transform: None,
    };
    let dims = vec![
        raw(0),
        raw(2),
        raw(1),
        comp(4),
        comp(5),
        comp(6),
        comp(7),
        comp(8),
        comp(9),
        comp(11),
    ];
    let poly = |parent, d: [usize; 2], v: &[[f64; 2]]| Node {
        predicate: Predicate::Polygon {
            dims: d,
            vertices: v.to_vec(),
        },
        parent,
    };
    let rect = |parent, dims: &[usize], mins: &[f64], maxs: &[f64]| Node {
        predicate: Predicate::Rect {
            dims: dims.to_vec(),
            mins: mins.to_vec(),
            maxs: maxs.to_vec(),
        },
        parent: Some(parent),
    };
    let (c, c2, inf) = (720.2706213939932, 2565.8797791289203, f64::INFINITY);
    let nodes = vec![
        poly(
            None,
            [0, 1],
            &[
                [30000.0, 2000.0],
                [160000.0, 2000.0],
                [160000.0, 100000.0],
                [30000.0, 60000.0],
            ],
        ),
        poly(
            Some(0),
            [0, 2],
            &[
                [30000.0, 20000.0],
                [160000.0, 115000.0],
                [160000.0, 150000.0],
                [30000.0, 32000.0],
            ],
        ),
        poly(
            Some(1),
            [0, 1],
            &[
                [40000.0, 5000.0],
                [100000.0, 5000.0],
                [100000.0, 45000.0],
                [40000.0, 45000.0],
            ],
        ),
        rect(2, &[3, 4], &[c, -inf], &[inf, c]),
        rect(2, &[4, 3], &[c, -inf], &[inf, c]),
        rect(3, &[5, 6], &[c, -inf], &[inf, c]),
        rect(3, &[5, 6], &[c, c], &[inf, inf]),
        rect(3, &[5, 6], &[-inf, c], &[c, inf]),
        rect(3, &[5, 6], &[-inf, -inf], &[c, c]),
        rect(3, &[7], &[c], &[inf]),
        rect(3, &[8, 5], &[c2, c2], &[inf, inf]),
        rect(3, &[9], &[c], &[inf]),
    ];
    Plan { dims, comps, nodes }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .map_or("/tmp/cd38-bench/bcell_1000000.fcs", |s| s.as_str());
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let threads: Vec<usize> = match args.get(3).and_then(|s| s.parse().ok()) {
        Some(t) => vec![t],
        None => vec![1, 2, 1, 2],
    };
    let (values, scales, spill) = read(path, DataMode::Scale);
    let p = scales.len();
    let n = values.len() / p;
    let scaled: Vec<usize> = (0..p).filter(|&c| scales[c] != Scale::Identity).collect();
    println!("{path}: {n} events x {p} channels; columns with a scale: {scaled:?}");
    let plan = plan(&spill);
    let hot_only = args.get(4).is_some_and(|a| a == "hot");
    for &t in threads.iter().filter(|_| !hot_only) {
        let (floor, s) = pool(t).install(|| {
            best(runs, || {
                use rayon::prelude::*;
                values
                    .par_chunks(p * 16_384)
                    .map(|c| c.iter().step_by(p).map(|&x| x as f64).sum::<f64>())
                    .sum::<f64>()
            })
        });
        let (ms, m) = pool(t).install(|| best(runs, || evaluate(&plan, &values, p, &[])));
        let m = m.unwrap_or_else(|e| panic!("gating: {e}"));
        println!(
            "{t} thread(s): gate {ms:7.2} ms   floor (one value per row) {floor:6.2} ms ({s:.3e})   members hash {:016x}",
            hash_members(&m)
        );
    }
    // The same work on rows that stay in cache: 8,192 rows gated 122 times.
    let small = &values[..8192 * p];
    let (ms, _) = pool(1).install(|| {
        best(runs, || {
            (0..122)
                .map(|_| evaluate(&plan, small, p, &[]).map_or(0, |m| m[0].len()))
                .sum::<usize>()
        })
    });
    println!("1 thread, cache-resident rows (8,192 x 122 = 1 M rows): gate {ms:7.2} ms");
    let (raw, raw_scales, _) = read(path, DataMode::Raw);
    let m = evaluate(&plan, &raw, p, &raw_scales).unwrap_or_else(|e| panic!("gating: {e}"));
    println!(
        "raw values with the channels' scales: members hash {:016x}",
        hash_members(&m)
    );
}
