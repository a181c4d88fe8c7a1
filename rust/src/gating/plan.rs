//! A compiled gating strategy: distinct dimensions, compensation matrices and
//! population nodes in evaluation order (parents and operands first).

use crate::error::{Error, Result};
use crate::transforms::TransformSpec;

/// Where a dimension's values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A column of the event matrix.
    Channel(usize),
    /// Gating-ML `fratio`: a·(x[num] − b) / (x[den] − c).
    Ratio {
        num: usize,
        den: usize,
        a: f64,
        b: f64,
        c: f64,
    },
}

/// A distinct (channel, compensation, transform): computed at most once per event.
#[derive(Debug, Clone, PartialEq)]
pub struct DimSpec {
    pub source: Source,
    /// Index into [`Plan::comps`]; `None` means uncompensated.
    pub comp: Option<usize>,
    pub transform: Option<TransformSpec>,
}

/// A compensation: the detector columns and the inverse of their spillover matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct CompSpec {
    pub detectors: Vec<usize>,
    /// Row-major n × n inverse spillover.
    pub inverse: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolOp {
    And,
    Or,
    Not,
}

/// What decides membership of one population (before its parent is applied).
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// `min <= v < max` in every dimension (open sides are ±inf). Quadrants compile to this.
    Rect {
        dims: Vec<usize>,
        mins: Vec<f64>,
        maxs: Vec<f64>,
    },
    /// Even–odd rule over the vertices.
    Polygon {
        dims: [usize; 2],
        vertices: Vec<[f64; 2]>,
    },
    /// `(v − mean)ᵀ inv_cov (v − mean) <= d2`.
    Ellipsoid {
        dims: Vec<usize>,
        mean: Vec<f64>,
        inv_cov: Vec<f64>,
        d2: f64,
    },
    /// Over other populations (node indices); `true` = use as complement.
    Boolean {
        op: BoolOp,
        operands: Vec<(usize, bool)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub predicate: Predicate,
    /// The parent population (node index), evaluated earlier.
    pub parent: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub dims: Vec<DimSpec>,
    pub comps: Vec<CompSpec>,
    pub nodes: Vec<Node>,
}

impl Plan {
    /// Check every index against the event matrix width and the evaluation order.
    pub fn validate(&self, n_channels: usize) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidArgument(format!("gating plan: {m}")));
        for (i, c) in self.comps.iter().enumerate() {
            let n = c.detectors.len();
            if c.inverse.len() != n * n || c.detectors.iter().any(|&d| d >= n_channels) {
                return bad(format!("compensation {i} does not fit the data"));
            }
        }
        for (i, d) in self.dims.iter().enumerate() {
            let cols_ok = match d.source {
                Source::Channel(c) => c < n_channels,
                Source::Ratio { num, den, .. } => num < n_channels && den < n_channels,
            };
            if !cols_ok || d.comp.is_some_and(|c| c >= self.comps.len()) {
                return bad(format!("dimension {i} refers outside the data"));
            }
            if let Some(t) = &d.transform {
                t.validate()?;
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if node.parent.is_some_and(|p| p >= i) {
                return bad(format!(
                    "node {i} has a parent that is not evaluated before it"
                ));
            }
            let dims_ok = |ds: &[usize]| !ds.is_empty() && ds.iter().all(|&d| d < self.dims.len());
            let ok = match &node.predicate {
                Predicate::Rect { dims, mins, maxs } => {
                    dims_ok(dims) && mins.len() == dims.len() && maxs.len() == dims.len()
                }
                Predicate::Polygon { dims, vertices } => dims_ok(dims) && vertices.len() >= 3,
                Predicate::Ellipsoid {
                    dims,
                    mean,
                    inv_cov,
                    ..
                } => {
                    dims_ok(dims)
                        && mean.len() == dims.len()
                        && inv_cov.len() == dims.len() * dims.len()
                }
                Predicate::Boolean { op, operands } => {
                    !operands.is_empty()
                        && (*op != BoolOp::Not || operands.len() == 1)
                        && operands.iter().all(|&(o, _)| o < i)
                }
            };
            if !ok {
                return bad(format!("node {i} is malformed"));
            }
        }
        Ok(())
    }
}
