//! Block evaluation against a brute-force reference.

use super::eval::evaluate_with;
use super::evaluate;
use super::geometry::{ellipsoid_distance2, in_polygon as polygon_reference};
use super::plan::{BoolOp, CompSpec, DimSpec, Node, Plan, Predicate, Source};
use crate::compensation::apply::Sample;
use crate::fcs::Scale;
use crate::transforms::TransformSpec;

/// Membership by brute force: every event, every node, straight from the
/// definitions (each dimension computed on its own, the polygon test of
/// `geometry`), none of the evaluator's grouping. Columns with a scale in
/// `scales` are rescaled first.
fn reference<T: Sample>(plan: &Plan, values: &[T], p: usize, scales: &[Scale]) -> Vec<Vec<u32>> {
    let n = values.len() / p;
    let dim = |d: usize, e: usize| -> f64 {
        let spec = &plan.dims[d];
        let row: Vec<T> = values[e * p..(e + 1) * p]
            .iter()
            .enumerate()
            .map(|(c, &v)| v.rescaled(scales.get(c).copied().unwrap_or(Scale::Identity)))
            .collect();
        let col = |c: usize| match spec.comp.map(|i| &plan.comps[i]) {
            Some(m) if m.detectors.contains(&c) => {
                let k = m.detectors.iter().position(|&x| x == c).unwrap();
                let w = m.detectors.len();
                let mut acc = 0.0;
                for (j, &det) in m.detectors.iter().enumerate() {
                    acc += row[det].to_f64() * m.inverse[j * w + k];
                }
                acc
            }
            _ => row[c].to_f64(),
        };
        let v = match spec.source {
            Source::Channel(c) => col(c),
            Source::Ratio { num, den, a, b, c } => {
                crate::transforms::ratio(a, b, c, col(num), col(den))
            }
        };
        match &spec.transform {
            Some(t) => t.build().unwrap().apply(v),
            None => v,
        }
    };
    let mut member: Vec<Vec<bool>> = Vec::new();
    for node in &plan.nodes {
        let inside: Vec<bool> = (0..n)
            .map(|e| {
                let parent = node.parent.is_none_or(|q| member[q][e]);
                parent
                    && match &node.predicate {
                        Predicate::Rect { dims, mins, maxs } => dims
                            .iter()
                            .zip(mins.iter().zip(maxs))
                            .all(|(&d, (lo, hi))| dim(d, e) >= *lo && dim(d, e) < *hi),
                        Predicate::Polygon { dims, vertices } => {
                            polygon_reference(dim(dims[0], e), dim(dims[1], e), vertices)
                        }
                        Predicate::Ellipsoid {
                            dims,
                            mean,
                            inv_cov,
                            d2,
                        } => ellipsoid_distance2(|i| dim(dims[i], e), mean, inv_cov) <= *d2,
                        Predicate::Boolean { op, operands } => {
                            let mut it = operands.iter().map(|&(o, c)| member[o][e] != c);
                            match op {
                                BoolOp::And => it.all(|b| b),
                                BoolOp::Or => it.any(|b| b),
                                BoolOp::Not => !it.all(|b| b),
                            }
                        }
                    }
            })
            .collect();
        member.push(inside);
    }
    member
        .iter()
        .map(|m| (0..n as u32).filter(|&e| m[e as usize]).collect())
        .collect()
}

