//! Bindings for the gating engine. Python compiles a strategy into flat tuples;
//! this module turns them into a [`Plan`] and evaluates it with the GIL released.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;

use super::errors::to_pyerr;
use super::fcs::{scales_from, ScaleTuple};
use super::transforms::spec;
use crate::error::{Error, Result};
use crate::gating::{
    evaluate_members, BoolOp, CompSpec, DimSpec, Members, Node, Plan, Predicate, Source,
};

/// (num column, den column, a, b, c, is_ratio, compensation, transform (kind, params))
type DimTuple = (
    usize,
    usize,
    f64,
    f64,
    f64,
    bool,
    Option<usize>,
    Option<(String, Vec<f64>)>,
);
/// (kind, parent, dims, floats a, floats b, boolean operands)
type NodeTuple = (
    String,
    Option<usize>,
    Vec<usize>,
    Vec<f64>,
    Vec<f64>,
    Vec<(usize, bool)>,
);

fn dim(t: DimTuple) -> Result<DimSpec> {
    let (num, den, a, b, c, is_ratio, comp, transform) = t;
    Ok(DimSpec {
        source: if is_ratio {
            Source::Ratio { num, den, a, b, c }
        } else {
            Source::Channel(num)
        },
        comp,
        transform: transform.map(|(k, p)| spec(&k, &p)).transpose()?,
    })
}

fn node(t: NodeTuple) -> Result<Node> {
    let (kind, parent, dims, fa, fb, operands) = t;
    let predicate = match kind.as_str() {
        "rect" => Predicate::Rect {
            dims,
            mins: fa,
            maxs: fb,
        },
        "polygon" => {
            if dims.len() != 2 || fa.len() % 2 != 0 {
                return Err(Error::InvalidArgument(
                    "polygon needs 2 dims and x,y pairs".into(),
                ));
            }
            Predicate::Polygon {
                dims: [dims[0], dims[1]],
                vertices: fa.chunks_exact(2).map(|v| [v[0], v[1]]).collect(),
            }
        }
        "ellipsoid" => {
            let (inv, d2) = fb.split_at(fb.len().saturating_sub(1));
            Predicate::Ellipsoid {
                dims,
                mean: fa,
                inv_cov: inv.to_vec(),
                d2: d2.first().copied().unwrap_or(f64::NAN),
            }
        }
        "and" | "or" | "not" => Predicate::Boolean {
            op: match kind.as_str() {
                "and" => BoolOp::And,
                "or" => BoolOp::Or,
                _ => BoolOp::Not,
            },
            operands,
        },
        other => {
            return Err(Error::InvalidArgument(format!(
                "unknown node kind {other:?}"
            )))
        }
    };
    Ok(Node { predicate, parent })
}

/// Every node's members, as the engine marked them (bits); indices on request.
#[pyclass(name = "Members", module = "cd38._core", frozen)]
pub struct PyMembers {
    pub inner: Members,
}

#[pymethods]
impl PyMembers {
    #[getter]
    fn nodes(&self) -> usize {
        self.inner.nodes()
    }

    #[getter]
    fn n_events(&self) -> usize {
        self.inner.n_events()
    }

    /// Members of node `node`.
    fn count(&self, node: usize) -> PyResult<usize> {
        self.check(node)?;
        Ok(self.inner.count(node))
    }

    /// Sorted member indices of node `node` (uint32), unpacked with the GIL released.
    fn indices<'py>(&self, py: Python<'py>, node: usize) -> PyResult<Bound<'py, PyArray1<u32>>> {
        self.check(node)?;
        let inner = &self.inner;
        Ok(py.detach(|| inner.indices(node)).into_pyarray(py))
    }
}

impl PyMembers {
    fn check(&self, node: usize) -> PyResult<()> {
        if node < self.inner.nodes() {
            Ok(())
        } else {
            Err(to_pyerr(Error::InvalidArgument(format!(
                "node {node} is outside 0..{}",
                self.inner.nodes()
            ))))
        }
    }
}

/// Evaluate a compiled plan; returns every node's members (`Members`).
/// `scales` (one per column, from `Dataset.scales`; empty = as stored) lets the
/// events be the file's stored values.
#[pyfunction]
#[pyo3(signature = (events, comps, dims, nodes, scales=Vec::new()))]
fn gate_events(
    py: Python<'_>,
    events: &Bound<'_, PyAny>,
    comps: Vec<(Vec<usize>, Vec<f64>)>,
    dims: Vec<DimTuple>,
    nodes: Vec<NodeTuple>,
    scales: Vec<ScaleTuple>,
) -> PyResult<PyMembers> {
    let scales = scales_from(scales).map_err(to_pyerr)?;
    let plan = (|| -> Result<Plan> {
        Ok(Plan {
            comps: comps
                .into_iter()
                .map(|(detectors, inverse)| CompSpec { detectors, inverse })
                .collect(),
            dims: dims.into_iter().map(dim).collect::<Result<_>>()?,
            nodes: nodes.into_iter().map(node).collect::<Result<_>>()?,
        })
    })()
    .map_err(to_pyerr)?;
    let inner = with_matrix!(py, events, |s, p| evaluate_members(&plan, s, p, &scales))?;
    Ok(PyMembers { inner })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gate_events, m)?)?;
    m.add_class::<PyMembers>()?;
    Ok(())
}
