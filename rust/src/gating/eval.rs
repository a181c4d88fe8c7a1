//! Evaluating a [`Plan`] over an event matrix.
//!
//! Each population is a sorted list of event indices. The geometric gates that
//! share a parent are evaluated together, in one pass over the parent's events:
//! each event's row is read once, the dimensions those gates use are computed
//! from it (compensating only the channels needed, then transforming), and
//! every gate is tested on the spot, so no column of dimension values is ever
//! materialised. Boolean gates combine their operands' members as bit sets.
//! Work is split into fixed chunks of the parent's events and concatenated in
//! order, so results are identical for any thread count.

use rayon::prelude::*;

use super::plan::{BoolOp, CompSpec, Node, Plan, Predicate, Source};
use crate::compensation::apply::Sample;
use crate::error::{Error, Result};
use crate::stats::rows::each_row;
use crate::transforms::Transform;

const CHUNK: usize = 16_384;

/// The events a computation runs over: all of them, or a population's members.
#[derive(Clone, Copy)]
enum Events<'a> {
    All(usize),
    Some(&'a [u32]),
}

impl Events<'_> {
    fn len(&self) -> usize {
        match self {
            Events::All(n) => *n,
            Events::Some(v) => v.len(),
        }
    }

    /// Calls `f` with each event index of positions `range`.
    #[inline(always)]
    fn each(&self, range: std::ops::Range<usize>, mut f: impl FnMut(usize)) {
        match self {
            Events::All(_) => range.for_each(f),
            Events::Some(v) => v[range].iter().for_each(|&e| f(e as usize)),
        }
    }
}

/// How a dimension reads one source column: as stored, or compensated as the
/// sum over the matrix's detectors of value × the inverse's column entry.
enum Read {
    Raw(usize),
    /// (detector column, weight) in the matrix's detector order, the order the
    /// sum runs in.
    Comp(Vec<(usize, f64)>),
}

impl Read {
    fn new(col: usize, comp: Option<&CompSpec>) -> Read {
        let Some(c) = comp else {
            return Read::Raw(col);
        };
        let n = c.detectors.len();
        match c.detectors.iter().position(|&d| d == col) {
            Some(k) => Read::Comp(
                c.detectors
                    .iter()
                    .enumerate()
                    .map(|(j, &d)| (d, c.inverse[j * n + k]))
                    .collect(),
            ),
            None => Read::Raw(col),
        }
    }

    #[inline(always)]
    fn value<T: Sample>(&self, row: &[T]) -> f64 {
        match self {
            Read::Raw(c) => row[*c].to_f64(),
            Read::Comp(terms) => {
                let mut acc = 0.0;
                for &(d, w) in terms {
                    acc += row[d].to_f64() * w;
                }
                acc
            }
        }
    }
}

/// One dimension ready to evaluate: its source, compensation and built transform.
struct Dim {
    num: Read,
    /// The denominator and (a, b, c) of a ratio.
    ratio: Option<(Read, f64, f64, f64)>,
    transform: Option<Box<dyn Transform>>,
}

impl Dim {
    #[inline(always)]
    fn value<T: Sample>(&self, row: &[T]) -> f64 {
        let x1 = self.num.value(row);
        let v = match &self.ratio {
            None => x1,
            Some((den, a, b, c)) => crate::transforms::ratio(*a, *b, *c, x1, den.value(row)),
        };
        match &self.transform {
            Some(t) => t.apply(v),
            None => v,
        }
    }
}

/// A polygon edge: its start and its extent, computed once.
struct Edge {
    x0: f64,
    y0: f64,
    y1: f64,
    dx: f64,
    dy: f64,
}

/// A geometric gate over slots of a group's per-event dimension values.
enum Test<'a> {
    Rect {
        slots: Vec<usize>,
        mins: &'a [f64],
        maxs: &'a [f64],
    },
    Polygon {
        x: usize,
        y: usize,
        edges: Vec<Edge>,
    },
    Ellipsoid {
        slots: Vec<usize>,
        mean: &'a [f64],
        inv_cov: &'a [f64],
        d2: f64,
    },
}

impl Test<'_> {
    #[inline(always)]
    fn holds(&self, v: &[f64]) -> bool {
        match self {
            Test::Rect { slots, mins, maxs } => slots
                .iter()
                .zip(mins.iter().zip(maxs.iter()))
                .all(|(&s, (lo, hi))| v[s] >= *lo && v[s] < *hi),
            Test::Polygon { x, y, edges } => in_polygon(v[*x], v[*y], edges),
            Test::Ellipsoid {
                slots,
                mean,
                inv_cov,
                d2,
            } => super::geometry::ellipsoid_distance2(|i| v[slots[i]], mean, inv_cov) <= *d2,
        }
    }
}

