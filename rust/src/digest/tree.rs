//! BLAKE3 of a byte range as a tree of fixed subtrees that any number of
//! hashers take from a shared counter, in any order, then merged: the same
//! digest as hashing the bytes in one go (BLAKE3's tree is fixed by the
//! input's length alone), whoever hashed which subtree.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use blake3::hazmat::{
    merge_subtrees_non_root, merge_subtrees_root, ChainingValue, HasherExt, Mode,
};
use blake3::CHUNK_LEN;

/// Bytes per subtree: a power of two number of chunks (so every subtree but
/// the last is a whole subtree of the BLAKE3 tree), small enough to share out
/// finely (about 50 µs of hashing), large enough for the SIMD hashers (16
/// chunks at a time).
pub(crate) const SUBTREE: usize = 1 << 18;

/// Bytes to hash, cut into subtrees; their chaining values as they are done.
pub(crate) struct Subtrees<'a> {
    bytes: &'a [u8],
    next: AtomicUsize,
    stop: AtomicBool,
    cvs: Vec<OnceLock<ChainingValue>>,
}

impl<'a> Subtrees<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Subtrees {
            bytes,
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            cvs: (0..bytes.len().div_ceil(SUBTREE))
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// Hashes subtrees until none is left (or [`Subtrees::stop`] is called).
    pub(crate) fn work(&self) {
        while self.step() {}
    }

    /// Hashes the next subtree; false when none is left (or stopped).
    pub(crate) fn step(&self) -> bool {
        if self.stopped() {
            return false;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = self.cvs.get(i) else {
            return false;
        };
        let start = i * SUBTREE;
        let part = &self.bytes[start..(start + SUBTREE).min(self.bytes.len())];
        let cv = blake3::Hasher::new()
            .set_input_offset(start as u64)
            .update(part)
            .finalize_non_root();
        let _ = slot.set(cv);
        true
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The bytes hashed.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Makes [`Subtrees::work`] return after the subtree it is hashing.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The digest, once every subtree is done (`None` if one is not: the
    /// hashers were stopped, or have not all returned).
    pub(crate) fn root(&self) -> Option<blake3::Hash> {
        if self.cvs.len() <= 1 {
            // A single subtree is the whole tree: its root is no chaining value.
            return Some(blake3::hash(self.bytes));
        }
        let cvs: Option<Vec<ChainingValue>> = self.cvs.iter().map(|c| c.get().copied()).collect();
        let cvs = cvs?;
        let (left, right) = self.halves(&cvs, 0, self.bytes.len());
        Some(merge_subtrees_root(&left, &right, Mode::Hash))
    }

    /// The chaining values of the two halves of the tree over bytes
    /// `start..end` (more than one subtree): BLAKE3's left half holds the
    /// largest power of two number of chunks that leaves the right one
    /// non-empty.
    fn halves(
        &self,
        cvs: &[ChainingValue],
        start: usize,
        end: usize,
    ) -> (ChainingValue, ChainingValue) {
        let chunks = ((end - start - 1) / CHUNK_LEN) as u64;
        let left = CHUNK_LEN << (63 - chunks.leading_zeros());
        (
            self.node(cvs, start, start + left),
            self.node(cvs, start + left, end),
        )
    }

    /// The chaining value of the (non-root) subtree over bytes `start..end`,
    /// which begins on a subtree boundary and is a whole number of subtrees
    /// or ends at the input's end.
    fn node(&self, cvs: &[ChainingValue], start: usize, end: usize) -> ChainingValue {
        if end - start <= SUBTREE {
            return cvs[start / SUBTREE];
        }
        let (left, right) = self.halves(cvs, start, end);
        merge_subtrees_non_root(&left, &right, Mode::Hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_split_of_the_work_gives_the_plain_digest() {
        let data: Vec<u8> = (0..(5 * SUBTREE + 3 * CHUNK_LEN + 17) as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let s = SUBTREE;
        for len in [
            0,
            1,
            CHUNK_LEN,
            s - 1,
            s,
            s + 1,
            s + CHUNK_LEN,
            2 * s,
            2 * s + 1,
            3 * s,
            4 * s,
            4 * s + 5,
            data.len(),
        ] {
            let bytes = &data[..len];
            let want = blake3::hash(bytes);
            // One hasher; three at once.
            let one = Subtrees::new(bytes);
            one.work();
            assert_eq!(one.root(), Some(want), "len {len}");
            let three = Subtrees::new(bytes);
            std::thread::scope(|sc| {
                for _ in 0..3 {
                    sc.spawn(|| three.work());
                }
            });
            assert_eq!(three.root(), Some(want), "len {len}");
        }
        // Stopped before the end: no digest.
        let stopped = Subtrees::new(&data);
        stopped.stop();
        stopped.work();
        assert_eq!(stopped.root(), None);
    }
}
