//! The per-row kernel of the bracketing pass: a row's keys, [`W`] at a time,
//! against the brackets of the populations its class is in.
//!
//! For each bracket (an entry of [`Lookup`]) a row meets, the kernel adds the
//! lanes under `lo` to the entry's counts and appends the keys inside
//! `[lo, hi]`, each with its lane, to the entry's stream ([`Kept`]). Bounds
//! are exact keys, so what the pass counts and keeps is what selection
//! filters by, key for key.
//!
//! Two builds of it: a portable one on fixed-size arrays, and for `f32` data
//! on a CPU with AVX2 one written with its intrinsics (two 8-lane registers
//! per block of 16 columns: a compare per bound, a subtract into the counts;
//! the keys inside are packed to the front of the registers through a table
//! of permutations and stored whole, with no branch per key: which keys fall
//! inside is random, and branching on it mispredicted about once a row per
//! bracket, more than the rest of the row's work). Both count and keep the
//! same keys in the same order; the tests hold them to each other.

use std::any::TypeId;
use std::ops::Range;

use super::bracket::Bounds;
use super::membership::Membership;
use super::rows::View;
use super::OrderKey;

/// Lanes per block: a row of 16 f32 channels is one block.
pub(crate) const W: usize = 16;

/// Rows ahead of the one being read whose loading is started.
const AHEAD: usize = 32;

/// The brackets a row of each class meets, laid out class by class, block of
/// columns by block, so that a row walks one contiguous run of them.
pub(crate) struct Lookup<L> {
    /// Per class: its entries.
    pub of_class: Vec<Range<usize>>,
    /// Per entry: the bounds over its block of columns. Lanes past the last
    /// column have `lo = hi = MIN`: a key there (0) is neither below nor inside.
    pub bounds: Vec<Bounds<L>>,
    /// Per entry: its block of columns.
    pub block: Vec<usize>,
    /// Per entry: where its block's first column counts (`slot · k + block · W`).
    pub at: Vec<usize>,
    /// Per entry: its stream of kept keys (`slot · blocks + block`).
    pub stream: Vec<usize>,
}

/// The keys one bracket kept over one block of columns, in pass order, and
/// each one's lane (its column within the block).
#[derive(Clone, Debug)]
pub(crate) struct Kept<L> {
    pub keys: Vec<L>,
    pub lanes: Vec<u8>,
}

impl<L> Kept<L> {
    pub(crate) fn new() -> Self {
        Kept {
            keys: Vec::new(),
            lanes: Vec::new(),
        }
    }

    /// Room for about `n` keys, plus the block the vector kernel stores past
    /// the end. Growing later copies what is kept and maps fresh pages for
    /// it: in a pass over 1 M events that was 4 % of the whole pipeline's time.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Kept {
            keys: Vec::with_capacity(n + W),
            lanes: Vec::with_capacity(n + W),
        }
    }

    /// Room for a whole block past the end (the vector kernel stores whole
    /// registers and then counts only the keys inside).
    #[inline(always)]
    fn room(&mut self) {
        if self.keys.capacity() - self.keys.len() < W {
            let more = self.keys.len().max(1024);
            self.keys.reserve(more);
        }
        if self.lanes.capacity() - self.lanes.len() < W {
            let more = self.lanes.len().max(1024);
            self.lanes.reserve(more);
        }
    }
}

/// What one worker's rows left: per lookup entry, the lanes below `lo` in
/// the current span; per stream (slot, block), the keys inside; per (class,
/// column), whether a NaN was seen.
pub(crate) struct Hits<L> {
    pub below: Vec<[u32; W]>,
    pub kept: Vec<Kept<L>>,
    pub nan: Vec<bool>,
}

/// The builds of the kernel a pass may use (the best the CPU has, up to this).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Simd {
    Portable,
    Avx2,
}

/// Runs the rows `rows` (skipping those in no population) of `view` against
/// `lk`, into `hits`, on the best build `simd` allows.
pub(crate) fn bracket_rows<T: OrderKey>(
    view: &mut View<'_, '_, T>,
    rows: Range<usize>,
    mb: &Membership,
    lk: &Lookup<T::Lane>,
    hits: &mut Hits<T::Lane>,
    simd: Simd,
) {
    #[cfg(target_arch = "x86_64")]
    if simd > Simd::Portable && TypeId::of::<T>() == TypeId::of::<f32>() {
        let any_lk: &dyn std::any::Any = lk;
        let any_hits: &mut dyn std::any::Any = hits;
        if let (Some(lk), Some(hits)) = (
            any_lk.downcast_ref::<Lookup<i32>>(),
            any_hits.downcast_mut::<Hits<i32>>(),
        ) {
            if has_avx2() {
                // SAFETY: the CPU running this has the build's features (just checked).
                unsafe { avx2::rows(view, rows, mb, lk, hits) };
                return;
            }
        }
    }
    let _ = simd;
    portable_rows(view, rows, mb, lk, hits);
}

