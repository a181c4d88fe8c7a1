//! Bindings for compensation.

use numpy::{IntoPyArray, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use super::errors::{guarded, to_pyerr};
use crate::compensation::{self as comp, invert};
use crate::error::Error;

/// Invert an n x n row-major matrix (singular matrices raise CompensationError).
#[pyfunction]
fn invert_matrix(matrix: Vec<f64>, n: usize) -> PyResult<Vec<f64>> {
    guarded(|| invert(&matrix, n)).map_err(to_pyerr)
}

/// A compensated copy of a 2-D float32/float64 event array: the columns
/// `detectors` become `events[:, detectors] @ inverse`, the rest pass through.
#[pyfunction]
fn compensate(
    py: Python<'_>,
    events: &Bound<'_, PyAny>,
    detectors: Vec<usize>,
    inverse: Vec<f64>,
) -> PyResult<Py<PyAny>> {
    macro_rules! run {
        ($arr:expr, $t:ty) => {{
            let a: PyReadonlyArray2<'_, $t> = $arr;
            let (n, p) = (a.shape()[0], a.shape()[1]);
            let owned;
            let src: &[$t] = match a.as_slice() {
                Ok(s) => s,
                Err(_) => {
                    owned = a.as_array().iter().copied().collect::<Vec<$t>>();
                    &owned
                }
            };
            let v = py
                .detach(|| {
                    let _busy = crate::digest::busy();
                    guarded(|| comp::compensate(src, p, &detectors, &inverse))
                })
                .map_err(to_pyerr)?;
            Ok(v.into_pyarray(py).reshape([n, p])?.into_any().unbind())
        }};
    }
    if let Ok(a) = events.extract::<PyReadonlyArray2<'_, f32>>() {
        run!(a, f32)
    } else if let Ok(a) = events.extract::<PyReadonlyArray2<'_, f64>>() {
        run!(a, f64)
    } else {
        Err(to_pyerr(Error::InvalidArgument(
            "events must be a 2-D float32 or float64 array".into(),
        )))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(invert_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(compensate, m)?)?;
    Ok(())
}
