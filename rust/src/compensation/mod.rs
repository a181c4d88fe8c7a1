//! Spillover matrices: parsing from FCS keywords, inversion, application.

pub mod apply;
pub mod spillover;

pub use apply::{compensate, compensate_in_place, invert};
pub use spillover::Spillover;