/// The features the AVX2 build is compiled with (each check is a cached load).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    use std::arch::is_x86_feature_detected as has;
    has!("avx2") && has!("popcnt") && has!("bmi1")
}

fn portable_rows<T: OrderKey>(
    view: &mut View<'_, '_, T>,
    rows: Range<usize>,
    mb: &Membership,
    lk: &Lookup<T::Lane>,
    hits: &mut Hits<T::Lane>,
) {
    let k = view.width();
    let mut keys = vec![[T::Lane::default(); W]; k.div_ceil(W)];
    for (e, &c) in rows.clone().zip(&mb.class[rows]) {
        if Some(c) == mb.empty {
            continue;
        }
        view.prefetch(e + AHEAD);
        let c = c as usize;
        let v = view.row(e);
        let mut any_nan = false;
        for (blk, chunk) in keys.iter_mut().zip(v.chunks(W)) {
            for (o, &x) in blk.iter_mut().zip(chunk) {
                *o = x.lane();
                any_nan |= x.is_nan_value();
            }
        }
        if any_nan {
            for (f, x) in hits.nan[c * k..(c + 1) * k].iter_mut().zip(v) {
                *f |= x.is_nan_value();
            }
        }
        for ent in lk.of_class[c].clone() {
            let blk = &keys[lk.block[ent]];
            let m = compare(blk, &lk.bounds[ent], &mut hits.below[ent]);
            keep(m, blk, &mut hits.kept[lk.stream[ent]]);
        }
    }
}

/// Adds to `below` the lanes of `keys` under `lo`; returns the bit set of the
/// lanes inside `[lo, hi]`.
#[inline(always)]
fn compare<L: Copy + Ord>(keys: &[L; W], b: &Bounds<L>, below: &mut [u32; W]) -> u32 {
    let mut inside = 0u32;
    for j in 0..W {
        let lt = keys[j] < b.lo[j];
        let gt = keys[j] > b.hi[j];
        below[j] += lt as u32;
        inside |= ((!lt & !gt) as u32) << j;
    }
    inside
}

/// Appends the keys of the lanes in `m`, and their lanes, to `kept`.
#[inline(always)]
fn keep<L: Copy>(mut m: u32, keys: &[L; W], kept: &mut Kept<L>) {
    while m != 0 {
        let j = m.trailing_zeros() as usize;
        m &= m - 1;
        kept.keys.push(keys[j]);
        kept.lanes.push(j as u8);
    }
}

/// Per 8-lane mask: the same lane numbers, as bytes of a u64.
static LANES: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut m = 0;
    while m < 256 {
        let (mut n, mut j) = (0, 0);
        while j < 8 {
            if m >> j & 1 == 1 {
                t[m] |= (j as u64) << (8 * n);
                n += 1;
            }
            j += 1;
        }
        m += 1;
    }
    t
};

