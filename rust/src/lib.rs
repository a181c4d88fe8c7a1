//! cd38-core: the Rust core of cd38.
//!
//! Pure Rust; the Python bindings live in [`python`] behind the `python` feature.

pub mod compensation;
pub mod digest;
pub mod error;
pub mod fcs;
pub mod gating;
pub mod stats;
pub mod transforms;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
