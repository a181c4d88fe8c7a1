//! A [`Plan`] compiled for block-wise evaluation.
//!
//! Every dimension gets a *basis*: the deepest population that contains the
//! parents of all the gates using it (`None` = every event). Within a block of
//! rows it is computed once, for the basis's rows only, right before the first
//! gate that needs it. The dimensions of one basis form a [`Load`]: the source
//! columns they read are gathered once per block into contiguous f64 columns,
//! so compensated dimensions sharing detectors share the loads.

use super::plan::{BoolOp, CompSpec, Plan, Predicate, Source};
use crate::error::Result;
use crate::fcs::Scale;
use crate::transforms::Transform;

/// A population in the tree, or `None` for every event.
pub(super) type Basis = Option<usize>;

/// The source columns one basis needs, gathered together.
pub(super) struct Load {
    pub basis: Basis,
    /// Event-matrix columns, in gathering order.
    pub columns: Vec<usize>,
    /// The FCS scale read for each of `columns` (Identity when stored as is).
    pub scales: Vec<Scale>,
    /// Whether any of `scales` is not Identity.
    pub scaled: bool,
    /// Dimensions computed from these columns.
    pub dims: Vec<usize>,
}

/// One value read from a load's gathered columns.
pub(super) enum Operand {
    /// The column at this index of [`Load::columns`], as stored.
    Column(usize),
    /// Sum over a compensation's detectors, in detector order, of
    /// value × weight: (index in [`Load::columns`], weight).
    Compensated(Vec<(usize, f64)>),
}

pub(super) struct Dim {
    pub load: usize,
    pub num: Operand,
    /// The denominator and (a, b, c) of a ratio.
    pub ratio: Option<(Operand, f64, f64, f64)>,
    pub transform: Option<Box<dyn Transform>>,
    /// A gate whose parent is deeper than the basis reads this dimension, so
    /// its values are also kept at their rows' offsets in the block.
    pub scatter: bool,
}

/// A polygon edge: its start and its extent, computed once.
pub(super) struct Edge {
    pub x0: f64,
    pub y0: f64,
    pub y1: f64,
    pub dx: f64,
    pub dy: f64,
}

pub(super) enum Test {
    Rect {
        dims: Vec<usize>,
        mins: Vec<f64>,
        maxs: Vec<f64>,
    },
    Polygon {
        dims: [usize; 2],
        edges: Vec<Edge>,
    },
    Ellipsoid {
        dims: Vec<usize>,
        mean: Vec<f64>,
        inv_cov: Vec<f64>,
        d2: f64,
    },
    Boolean {
        op: BoolOp,
        operands: Vec<(usize, bool)>,
    },
}

pub(super) struct Step {
    pub parent: Basis,
    pub test: Test,
}

pub(super) struct Program {
    pub steps: Vec<Step>,
    /// Per plan dimension; `None` when no gate uses it.
    pub dims: Vec<Option<Dim>>,
    pub loads: Vec<Load>,
    /// Per node: whether a boolean gate reads it (its members are then also
    /// kept as a bit set per block).
    pub operand: Vec<bool>,
}

impl Program {
    /// The widest gate, in dimensions (the scratch columns a gate may gather).
    pub fn max_gate_dims(&self) -> usize {
        self.steps
            .iter()
            .map(|s| match &s.test {
                Test::Rect { dims, .. } | Test::Ellipsoid { dims, .. } => dims.len(),
                Test::Polygon { .. } => 2,
                Test::Boolean { .. } => 0,
            })
            .max()
            .unwrap_or(0)
    }
}

/// The polygon's edges that can change a point's winding count. A
/// horizontal edge (y0 == y1) never does: Sunday's test counts an edge only
/// when `y0 <= y < y1` or `y1 <= y < y0`, both empty then (for infinite y0
/// too), so leaving it out gives the same answer for every point.
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
        .filter(|e| e.y0 != e.y1)
        .collect()
}

/// The dimensions a node's predicate reads.
fn node_dims(p: &Predicate) -> &[usize] {
    match p {
        Predicate::Rect { dims, .. } | Predicate::Ellipsoid { dims, .. } => dims,
        Predicate::Polygon { dims, .. } => dims,
        Predicate::Boolean { .. } => &[],
    }
}

/// The deepest population containing both `a` and `b`.
fn common(parents: &[Basis], mut a: Basis, mut b: Basis) -> Basis {
    let depth = |mut x: Basis| {
        let mut d = 0;
        while let Some(i) = x {
            x = parents[i];
            d += 1;
        }
        d
    };
    let (mut da, mut db) = (depth(a), depth(b));
    while da > db {
        a = a.and_then(|i| parents[i]);
        da -= 1;
    }
    while db > da {
        b = b.and_then(|i| parents[i]);
        db -= 1;
    }
    while a != b {
        a = a.and_then(|i| parents[i]);
        b = b.and_then(|i| parents[i]);
    }
    a
}

