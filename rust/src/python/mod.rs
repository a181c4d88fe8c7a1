//! The thin pyo3 layer: convert arguments, release the GIL around core work,
//! map errors. No logic of its own lives here.

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
