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

use super::block::{
    avx2_available, block, Marks, Rows, Scratch, BLOCK, CHUNK, CHUNK_WORDS as WORDS,
};
use super::plan::Plan;
use super::program::compile;
use crate::compensation::apply::Sample;
use crate::error::{Error, Result};
use crate::fcs::Scale;

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
    // First every chunk marks its members in bits (n / 8 bytes per node, not
    // growing lists); then each node's members are written once, into an
    // array of exactly its size, every chunk filling its own part.
    let nchunks = n.div_ceil(CHUNK);
    let mut words = vec![0u64; nchunks * nodes * WORDS];
    let mut counts = vec![0u32; nchunks * nodes];
    words
        .par_chunks_mut(nodes * WORDS)
        .zip(counts.par_chunks_mut(nodes))
        .enumerate()
        .for_each_init(
            || Scratch::<T>::new(&prog),
            |scratch, (ci, (words, counts))| {
                let end = ((ci + 1) * CHUNK).min(n);
                for first in (ci * CHUNK..end).step_by(BLOCK) {
                    let rows = Rows {
                        values,
                        p,
                        first,
                        n: BLOCK.min(end - first),
                    };
                    let at = (first - ci * CHUNK) / 64;
                    let mut out = Marks { words, counts, at };
                    block(&prog, scratch, &rows, &mut out, avx2);
                }
            },
        );
    let mut members: Vec<Vec<u32>> = (0..nodes)
        .map(|g| {
            let total: usize = counts
                .iter()
                .skip(g)
                .step_by(nodes)
                .map(|&c| c as usize)
                .sum();
            vec![0u32; total]
        })
        .collect();
    // Per chunk, its part of every node's members.
    let mut parts: Vec<Vec<&mut [u32]>> = (0..nchunks).map(|_| Vec::with_capacity(nodes)).collect();
    for (g, m) in members.iter_mut().enumerate() {
        let mut rest = &mut m[..];
        for (ci, part) in parts.iter_mut().enumerate() {
            let (mine, tail) = rest.split_at_mut(counts[ci * nodes + g] as usize);
            part.push(mine);
            rest = tail;
        }
    }
    parts
        .into_par_iter()
        .zip(words.par_chunks(nodes * WORDS))
        .enumerate()
        .for_each(|(ci, (part, words))| {
            for (g, dst) in part.into_iter().enumerate() {
                unpack(&words[g * WORDS..][..WORDS], (ci * CHUNK) as u32, dst);
            }
        });
    Ok(members)
}

/// The indices of the set bits of `words`, plus `base`, in order, into `dst`
/// (which holds exactly as many).
fn unpack(words: &[u64], base: u32, dst: &mut [u32]) {
    let mut out = dst.iter_mut();
    for (w, &bits) in words.iter().enumerate() {
        let mut b = bits;
        while b != 0 {
            if let Some(o) = out.next() {
                *o = base + (w * 64) as u32 + b.trailing_zeros();
            }
            b &= b - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_lists_every_set_bit() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let words: Vec<u64> = (0..40)
            .map(|i| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                match i % 5 {
                    0 => 0,
                    1 => u64::MAX,
                    _ => x & (x >> 7),
                }
            })
            .collect();
        let want: Vec<u32> = (0..words.len() * 64)
            .filter(|&i| words[i / 64] >> (i % 64) & 1 == 1)
            .map(|i| i as u32 + 1000)
            .collect();
        let mut got = vec![0u32; want.len()];
        unpack(&words, 1000, &mut got);
        assert_eq!(got, want);
    }
}