/// [`super::geometry::in_polygon`] on precomputed edges: the same arithmetic,
/// so the same answer to the last bit.
#[inline(always)]
fn in_polygon(x: f64, y: f64, edges: &[Edge]) -> bool {
    let mut wn = 0i64;
    for e in edges {
        let is_left = e.dx * (y - e.y0) - (x - e.x0) * e.dy;
        if e.y0 <= y {
            if e.y1 > y && is_left > 0.0 {
                wn += 1;
            }
        } else if e.y1 <= y && is_left < 0.0 {
            wn -= 1;
        }
    }
    wn % 2 != 0
}

fn edges(vertices: &[[f64; 2]]) -> Vec<Edge> {
    let n = vertices.len();
    (0..n)
        .map(|i| {
            let [x0, y0] = vertices[i];
            let [x1, y1] = vertices[(i + 1) % n];
            Edge {
                x0,
                y0,
                y1,
                dx: x1 - x0,
                dy: y1 - y0,
            }
        })
        .collect()
}

struct Evaluator<'a, T> {
    plan: &'a Plan,
    values: &'a [T],
    p: usize,
    n: usize,
    dims: Vec<Dim>,
    members: Vec<Option<Vec<u32>>>,
}

impl<T: Sample> Evaluator<'_, T> {
    fn events(&self, basis: Option<usize>) -> Events<'_> {
        match basis.and_then(|b| self.members[b].as_deref()) {
            None => Events::All(self.n),
            Some(m) => Events::Some(m),
        }
    }

    /// The tests of geometric `nodes`, over slots of the distinct dimensions
    /// they use (returned too, in slot order).
    fn compile(&self, nodes: &[usize]) -> (Vec<Test<'_>>, Vec<usize>) {
        let mut used: Vec<usize> = Vec::new();
        let mut slot = |d: usize| match used.iter().position(|&u| u == d) {
            Some(s) => s,
            None => {
                used.push(d);
                used.len() - 1
            }
        };
        let tests = nodes
            .iter()
            .filter_map(|&i| match &self.plan.nodes[i].predicate {
                Predicate::Rect { dims, mins, maxs } => Some(Test::Rect {
                    slots: dims.iter().map(|&d| slot(d)).collect(),
                    mins,
                    maxs,
                }),
                Predicate::Polygon { dims, vertices } => Some(Test::Polygon {
                    x: slot(dims[0]),
                    y: slot(dims[1]),
                    edges: edges(vertices),
                }),
                Predicate::Ellipsoid {
                    dims,
                    mean,
                    inv_cov,
                    d2,
                } => Some(Test::Ellipsoid {
                    slots: dims.iter().map(|&d| slot(d)).collect(),
                    mean,
                    inv_cov,
                    d2: *d2,
                }),
                Predicate::Boolean { .. } => None,
            })
            .collect();
        (tests, used)
    }

    /// The members of the geometric gates `group` (sharing one parent), from a
    /// single pass over the parent's events.
    fn group(&self, group: &[usize]) -> Vec<Vec<u32>> {
        let basis = self.plan.nodes[group[0]].parent;
        let (tests, used) = self.compile(group);
        let dims: Vec<&Dim> = used.iter().map(|&d| &self.dims[d]).collect();
        let events = self.events(basis);
        let (values, p) = (self.values, self.p);
        let chunks: Vec<Vec<Vec<u32>>> = (0..events.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|ci| {
                let range = ci * CHUNK..((ci + 1) * CHUNK).min(events.len());
                let mut out = vec![Vec::new(); tests.len()];
                let mut v = vec![0f64; dims.len()];
                let members = match events {
                    Events::All(_) => None,
                    Events::Some(m) => Some(m),
                };
                each_row(values, p, members, range, |e, row| {
                    for (x, d) in v.iter_mut().zip(&dims) {
                        *x = d.value(row);
                    }
                    for (o, t) in out.iter_mut().zip(&tests) {
                        if t.holds(&v) {
                            o.push(e as u32);
                        }
                    }
                });
                out
            })
            .collect();
        concat(&chunks, tests.len())
    }

    fn keep(&self, basis: Option<usize>, test: impl Fn(usize) -> bool + Sync) -> Vec<u32> {
        let events = self.events(basis);
        let chunks: Vec<Vec<u32>> = (0..events.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|ci| {
                let mut out = Vec::new();
                events.each(ci * CHUNK..((ci + 1) * CHUNK).min(events.len()), |e| {
                    if test(e) {
                        out.push(e as u32);
                    }
                });
                out
            })
            .collect();
        chunks.concat()
    }

    fn boolean(&self, op: BoolOp, operands: &[(usize, bool)], basis: Option<usize>) -> Vec<u32> {
        let words = self.n.div_ceil(64);
        let bits = |members: &[u32], complement: bool| {
            let mut b = vec![0u64; words];
            for &m in members {
                b[m as usize / 64] |= 1 << (m % 64);
            }
            if complement {
                for w in b.iter_mut() {
                    *w = !*w;
                }
            }
            b
        };
        let mut acc: Option<Vec<u64>> = None;
        for &(o, complement) in operands {
            let b = bits(self.members[o].as_deref().unwrap_or(&[]), complement);
            acc = Some(match acc {
                None => b,
                Some(a) => a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| if op == BoolOp::Or { x | y } else { x & y })
                    .collect(),
            });
        }
        let mut acc = acc.unwrap_or_else(|| vec![0u64; words]);
        if op == BoolOp::Not {
            for w in acc.iter_mut() {
                *w = !*w;
            }
        }
        self.keep(basis, |e| acc[e / 64] >> (e % 64) & 1 == 1)
    }
}

