//! The one place where core errors become Python exceptions. The classes live
//! in Python (`cd38.errors`); this module only looks them up by name.

use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError, PyRuntimeError,
};
use pyo3::prelude::*;

use crate::error::Error;

fn cd38_error(py: Python<'_>, class: &str, message: String) -> PyErr {
    let cls = py.import("cd38.errors").and_then(|m| m.getattr(class));
    match cls {
        Ok(cls) => match cls.call1((message.clone(),)) {
            Ok(inst) => PyErr::from_value(inst),
            Err(e) => e,
        },
        // The Python package is missing (the extension used on its own).
        Err(_) => PyRuntimeError::new_err(message),
    }
}

pub fn to_pyerr(e: Error) -> PyErr {
    let message = e.to_string();
    Python::attach(|py| match &e {
        Error::Fcs { .. } => cd38_error(py, "FCSError", message),
        Error::InvalidArgument(_) => cd38_error(py, "InvalidArgumentError", message),
        Error::Compensation(_) => cd38_error(py, "CompensationError", message),
        Error::Internal(_) => cd38_error(py, "InternalError", message),
        Error::Io { source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
            std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(message),
            _ => PyOSError::new_err(message),
        },
    })
}

/// Run core work so that a panic (a bug) becomes a cd38 exception rather than
/// crossing into Python as a PanicException.
pub fn guarded<T>(f: impl FnOnce() -> crate::Result<T>) -> crate::Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            Err(Error::Internal(what))
        }
    }
}
