//! Spillover matrices: parsing from FCS keywords (and, later, inversion and application).

pub mod spillover;

pub use spillover::Spillover;