#[test]
fn grouped_evaluation_equals_brute_force() {
    let (n, p) = (40_000, 6);
    let mut x = 5u64;
    let values: Vec<f32> = (0..n * p)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            match i % 97 {
                0 => f32::NAN,
                1 => -0.0,
                2 => 500.0, // on a rectangle's edge
                _ => (u * 2000.0 - 500.0) as f32,
            }
        })
        .collect();
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
    let plan = Plan {
        comps: vec![CompSpec {
            detectors: vec![1, 2, 3],
            inverse: vec![1.1, -0.1, 0.02, -0.05, 1.03, -0.2, 0.0, -0.01, 0.97],
        }],
        dims: vec![
            raw(0),
            comp(1),
            comp(2),
            DimSpec {
                source: Source::Ratio {
                    num: 4,
                    den: 5,
                    a: 2.0,
                    b: 1.0,
                    c: -3.0,
                },
                comp: None,
                transform: None,
            },
            DimSpec {
                source: Source::Channel(3),
                comp: Some(0),
                transform: Some(TransformSpec::Arcsinh { cofactor: 150.0 }),
            },
            raw(5),
        ],
        nodes: vec![
            Node {
                // A self-intersecting bow tie over raw and compensated values.
                predicate: Predicate::Polygon {
                    dims: [0, 1],
                    vertices: vec![
                        [-400.0, -300.0],
                        [1400.0, 1500.0],
                        [1400.0, -300.0],
                        [-400.0, 1500.0],
                    ],
                },
                parent: None,
            },
            Node {
                predicate: Predicate::Rect {
                    dims: vec![2, 5],
                    mins: vec![f64::NEG_INFINITY, 500.0],
                    maxs: vec![900.0, f64::INFINITY],
                },
                parent: Some(0),
            },
            Node {
                predicate: Predicate::Ellipsoid {
                    dims: vec![1, 4],
                    mean: vec![500.0, 2.0],
                    inv_cov: vec![1e-5, 1e-6, 1e-6, 0.5],
                    d2: 1.0,
                },
                parent: Some(0),
            },
            Node {
                predicate: Predicate::Boolean {
                    op: BoolOp::Or,
                    operands: vec![(1, false), (2, true)],
                },
                parent: Some(0),
            },
            Node {
                predicate: Predicate::Rect {
                    dims: vec![3],
                    mins: vec![-1.0],
                    maxs: vec![1.0],
                },
                parent: Some(3),
            },
            Node {
                predicate: Predicate::Boolean {
                    op: BoolOp::Not,
                    operands: vec![(4, false)],
                },
                parent: None,
            },
            Node {
                predicate: Predicate::Polygon {
                    dims: [5, 2],
                    vertices: vec![[0.0, 0.0], [1000.0, 0.0], [500.0, 800.0]],
                },
                parent: Some(5),
            },
            Node {
                predicate: Predicate::Rect {
                    dims: vec![1],
                    mins: vec![0.0],
                    maxs: vec![700.0],
                },
                parent: Some(0),
            },
        ],
    };
    let want = reference(&plan, &values, p, &[]);
    assert!(want.iter().all(|m| !m.is_empty() && m.len() < n));
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let got = pool.install(|| evaluate(&plan, &values, p, &[])).unwrap();
        assert_eq!(got, want, "{threads} thread(s)");
    }
}

/// A deterministic stream of adversarial values: NaN, ±inf, ±0, denormals,
/// the polygons' vertex coordinates and the rectangles' bounds (ties), and
/// plain values spread around them.
struct Values(u64);

impl Values {
    fn next_u(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        const SPECIAL: [f64; 12] = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1e-310,
            -1e-310,
            100.0,
            300.0,
            500.0,
            -200.0,
            700.0,
        ];
        let u = self.next_u();
        if u < 0.15 {
            SPECIAL[(self.next_u() * SPECIAL.len() as f64) as usize % SPECIAL.len()]
        } else {
            self.next_u() * 1600.0 - 400.0
        }
    }
}

fn raw(c: usize) -> DimSpec {
    DimSpec {
        source: Source::Channel(c),
        comp: None,
        transform: None,
    }
}

fn node(predicate: Predicate, parent: Option<usize>) -> Node {
    Node { predicate, parent }
}

fn rect(dims: &[usize], mins: &[f64], maxs: &[f64], parent: Option<usize>) -> Node {
    node(
        Predicate::Rect {
            dims: dims.to_vec(),
            mins: mins.to_vec(),
            maxs: maxs.to_vec(),
        },
        parent,
    )
}

fn polygon(dims: [usize; 2], vertices: &[[f64; 2]], parent: Option<usize>) -> Node {
    node(
        Predicate::Polygon {
            dims,
            vertices: vertices.to_vec(),
        },
        parent,
    )
}

fn boolean(op: BoolOp, operands: &[(usize, bool)], parent: Option<usize>) -> Node {
    node(
        Predicate::Boolean {
            op,
            operands: operands.to_vec(),
        },
        parent,
    )
}

