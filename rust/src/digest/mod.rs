//! BLAKE3 of a file or of bytes: the identity of an input file in every
//! provenance record and cohort manifest.
//!
//! BLAKE3 rather than SHA-256 because the file is hashed on the way to every
//! statistics table: SHA-256 is one sequential chain (about 1 GB/s here, as long
//! as gating and statistics together at 10^6 events), while BLAKE3's tree runs
//! on every core with SIMD and gives the same digest on any thread count.

use std::path::Path;

use crate::error::{Error, Result};

mod idle;
mod tree;

pub use idle::{busy, Busy, IdleDigest};

/// Below this, splitting the tree over threads costs more than it saves.
const PARALLEL_MIN: usize = 1 << 20;
/// Bytes of a mapped file hashed between paging calls.
const WINDOW: usize = 64 << 20;

/// Hex BLAKE3 of `bytes`.
pub fn blake3_hex(bytes: &[u8]) -> String {
    let mut h = blake3::Hasher::new();
    if bytes.len() >= PARALLEL_MIN {
        h.update_rayon(bytes);
    } else {
        h.update(bytes);
    }
    h.finalize().to_hex().to_string()
}

/// Hex BLAKE3 of the file at `path` (memory-mapped, hashed in parallel).
pub fn file_blake3(path: &Path) -> Result<String> {
    file_blake3_windowed(path, WINDOW)
}

fn file_blake3_windowed(path: &Path, window: usize) -> Result<String> {
    let (file, len, name) = crate::fcs::open_file(path)?;
    if len == 0 {
        return Ok(blake3_hex(&[]));
    }
    // SAFETY: the map is read-only and dropped before returning; a file
    // truncated by another process while mapped is outside what any reader
    // can defend against (the same contract as the FCS reader's map).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&name, e))?;
    // Window by window, paged in ahead and dropped behind, so hashing a file
    // never holds all of it resident (a mapped page counts towards the
    // process's memory as long as it is mapped).
    let mut h = blake3::Hasher::new();
    for start in (0..map.len()).step_by(window.max(1)) {
        let len = window.max(1).min(map.len() - start);
        // Advice only: failure (an old kernel) just means ordinary page faults.
        let _ = map.advise_range(memmap2::Advice::PopulateRead, start, len);
        let window = &map[start..start + len];
        if len >= PARALLEL_MIN {
            h.update_rayon(window);
        } else {
            h.update(window);
        }
        // SAFETY: a read-only shared file mapping: dropping its pages loses
        // nothing (they re-read from the file if touched), and no slice of
        // this window is used after this call.
        let _ =
            unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len) };
    }
    Ok(h.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_and_thread_independence() {
        // BLAKE3 of the empty input (from the specification's test vectors).
        assert_eq!(
            blake3_hex(b""),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        let data: Vec<u8> = (0..3_000_017u32)
            .map(|i| i.wrapping_mul(2_654_435_761) as u8)
            .collect();
        let serial = {
            let mut h = blake3::Hasher::new();
            h.update(&data);
            h.finalize().to_hex().to_string()
        };
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(pool.install(|| blake3_hex(&data)), serial);
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.bin");
        std::fs::write(&f, &data).unwrap();
        assert_eq!(file_blake3(&f).unwrap(), serial);
        // Windows that split the tree's chunks and the parallel threshold.
        for window in [1 << 20, 1_500_001, 1 << 21] {
            assert_eq!(file_blake3_windowed(&f, window).unwrap(), serial);
        }
        let e = dir.path().join("empty.bin");
        std::fs::write(&e, b"").unwrap();
        assert_eq!(file_blake3(&e).unwrap(), blake3_hex(b""));
        assert!(file_blake3(&dir.path().join("missing")).is_err());
        assert!(file_blake3(dir.path()).is_err());
    }
}