/// The column index of `col` in `columns`, added if missing.
fn slot(columns: &mut Vec<usize>, col: usize) -> usize {
    match columns.iter().position(|&c| c == col) {
        Some(s) => s,
        None => {
            columns.push(col);
            columns.len() - 1
        }
    }
}

/// How a dimension reads `col`: compensated when `comp` has it as a detector.
fn operand(columns: &mut Vec<usize>, col: usize, comp: Option<&CompSpec>) -> Operand {
    let Some(c) = comp else {
        return Operand::Column(slot(columns, col));
    };
    let n = c.detectors.len();
    match c.detectors.iter().position(|&d| d == col) {
        Some(k) => Operand::Compensated(
            c.detectors
                .iter()
                .enumerate()
                .map(|(j, &d)| (slot(columns, d), c.inverse[j * n + k]))
                .collect(),
        ),
        None => Operand::Column(slot(columns, col)),
    }
}

/// Compile a validated `plan`; `scales` is empty or one per column.
pub(super) fn compile(plan: &Plan, scales: &[Scale]) -> Result<Program> {
    let parents: Vec<Basis> = plan.nodes.iter().map(|n| n.parent).collect();
    // The basis of each used dimension, and which gates read it away from it.
    let mut basis: Vec<Option<Basis>> = vec![None; plan.dims.len()];
    for node in &plan.nodes {
        for &d in node_dims(&node.predicate) {
            basis[d] = Some(match basis[d] {
                None => node.parent,
                Some(b) => common(&parents, b, node.parent),
            });
        }
    }
    let mut scatter = vec![false; plan.dims.len()];
    for node in &plan.nodes {
        for &d in node_dims(&node.predicate) {
            scatter[d] |= basis[d] != Some(node.parent);
        }
    }
    let mut loads: Vec<Load> = Vec::new();
    let mut dims = Vec::with_capacity(plan.dims.len());
    for (d, spec) in plan.dims.iter().enumerate() {
        let Some(b) = basis[d] else {
            dims.push(None);
            continue;
        };
        let li = match loads.iter().position(|l| l.basis == b) {
            Some(i) => i,
            None => {
                loads.push(Load {
                    basis: b,
                    columns: Vec::new(),
                    scales: Vec::new(),
                    scaled: false,
                    dims: Vec::new(),
                });
                loads.len() - 1
            }
        };
        let load = &mut loads[li];
        load.dims.push(d);
        let comp = spec.comp.and_then(|c| plan.comps.get(c));
        let (num, ratio) = match spec.source {
            Source::Channel(c) => (operand(&mut load.columns, c, comp), None),
            Source::Ratio { num, den, a, b, c } => (
                operand(&mut load.columns, num, comp),
                Some((operand(&mut load.columns, den, comp), a, b, c)),
            ),
        };
        dims.push(Some(Dim {
            load: li,
            num,
            ratio,
            transform: spec.transform.as_ref().map(|t| t.build()).transpose()?,
            scatter: scatter[d],
        }));
    }
    for load in &mut loads {
        load.scales = load
            .columns
            .iter()
            .map(|&c| scales.get(c).copied().unwrap_or(Scale::Identity))
            .collect();
        load.scaled = load.scales.iter().any(|&s| s != Scale::Identity);
    }
    let mut operand_of = vec![false; plan.nodes.len()];
    let steps = plan
        .nodes
        .iter()
        .map(|node| {
            let test = match &node.predicate {
                Predicate::Rect { dims, mins, maxs } => Test::Rect {
                    dims: dims.clone(),
                    mins: mins.clone(),
                    maxs: maxs.clone(),
                },
                Predicate::Polygon { dims, vertices } => Test::Polygon {
                    dims: *dims,
                    edges: edges(vertices),
                },
                Predicate::Ellipsoid {
                    dims,
                    mean,
                    inv_cov,
                    d2,
                } => Test::Ellipsoid {
                    dims: dims.clone(),
                    mean: mean.clone(),
                    inv_cov: inv_cov.clone(),
                    d2: *d2,
                },
                Predicate::Boolean { op, operands } => {
                    for &(o, _) in operands {
                        operand_of[o] = true;
                    }
                    Test::Boolean {
                        op: *op,
                        operands: operands.clone(),
                    }
                }
            };
            Step {
                parent: node.parent,
                test,
            }
        })
        .collect();
    Ok(Program {
        steps,
        dims,
        loads,
        operand: operand_of,
    })
}