/// A tree with every shape: booleans over geometric gates and geometric gates
/// under booleans, a five-deep chain whose leaf reads root-level dimensions,
/// an empty population with children, two compensations sharing detectors,
/// ratios and transforms.
fn adversarial_plan() -> Plan {
    let comp = |c, m| DimSpec {
        source: Source::Channel(c),
        comp: Some(m),
        transform: None,
    };
    let inf = f64::INFINITY;
    Plan {
        comps: vec![
            CompSpec {
                detectors: vec![1, 2, 3],
                inverse: vec![1.1, -0.1, 0.02, -0.05, 1.03, -0.2, 0.0, -0.01, 0.97],
            },
            CompSpec {
                detectors: vec![3, 4],
                inverse: vec![1.2, -0.3, -0.1, 1.05],
            },
        ],
        dims: vec![
            raw(0),     // 0
            comp(1, 0), // 1
            comp(2, 0), // 2
            DimSpec {
                // 3: a ratio of compensated values
                source: Source::Ratio {
                    num: 3,
                    den: 4,
                    a: 2.0,
                    b: 1.0,
                    c: -3.0,
                },
                comp: Some(1),
                transform: None,
            },
            DimSpec {
                // 4
                source: Source::Channel(3),
                comp: Some(0),
                transform: Some(TransformSpec::Arcsinh { cofactor: 150.0 }),
            },
            raw(5),     // 5
            comp(4, 1), // 6
            DimSpec {
                // 7: logicle of a raw channel
                source: Source::Channel(6),
                comp: None,
                transform: Some(TransformSpec::Logicle {
                    t: 262144.0,
                    w: 0.5,
                    m: 4.5,
                    a: 0.0,
                }),
            },
            comp(0, 0), // 8: column 0 is not a detector of compensation 0
            raw(6),     // 9: used by no gate
        ],
        nodes: vec![
            // 0: bow tie with vertices on the special values
            polygon(
                [0, 1],
                &[
                    [-200.0, -200.0],
                    [700.0, 700.0],
                    [700.0, -200.0],
                    [-200.0, 700.0],
                ],
                None,
            ),
            rect(&[2, 5], &[-inf, 100.0], &[500.0, inf], Some(0)), // 1
            node(
                Predicate::Ellipsoid {
                    dims: vec![1, 4],
                    mean: vec![300.0, 2.0],
                    inv_cov: vec![1e-5, 1e-6, 1e-6, 0.5],
                    d2: 1.0,
                },
                Some(0),
            ), // 2
            boolean(BoolOp::Or, &[(1, false), (2, true)], Some(0)), // 3
            rect(&[3], &[-1.0], &[1.0], Some(3)),                  // 4
            boolean(BoolOp::Not, &[(4, false)], None),             // 5
            polygon([5, 2], &[[0.0, 0.0], [500.0, 0.0], [300.0, 700.0]], Some(5)), // 6
            rect(&[1], &[0.0], &[700.0], Some(0)),                 // 7
            // 8: empty (min > max), with a child and a boolean reading it
            rect(&[0], &[10.0], &[-10.0], Some(7)),
            polygon([0, 1], &[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], Some(8)), // 9
            boolean(BoolOp::And, &[(8, true), (7, false)], Some(3)),         // 10
            // 11..15: a chain, the leaf reading root-level dimensions
            rect(&[6], &[-300.0], &[1200.0], Some(10)), // 11
            rect(&[7], &[-inf], &[0.9], Some(11)),      // 12
            rect(&[8], &[-400.0], &[inf], Some(12)),    // 13
            polygon(
                [0, 5],
                &[
                    [-300.0, -300.0],
                    [800.0, -250.0],
                    [800.0, 900.0],
                    [100.0, 100.0],
                    [-300.0, 900.0],
                ],
                Some(13),
            ), // 14
            boolean(
                BoolOp::And,
                &[(14, false), (6, true), (12, false)],
                Some(12),
            ), // 15
            // 16: a horizontal-edged polygon, so its horizontal edges' ties count
            polygon(
                [5, 0],
                &[
                    [100.0, 100.0],
                    [500.0, 100.0],
                    [500.0, 500.0],
                    [100.0, 500.0],
                ],
                None,
            ),
        ],
    }
}

fn data<T: Sample>(n: usize, p: usize, seed: u64) -> Vec<T> {
    let mut g = Values(seed);
    (0..n * p).map(|_| T::from_f64(g.next())).collect()
}

