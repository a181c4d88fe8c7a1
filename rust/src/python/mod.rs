//! The thin pyo3 layer: convert arguments, release the GIL around core work,
//! map errors. No logic of its own lives here.

/// Run `$body` with the GIL released on a C-contiguous 2-D float32 or float64
/// numpy array: `$s` is bound to its row-major values, `$p` to its column
/// count. Errors (and panics) become cd38 exceptions.
macro_rules! with_matrix {
    ($py:expr, $arr:expr, |$s:ident, $p:ident| $body:expr) => {{
        use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
        let not_contiguous = |e: numpy::AsSliceError| {
            $crate::python::errors::to_pyerr($crate::error::Error::InvalidArgument(e.to_string()))
        };
        if let Ok(a) = $arr.extract::<PyReadonlyArray2<'_, f32>>() {
            let $p = a.shape()[1];
            let $s = a.as_slice().map_err(not_contiguous)?;
            $py.detach(|| {
                let _busy = $crate::digest::busy();
                $crate::python::errors::guarded(|| $body)
            })
        } else {
            let a = $arr.extract::<PyReadonlyArray2<'_, f64>>()?;
            let $p = a.shape()[1];
            let $s = a.as_slice().map_err(not_contiguous)?;
            $py.detach(|| {
                let _busy = $crate::digest::busy();
                $crate::python::errors::guarded(|| $body)
            })
        }
        .map_err($crate::python::errors::to_pyerr)
    }};
}

mod compensation;
mod errors;
mod fcs;
mod gating;
mod stats;
mod transforms;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    fcs::register(m)?;
    compensation::register(m)?;
    transforms::register(m)?;
    gating::register(m)?;
    stats::register(m)?;
    Ok(())
}
