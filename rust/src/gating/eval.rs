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
pub fn evaluate<T: Sample>(
    plan: &Plan,
    values: &[T],
    p: usize,
    scales: &[Scale],
) -> Result<Vec<Vec<u32>>> {
    evaluate_members(plan, values, p, scales).map(|m| m.all_indices())
}

/// [`evaluate`], the members left as bits (see [`Members`]).
///
/// `scales` is empty (every column is used as stored) or one FCS scale per
/// column: a column whose scale is not Identity is read as
/// `value.rescaled(scale)`, before any compensation, ratio, transform or test,
/// so the file's own stored values can be gated without decoding a copy.
pub fn evaluate_members<T: Sample>(
    plan: &Plan,
    values: &[T],
    p: usize,
    scales: &[Scale],
) -> Result<Members> {
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

/// Every node's members as bits, chunk by chunk, as the evaluation marked
/// them: n / 8 bytes per node, where index lists take 4 bytes per member
/// (writing those, into fresh pages, cost about as much as the marking at
/// 10^6 events). Indices are unpacked when asked for; statistics classify
/// events straight from the bits.
#[derive(Clone, Debug)]
pub struct Members {
    n: usize,
    nodes: usize,
    /// Per chunk, per node, [`WORDS`] words of bits.
    words: Vec<u64>,
    /// Per chunk, per node, its members in the chunk.
    counts: Vec<u32>,
}

impl Members {
    /// Events evaluated.
    pub fn n_events(&self) -> usize {
        self.n
    }

    /// Nodes of the plan.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Members of node `g`.
    pub fn count(&self, g: usize) -> usize {
        self.counts
            .iter()
            .skip(g)
            .step_by(self.nodes.max(1))
            .map(|&c| c as usize)
            .sum()
    }

    /// The 64 events from `64 · w` on: bit b set when event `64 · w + b` is
    /// a member of node `g`.
    #[inline(always)]
    pub fn word(&self, g: usize, w: usize) -> u64 {
        let (chunk, at) = (w / WORDS, w % WORDS);
        self.words[(chunk * self.nodes + g) * WORDS + at]
    }

    /// Node `g`'s members, sorted.
    pub fn indices(&self, g: usize) -> Vec<u32> {
        let nchunks = self.n.div_ceil(CHUNK);
        let mut out = vec![0u32; self.count(g)];
        let mut parts: Vec<&mut [u32]> = Vec::with_capacity(nchunks);
        let mut rest = &mut out[..];
        for ci in 0..nchunks {
            let (mine, tail) = rest.split_at_mut(self.counts[ci * self.nodes + g] as usize);
            parts.push(mine);
            rest = tail;
        }
        parts.into_par_iter().enumerate().for_each(|(ci, dst)| {
            let at = (ci * self.nodes + g) * WORDS;
            unpack(&self.words[at..at + WORDS], (ci * CHUNK) as u32, dst);
        });
        out
    }

    /// Members from sorted lists (for tests of their readers).
    #[cfg(test)]
    pub(crate) fn from_lists(n: usize, lists: &[Vec<u32>]) -> Members {
        let (nodes, nchunks) = (lists.len(), n.div_ceil(CHUNK));
        let mut m = Members {
            n,
            nodes,
            words: vec![0; nchunks * nodes * WORDS],
            counts: vec![0; nchunks * nodes],
        };
        for (g, list) in lists.iter().enumerate() {
            for &e in list {
                let (ci, w) = (e as usize / CHUNK, e as usize % CHUNK / 64);
                m.words[(ci * nodes + g) * WORDS + w] |= 1 << (e % 64);
                m.counts[ci * nodes + g] += 1;
            }
        }
        m
    }

    /// Every node's members, sorted.
    pub fn all_indices(&self) -> Vec<Vec<u32>> {
        (0..self.nodes).map(|g| self.indices(g)).collect()
    }
}

/// [`evaluate`], with the AVX2 build of the block kernels allowed or not
/// (tests run both).
pub(super) fn evaluate_with<T: Sample>(
    plan: &Plan,
    values: &[T],
    p: usize,
    scales: &[Scale],
    avx2: bool,
) -> Result<Members> {
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
    Ok(Members {
        n,
        nodes,
        words,
        counts,
    })
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