/// Every evaluator build (portable, AVX2 where available) on 1 and 3 threads.
fn check<T: Sample>(plan: &Plan, values: &[T], p: usize, scales: &[Scale], want: &[Vec<u32>]) {
    let builds = if super::block::avx2_available() {
        vec![false, true]
    } else {
        vec![false]
    };
    for avx2 in builds {
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let m = pool
                .install(|| evaluate_with(plan, values, p, scales, avx2))
                .unwrap();
            // Counts, words and indices agree.
            for (g, w) in want.iter().enumerate() {
                assert_eq!(m.count(g), w.len());
                for (i, &e) in w.iter().enumerate().step_by(97) {
                    assert!(m.word(g, e as usize / 64) >> (e % 64) & 1 == 1, "{g} {i}");
                }
            }
            let got = m.all_indices();
            assert_eq!(
                got,
                want,
                "{threads} thread(s), avx2 {avx2}, n {}",
                values.len() / p
            );
        }
    }
}

#[test]
fn adversarial_values_and_shapes_equal_brute_force() {
    let plan = adversarial_plan();
    let p = 7;
    // Around the block (1,024) and chunk (16,384) sizes, and tiny inputs.
    for (i, n) in [0usize, 1, 2, 1023, 1024, 1025, 5000, 16_383, 16_385, 40_000]
        .into_iter()
        .enumerate()
    {
        let v32: Vec<f32> = data(n, p, 11 + i as u64);
        let want = reference(&plan, &v32, p, &[]);
        if n == 40_000 {
            // Every population is reached, and most are neither empty nor everything.
            let sizes: Vec<usize> = want.iter().map(|m| m.len()).collect();
            assert_eq!(sizes[8], 0, "{sizes:?}");
            assert_eq!(sizes[9], 0, "{sizes:?}");
            let nonempty = sizes.iter().filter(|&&s| s > 0 && s < n).count();
            assert!(nonempty >= 13, "{sizes:?}");
        }
        check(&plan, &v32, p, &[], &want);
        let v64: Vec<f64> = data(n, p, 11 + i as u64);
        let want = reference(&plan, &v64, p, &[]);
        check(&plan, &v64, p, &[], &want);
    }
}

#[test]
fn stored_values_with_scales_equal_scaled_values() {
    let plan = adversarial_plan();
    let p = 7;
    let scales = [
        Scale::Identity,
        Scale::Gain(2.5),
        Scale::Identity,
        Scale::TimeStep(0.01),
        Scale::Log {
            decades: 4.0,
            offset: 1.0,
            range: 1024.0,
        },
        Scale::Gain(0.5),
        Scale::Identity,
    ];
    let n = 20_000;
    let stored: Vec<f32> = data(n, p, 99);
    let scaled: Vec<f32> = stored
        .iter()
        .enumerate()
        .map(|(i, &v)| v.rescaled(scales[i % p]))
        .collect();
    let want = reference(&plan, &scaled, p, &[]);
    assert_eq!(reference(&plan, &stored, p, &scales), want);
    assert_ne!(reference(&plan, &stored, p, &[]), want);
    check(&plan, &scaled, p, &[], &want);
    check(&plan, &stored, p, &scales, &want);
    // All-Identity scales are the same as none.
    let want = reference(&plan, &stored, p, &[]);
    check(&plan, &stored, p, &[Scale::Identity; 7], &want);
    let stored64: Vec<f64> = data(n, p, 98);
    let want = reference(&plan, &stored64, p, &scales);
    check(&plan, &stored64, p, &scales, &want);
}

#[test]
fn bad_input_is_an_error() {
    let plan = adversarial_plan();
    let values: Vec<f32> = data(10, 7, 1);
    assert!(evaluate(&plan, &values, 7, &[Scale::Identity; 6]).is_err());
    assert!(evaluate(&plan, &values, 6, &[]).is_err());
    assert!(evaluate(&plan, &values[..69], 7, &[]).is_err());
    assert!(evaluate(&plan, &values, 0, &[]).is_err());
    // Too few columns for the plan.
    assert!(evaluate(&plan, &values[..60], 6, &[]).is_err());
}
