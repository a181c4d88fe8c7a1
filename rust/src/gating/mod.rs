//! The gating engine: a compiled plan of populations evaluated to member lists.

pub mod eval;
pub mod geometry;
pub mod plan;

pub use eval::evaluate;
pub use plan::{BoolOp, CompSpec, DimSpec, Node, Plan, Predicate, Source};
