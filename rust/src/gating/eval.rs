//! Evaluating a [`Plan`] over an event matrix.
//!
//! The whole tree is evaluated in one pass over the rows: rows are split into
//! fixed chunks (run in parallel, results concatenated in chunk order, so any
//! thread count gives the same answer), and each chunk into blocks of
//! consecutive rows that stay in cache while every node is evaluated on them
//! in plan order (see `block`). Each dimension is computed at most once per
//! row, only for the rows of the population that needs it, with the same
//! arithmetic as the definitions, so results are exact.

use rayon::prelude::*;

use super::block::{avx2_available, block, Rows, Scratch, BLOCK};
use super::plan::Plan;
use super::program::compile;
use crate::compensation::apply::Sample;
use crate::error::{Error, Result};
use crate::fcs::Scale;

/// Rows per parallel task: fixed, so the split never depends on the thread count.
const CHUNK: usize = 16 * BLOCK;

/// Evaluate `plan` on row-major `values` (n × p). Returns each node's members
/// (sorted event indices).
///
/// `scales` is empty (every column is used as stored) or one FCS scale per
/// column: a column whose scale is not Identity is read as
/// `value.rescaled(scale)`, before any compensation, ratio, transform or test,
/// so the file's own stored values can be gated without decoding a copy.
pub fn evaluate<T: Sample>(
    plan: &Plan,
    values: &[T],
    p: usize,
    scales: &[Scale],
) -> Result<Vec<Vec<u32>>> {
    if p == 0 || values.len() % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{} values do not divide into rows of {p}",
            values.len()
        )));
    }
    if !scales.is_empty() && scales.len() != p {
        return Err(Error::InvalidArgument(format!(
            "{} scales for {p} columns",
            scales.len()
        )));
    }
    let n = values.len() / p;
    if n > u32::MAX as usize {
        return Err(Error::InvalidArgument(format!(
            "{n} events is more than one gating pass handles (2^32 - 1)"
        )));
    }
    evaluate_with(plan, values, p, scales, avx2_available())
}

/// [`evaluate`], with the AVX2 build of the block kernels allowed or not
/// (tests run both).
pub(super) fn evaluate_with<T: Sample>(
    plan: &Plan,
    values: &[T],
    p: usize,
    scales: &[Scale],
    avx2: bool,
) -> Result<Vec<Vec<u32>>> {
    let n = values.len() / p.max(1);
    plan.validate(p)?;
    let prog = compile(plan, scales)?;
    let nodes = plan.nodes.len();
    let chunks: Vec<Vec<Vec<u32>>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map_init(
            || Scratch::<T>::new(&prog),
            |scratch, ci| {
                let end = ((ci + 1) * CHUNK).min(n);
                let mut out = vec![Vec::new(); nodes];
                for first in (ci * CHUNK..end).step_by(BLOCK) {
                    let rows = Rows {
                        values,
                        p,
                        first,
                        n: BLOCK.min(end - first),
                    };
                    block(&prog, scratch, &rows, &mut out, avx2);
                }
                out
            },
        )
        .collect();
    Ok((0..nodes)
        .into_par_iter()
        .map(|g| {
            let mut all = Vec::with_capacity(chunks.iter().map(|c| c[g].len()).sum());
            for c in &chunks {
                all.extend_from_slice(&c[g]);
            }
            all
        })
        .collect())
}
