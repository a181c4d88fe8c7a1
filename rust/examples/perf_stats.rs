//! Timing of gate evaluation and population statistics on a real FCS file.
//!
//!     CARGO_TARGET_DIR=/work/target-perf cargo run -p cd38-core --release \
//!         --example perf_stats -- /tmp/cd38-bench/bcell_1000000.fcs [runs] [request]
//!
//! The file is one written by `cd38.synth.bcell_sample` (16 float32 channels,
//! 11 compensated detectors in columns 4..=14); the plan mirrors
//! benches/bcell_data.py's strategy as cd38's Python compiler lowers it (bounds
//! already mapped from logicle back to data space). Every figure is the best of
//! `runs`, on rayon pools of 1 and 2 threads, next to same-run references: a
//! plain sequential sum over every value, and one over each population's rows.
//! A hash of the outputs' bits lets two builds be compared for identical results.

use std::path::Path;
use std::time::Instant;

use cd38_core::compensation::invert;
use cd38_core::fcs::{read_path, DataMode, Events, ReadOptions, Scale};
use cd38_core::gating::{
    evaluate, evaluate_members, CompSpec, DimSpec, Node, Plan, Predicate, Source,
};
use cd38_core::stats::{compute, compute_members, Request, Stat};

fn best<R>(runs: usize, mut f: impl FnMut() -> R) -> (f64, R) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    match out {
        Some(r) => (best * 1e3, r),
        None => panic!("runs must be positive"),
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => panic!("thread pool: {e}"),
    }
}

fn hash_bits(xs: impl Iterator<Item = u64>) -> u64 {
    xs.fold(0xcbf29ce484222325u64, |h, x| {
        (h ^ x).wrapping_mul(0x100000001b3)
    })
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
    // An optional third argument runs only that statistics request (for profiling).
    let only = args.get(3).cloned();
    let opts = ReadOptions {
        data: DataMode::Scale,
        ..ReadOptions::default()
    };
    let t = Instant::now();
    let ds = match read_path(Path::new(path), &opts) {
        Ok(d) => d,
        Err(e) => panic!("{path}: {e}"),
    };
    let read_ms = t.elapsed().as_secs_f64() * 1e3;
    let p = ds.channels.len();
    // The channels' scales, to run on the stored (raw) values as Python's
    // zero-copy path does: results must equal those on scale values.
    let scales: Vec<Scale> = ds.channels.iter().map(|c| c.scale).collect();
    let raw_opts = ReadOptions {
        data: DataMode::Raw,
        ..ReadOptions::default()
    };
    let raw = match read_path(Path::new(path), &raw_opts).map(|d| d.events) {
        Ok(Some(Events::F32(v))) => v,
        _ => panic!("{path}: expected float32 raw events"),
    };
    let scaled = scales.iter().filter(|&&s| s != Scale::Identity).count();
    let Some(Events::F32(values)) = ds.events else {
        panic!("{path}: expected float32 events")
    };
    let Some(spill) = ds.spillover else {
        panic!("{path}: no spillover")
    };
    let n = values.len() / p;
    println!("{path}: {n} events x {p} channels (read {read_ms:.0} ms; {scaled} scaled)");
    let plan = plan(&spill.matrix);
    let cols: Vec<usize> = (0..p).collect();

    let (floor, total) = best(runs, || values.iter().map(|&x| x as f64).sum::<f64>());
    println!("reference: sequential sum over all values  {floor:8.1} ms  ({total:.6e})");

    let mut members = Vec::new();
    let gate_runs = if only.as_deref().is_none_or(|o| o == "gate") {
        runs
    } else {
        1
    };
    for threads in [1, 2, 1, 2] {
        let (ms, m) =
            pool(threads).install(|| best(gate_runs, || evaluate(&plan, &values, p, &[])));
        let m = match m {
            Ok(m) => m,
            Err(e) => panic!("gating: {e}"),
        };
        let h = hash_bits(m.iter().flat_map(|v| v.iter().map(|&x| x as u64)));
        println!(
            "gate, {threads} thread(s):                    {ms:8.1} ms  (members hash {h:016x})"
        );
        members = m;
    }
    let sizes: Vec<usize> = members.iter().map(|m| m.len()).collect();
    println!("population sizes: {sizes:?}");
    let pops: Vec<Option<&[u32]>> = members.iter().map(|m| Some(m.as_slice())).collect();

    let (gsum, s) = best(runs, || {
        let mut total = 0.0;
        for m in &members {
            for &i in m {
                let row = &values[i as usize * p..][..p];
                total += row.iter().map(|&x| x as f64).sum::<f64>();
            }
        }
        total
    });
    println!("reference: sum of every population's rows  {gsum:8.1} ms  ({s:.6e})");

    let requests = [
        ("median", vec![Stat::Median], vec![]),
        (
            "median+mean+cv",
            vec![Stat::Median, Stat::Mean, Stat::Cv],
            vec![],
        ),
        (
            "mean,sd,median,rsd,min,max+p5,p95",
            vec![
                Stat::Mean,
                Stat::Sd,
                Stat::Median,
                Stat::Rsd,
                Stat::Min,
                Stat::Max,
            ],
            vec![5.0, 95.0],
        ),
        ("mad", vec![Stat::Mad], vec![]),
    ];
    for (name, stats, percentiles) in requests {
        if only.as_ref().is_some_and(|o| o != name) {
            continue;
        }
        let req = Request { stats, percentiles };
        for threads in [1, 2] {
            let (ms, out) = pool(threads)
                .install(|| best(runs, || compute(&values, p, &pops, &cols, &req, &[])));
            let out = match out {
                Ok(o) => o,
                Err(e) => panic!("stats: {e}"),
            };
            let h = hash_bits(out.iter().flatten().flatten().map(|x| x.to_bits()));
            println!("stats {name:<34} {threads} thread(s): {ms:8.1} ms  (hash {h:016x})");
        }
        let bits = match evaluate_members(&plan, &values, p, &[]) {
            Ok(m) => m,
            Err(e) => panic!("gating: {e}"),
        };
        let nodes: Vec<usize> = (0..members.len()).collect();
        for threads in [1, 2] {
            let (ms, out) = pool(threads).install(|| {
                best(runs, || {
                    compute_members(&values, p, &bits, &nodes, &cols, &req, &[])
                })
            });
            let h = match out {
                Ok(o) => hash_bits(o.iter().flatten().flatten().map(|x| x.to_bits())),
                Err(e) => panic!("stats: {e}"),
            };
            println!("stats {name:<34} members as bits, {threads} thread(s): {ms:8.1} ms  (hash {h:016x})");
        }
        let (ms, out) =
            pool(2).install(|| best(1, || compute(&raw, p, &pops, &cols, &req, &scales)));
        let h = match out {
            Ok(o) => hash_bits(o.iter().flatten().flatten().map(|x| x.to_bits())),
            Err(e) => panic!("stats: {e}"),
        };
        println!("stats {name:<34} raw + scales, 2 threads: {ms:8.1} ms  (hash {h:016x})");
        for threads in [1, 2] {
            let (ms, out) = pool(threads)
                .install(|| best(runs, || compute(&values, p, &[None], &cols, &req, &[])));
            let h = match out {
                Ok(o) => hash_bits(o.iter().flatten().flatten().map(|x| x.to_bits())),
                Err(e) => panic!("stats: {e}"),
            };
            println!(
                "stats {name:<34} all events, {threads} thread(s): {ms:8.1} ms  (hash {h:016x})"
            );
        }
    }
}
