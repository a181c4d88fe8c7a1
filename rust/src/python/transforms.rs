//! Bindings for the transform kernels.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::{guarded, to_pyerr};
use crate::error::{Error, Result};
use crate::transforms::{apply_par, inverse_par, TransformSpec};

/// A spec from the Python class's kind and parameter list (in its `params` order).
pub fn spec(kind: &str, p: &[f64]) -> Result<TransformSpec> {
    let want = match kind {
        "flin" | "flog" => 2,
        "fasinh" => 3,
        "logicle" | "hyperlog" | "flowjo_biex" => 4,
        "arcsinh" => 1,
        other => {
            return Err(Error::InvalidArgument(format!(
                "unknown transform kind {other:?}"
            )))
        }
    };
    if p.len() != want {
        return Err(Error::InvalidArgument(format!(
            "{kind} takes {want} parameters, got {}",
            p.len()
        )));
    }
    Ok(match kind {
        "flin" => TransformSpec::Linear { t: p[0], a: p[1] },
        "flog" => TransformSpec::Log { t: p[0], m: p[1] },
        "fasinh" => TransformSpec::Asinh {
            t: p[0],
            m: p[1],
            a: p[2],
        },
        "logicle" => TransformSpec::Logicle {
            t: p[0],
            w: p[1],
            m: p[2],
            a: p[3],
        },
        "hyperlog" => TransformSpec::Hyperlog {
            t: p[0],
            w: p[1],
            m: p[2],
            a: p[3],
        },
        "flowjo_biex" => TransformSpec::FlowJoBiex {
            width_basis: p[0],
            negative_decades: p[1],
            positive_decades: p[2],
            max_value: p[3],
        },
        _ => TransformSpec::Arcsinh { cofactor: p[0] },
    })
}

/// Validate parameters (raises InvalidArgumentError with the reason).
#[pyfunction]
fn transform_check(kind: &str, params: Vec<f64>) -> PyResult<()> {
    guarded(|| spec(kind, &params)?.validate()).map_err(to_pyerr)
}

/// Apply a transform (or its inverse) to a 1-D float64 array, in parallel.
#[pyfunction]
fn transform_apply<'py>(
    py: Python<'py>,
    kind: &str,
    params: Vec<f64>,
    values: PyReadonlyArray1<'py, f64>,
    inverse: bool,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let owned;
    let xs: &[f64] = match values.as_slice() {
        Ok(s) => s,
        Err(_) => {
            owned = values.as_array().to_vec();
            &owned
        }
    };
    let out = py
        .detach(|| {
            let _busy = crate::digest::busy();
            guarded(|| {
                let t = spec(kind, &params)?.build()?;
                let mut out = vec![0f64; xs.len()];
                if inverse {
                    inverse_par(t.as_ref(), xs, &mut out)?;
                } else {
                    apply_par(t.as_ref(), xs, &mut out)?;
                }
                Ok(out)
            })
        })
        .map_err(to_pyerr)?;
    Ok(out.into_pyarray(py))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(transform_check, m)?)?;
    m.add_function(wrap_pyfunction!(transform_apply, m)?)?;
    Ok(())
}