/// Per gate, its members from every chunk, in chunk order.
fn concat(chunks: &[Vec<Vec<u32>>], gates: usize) -> Vec<Vec<u32>> {
    (0..gates)
        .map(|g| {
            let mut all = Vec::with_capacity(chunks.iter().map(|c| c[g].len()).sum());
            for c in chunks {
                all.extend_from_slice(&c[g]);
            }
            all
        })
        .collect()
}

fn is_boolean(node: &Node) -> bool {
    matches!(node.predicate, Predicate::Boolean { .. })
}

/// Evaluate `plan` on row-major `values` (n × p). Returns each node's members.
pub fn evaluate<T: Sample>(plan: &Plan, values: &[T], p: usize) -> Result<Vec<Vec<u32>>> {
    if p == 0 || values.len() % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{} values do not divide into rows of {p}",
            values.len()
        )));
    }
    let n = values.len() / p;
    if n > u32::MAX as usize {
        return Err(Error::InvalidArgument(format!(
            "{n} events is more than one gating pass handles (2^32 - 1)"
        )));
    }
    plan.validate(p)?;
    let dims = plan
        .dims
        .iter()
        .map(|spec| {
            let comp = spec.comp.and_then(|c| plan.comps.get(c));
            let (num, ratio) = match spec.source {
                Source::Channel(c) => (Read::new(c, comp), None),
                Source::Ratio { num, den, a, b, c } => {
                    (Read::new(num, comp), Some((Read::new(den, comp), a, b, c)))
                }
            };
            Ok(Dim {
                num,
                ratio,
                transform: spec.transform.as_ref().map(|t| t.build()).transpose()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let nodes = &plan.nodes;
    let mut ev = Evaluator {
        plan,
        values,
        p,
        n,
        dims,
        members: vec![None; nodes.len()],
    };
    for i in 0..nodes.len() {
        if ev.members[i].is_some() {
            continue;
        }
        if let Predicate::Boolean { op, operands } = &nodes[i].predicate {
            let m = ev.boolean(*op, operands, nodes[i].parent);
            ev.members[i] = Some(m);
            continue;
        }
        // Every geometric gate on the same parent not evaluated yet: they
        // depend on nothing but that parent, which is evaluated already.
        let group: Vec<usize> = (i..nodes.len())
            .filter(|&j| {
                ev.members[j].is_none()
                    && !is_boolean(&nodes[j])
                    && nodes[j].parent == nodes[i].parent
            })
            .collect();
        for (j, m) in group.iter().zip(ev.group(&group)) {
            ev.members[*j] = Some(m);
        }
    }
    Ok(ev
        .members
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::geometry::{ellipsoid_distance2, in_polygon as polygon_reference};
    use super::super::plan::DimSpec;
    use super::*;
    use crate::transforms::TransformSpec;

    /// Membership by brute force: every event, every node, straight from the
    /// definitions (each dimension computed on its own, the polygon test of
    /// `geometry`), none of the evaluator's grouping.
    fn reference(plan: &Plan, values: &[f32], p: usize) -> Vec<Vec<u32>> {
        let n = values.len() / p;
        let dim = |d: usize, e: usize| -> f64 {
            let spec = &plan.dims[d];
            let row = &values[e * p..(e + 1) * p];
            let col = |c: usize| match spec.comp.map(|i| &plan.comps[i]) {
                Some(m) if m.detectors.contains(&c) => {
                    let k = m.detectors.iter().position(|&x| x == c).unwrap();
                    let w = m.detectors.len();
                    let mut acc = 0.0;
                    for (j, &det) in m.detectors.iter().enumerate() {
                        acc += row[det] as f64 * m.inverse[j * w + k];
                    }
                    acc
                }
                _ => row[c] as f64,
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
        let want = reference(&plan, &values, p);
        assert!(want.iter().all(|m| !m.is_empty() && m.len() < n));
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let got = pool.install(|| evaluate(&plan, &values, p)).unwrap();
            assert_eq!(got, want, "{threads} thread(s)");
        }
    }
}
