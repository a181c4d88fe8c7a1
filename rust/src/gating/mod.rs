//! The gating engine: a compiled plan of populations evaluated to member lists.

mod block;
pub mod eval;
pub mod geometry;
mod kernels;
pub mod plan;
mod program;
mod transpose;

pub use eval::{evaluate, evaluate_members, Members};
pub use plan::{BoolOp, CompSpec, DimSpec, Node, Plan, Predicate, Source};

#[cfg(test)]
mod tests;