/// Writes the lane numbers of the lanes set in `m` (16 bits), in order, at
/// `lp`, through [`LANES`]; returns how many.
///
/// # Safety
/// `lp` has room for 16 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn write_lanes(lp: *mut u8, m: usize) -> usize {
    let (m0, m1) = (m & 0xFF, (m >> 8) & 0xFF);
    let n0 = m0.count_ones() as usize;
    // SAFETY: two 8-byte stores, the second at most 8 past `lp`.
    unsafe {
        std::ptr::write_unaligned(lp as *mut u64, LANES[m0]);
        std::ptr::write_unaligned(lp.add(n0) as *mut u64, LANES[m1] + 0x0808_0808_0808_0808);
    }
    n0 + m1.count_ones() as usize
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use super::{write_lanes, Hits, Kept, Lookup, AHEAD, W};
    use crate::stats::membership::Membership;
    use crate::stats::rows::View;
    use crate::stats::OrderKey;

    /// Per 8-lane mask: the lanes set, in order, at the front (the rest 0),
    /// as a permutation for `vpermd`.
    static PACK: [[i32; 8]; 256] = {
        let mut t = [[0i32; 8]; 256];
        let mut m = 0;
        while m < 256 {
            let (mut n, mut j) = (0, 0);
            while j < 8 {
                if m >> j & 1 == 1 {
                    t[m][n] = j;
                    n += 1;
                }
                j += 1;
            }
            m += 1;
        }
        t
    };

    /// Appends the keys of `k0` (lanes 0-7) set in `m0` and of `k1` (lanes
    /// 8-15) set in `m1`, with their lanes, to `kept`, without a branch.
    ///
    /// # Safety
    /// `kept` has room for W more keys and lanes ([`Kept::room`]).
    #[inline(always)]
    unsafe fn append(kept: &mut Kept<i32>, k0: __m256i, k1: __m256i, m0: usize, m1: usize) {
        let len = kept.keys.len();
        let (n0, n1) = (m0.count_ones() as usize, m1.count_ones() as usize);
        // SAFETY: stores end at most 8 + 8 past `len`, inside the room the
        // caller guarantees; only the `n0 + n1` keys written are then counted.
        unsafe {
            let kp = kept.keys.as_mut_ptr().add(len);
            let p0 = _mm256_loadu_si256(PACK[m0].as_ptr() as *const __m256i);
            let p1 = _mm256_loadu_si256(PACK[m1].as_ptr() as *const __m256i);
            _mm256_storeu_si256(kp as *mut __m256i, _mm256_permutevar8x32_epi32(k0, p0));
            _mm256_storeu_si256(
                kp.add(n0) as *mut __m256i,
                _mm256_permutevar8x32_epi32(k1, p1),
            );
            write_lanes(kept.lanes.as_mut_ptr().add(len), m0 | m1 << 8);
            kept.keys.set_len(len + n0 + n1);
            kept.lanes.set_len(len + n0 + n1);
        }
    }

    /// [`append`] of a block of keys in memory (for the tests).
    #[cfg(test)]
    #[target_feature(enable = "avx2,popcnt,bmi1")]
    pub(super) unsafe fn append_block(kept: &mut Kept<i32>, keys: &[i32; W], m: u32) {
        // SAFETY: `keys` is W i32s; the caller made room in `kept`.
        unsafe {
            let k0 = _mm256_loadu_si256(keys.as_ptr() as *const __m256i);
            let k1 = _mm256_loadu_si256(keys.as_ptr().add(8) as *const __m256i);
            append(kept, k0, k1, m as usize & 0xFF, (m >> 8) as usize & 0xFF);
        }
    }

    /// [`super::portable_rows`] for `f32` rows (`T` is `f32`; anything else
    /// runs no row), in AVX2.
    #[target_feature(enable = "avx2,popcnt,bmi1")]
    pub(super) fn rows<T: OrderKey>(
        view: &mut View<'_, '_, T>,
        rows: Range<usize>,
        mb: &Membership,
        lk: &Lookup<i32>,
        hits: &mut Hits<i32>,
    ) {
        let k = view.width();
        let kb = k.div_ceil(W);
        // Lanes of the last block that hold columns; the rest load as 0.
        let tail = k - (kb - 1) * W;
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail as i32), lane);
        let mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail as i32 - 8), lane);
        let mut keys = vec![[0i32; W]; kb];
        let (mut last0, mut last1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        for (e, &c) in rows.clone().zip(&mb.class[rows]) {
            if Some(c) == mb.empty {
                continue;
            }
            view.prefetch(e + AHEAD);
            let c = c as usize;
            let Some(v) = T::as_f32(view.row(e)) else {
                return;
            };
            for (b, out) in keys.iter_mut().enumerate() {
                let p = v[b * W..].as_ptr() as *const i32;
                // SAFETY: a full block has W values from `p` on; the last,
                // partial one loads only its `tail` lanes (masked loads do
                // not touch the others).
                let (x0, x1) = unsafe {
                    if b + 1 < kb || tail == W {
                        (
                            _mm256_loadu_si256(p as *const __m256i),
                            _mm256_loadu_si256(p.add(8) as *const __m256i),
                        )
                    } else {
                        (
                            _mm256_maskload_epi32(p, mask0),
                            _mm256_maskload_epi32(p.add(8), mask1),
                        )
                    }
                };
                // The order key: negative values get every bit but the sign
                // flipped (OrderKey::lane for f32).
                let k0 = _mm256_xor_si256(x0, _mm256_srli_epi32(_mm256_srai_epi32(x0, 31), 1));
                let k1 = _mm256_xor_si256(x1, _mm256_srli_epi32(_mm256_srai_epi32(x1, 31), 1));
                // SAFETY: `out` is W i32s.
                unsafe {
                    _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, k0);
                    _mm256_storeu_si256(out.as_mut_ptr().add(8) as *mut __m256i, k1);
                }
                (last0, last1) = (k0, k1);
                let f0 = _mm256_castsi256_ps(x0);
                let f1 = _mm256_castsi256_ps(x1);
                let nan = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(f0, f0))
                    | _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(f1, f1)) << 8;
                if nan != 0 {
                    let flags = &mut hits.nan[c * k + b * W..(c + 1) * k];
                    let mut m = nan as u32;
                    while m != 0 {
                        let j = m.trailing_zeros() as usize;
                        m &= m - 1;
                        if let Some(f) = flags.get_mut(j) {
                            *f = true;
                        }
                    }
                }
            }
            let r = lk.of_class[c].clone();
            let entries = lk.bounds[r.clone()]
                .iter()
                .zip(&lk.block[r.clone()])
                .zip(&lk.stream[r.clone()])
                .zip(hits.below[r].iter_mut());
            for (((bd, &b), &st), below) in entries {
                let Some(kept) = hits.kept.get_mut(st) else {
                    continue;
                };
                kept.room();
                // The block's keys: still in registers when the row is one block.
                let (k0, k1) = if kb == 1 {
                    (last0, last1)
                } else {
                    let blk = &keys[b];
                    // SAFETY: `blk` is W i32s.
                    unsafe {
                        (
                            _mm256_loadu_si256(blk.as_ptr() as *const __m256i),
                            _mm256_loadu_si256(blk.as_ptr().add(8) as *const __m256i),
                        )
                    }
                };
                // SAFETY: every pointer is to an array of W i32s (or u32s), or
                // (the stores to `kept`) to its spare capacity, W or more.
                unsafe {
                    let lo0 = _mm256_loadu_si256(bd.lo.as_ptr() as *const __m256i);
                    let lo1 = _mm256_loadu_si256(bd.lo.as_ptr().add(8) as *const __m256i);
                    let hi0 = _mm256_loadu_si256(bd.hi.as_ptr() as *const __m256i);
                    let hi1 = _mm256_loadu_si256(bd.hi.as_ptr().add(8) as *const __m256i);
                    let lt0 = _mm256_cmpgt_epi32(lo0, k0);
                    let lt1 = _mm256_cmpgt_epi32(lo1, k1);
                    let gt0 = _mm256_cmpgt_epi32(k0, hi0);
                    let gt1 = _mm256_cmpgt_epi32(k1, hi1);
                    let bp = below.as_mut_ptr() as *mut __m256i;
                    // A compare's true lane is -1: subtracting it counts one.
                    _mm256_storeu_si256(bp, _mm256_sub_epi32(_mm256_loadu_si256(bp), lt0));
                    let bp1 = bp.add(1);
                    _mm256_storeu_si256(bp1, _mm256_sub_epi32(_mm256_loadu_si256(bp1), lt1));
                    let out0 = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_or_si256(lt0, gt0)));
                    let out1 = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_or_si256(lt1, gt1)));
                    append(kept, k0, k1, !out0 as usize & 0xFF, !out1 as usize & 0xFF);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_counts_below_and_marks_inside() {
        let keys: [i32; W] = std::array::from_fn(|j| j as i32 * 10 - 70);
        let mut hi = [30; W];
        hi[15] = i32::MAX;
        let one = Bounds { lo: [-25; W], hi };
        let mut below = [0u32; W];
        let m = compare(&keys, &one, &mut below);
        for j in 0..W {
            let k = keys[j];
            assert_eq!(below[j], (k < -25) as u32);
            let inside = k >= -25 && (k <= hi[j]);
            assert_eq!(m >> j & 1 == 1, inside, "lane {j}");
        }
        // Padding lanes (lo = hi = MIN) hold nothing.
        let pad = Bounds {
            lo: [i32::MIN; W],
            hi: [i32::MIN; W],
        };
        assert_eq!(compare(&[0; W], &pad, &mut below), 0);
    }

    /// The vector append against the scalar one, for every mask of 16 lanes.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_append_keeps_what_the_scalar_one_does() {
        if !has_avx2() {
            return;
        }
        let keys: [i32; W] = std::array::from_fn(|j| (j as i32 + 1) * 1000 - 7);
        let (mut v, mut s) = (Kept::new(), Kept::new());
        for m in 0..1u32 << W {
            v.room();
            // SAFETY: AVX2 is present (checked above); `room` made space.
            unsafe { avx2::append_block(&mut v, &keys, m) };
            keep(m, &keys, &mut s);
        }
        assert_eq!(v.keys, s.keys);
        assert_eq!(v.lanes, s.lanes);
    }
}
