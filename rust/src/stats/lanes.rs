//! The per-row kernel of the bracketing pass: a row's keys, 16 at a time,
//! against one bracket's bounds.
//!
//! Written on fixed-size arrays with no branch, so that it compiles to SIMD
//! at the x86-64 baseline (SSE2: two `pcmpgtw` per bound, `psubw` into the
//! counts) rather than to 16 compares and jumps per row and population.

use super::bracket::Bounds;
use super::OrderKey;

/// Lanes per block: a row of 16 f32 channels is one block.
pub(crate) const W: usize = 16;

/// Lane j's bit.
const BITS: [u16; W] = {
    let mut b = [0u16; W];
    let mut j = 0;
    while j < W {
        b[j] = 1 << j;
        j += 1;
    }
    b
};

/// One row's block of keys (top 16 bits) against the brackets it meets:
/// adds to each bracket's `below` the lanes under its `lo`; returns the bit
/// set of the lanes inside at least one bracket.
///
/// Not inlined: on its own it compiles to clean SSE2 (two `pcmpgtw` per
/// bound, `psubw` into the counts, and a `pand`/`por` tree for the bit set),
/// while inlined into the row loop the vectoriser shuffles lanes about.
#[inline(never)]
pub(crate) fn compare_all(top: &[i16; W], bounds: &[Bounds<i16>], below: &mut [[u16; W]]) -> u32 {
    let mut out = [-1i16; W];
    for (bd, bl) in bounds.iter().zip(below.iter_mut()) {
        compare(top, &bd.lo, &bd.hi, bl, &mut out);
    }
    inside(&out)
}

/// Adds to `below` the lanes of `keys` under `lo`, and clears in `out` the
/// lanes inside `[lo, hi]` (`out` is all ones, -1, for a lane outside every
/// bracket met so far).
#[inline(always)]
fn compare(
    keys: &[i16; W],
    lo: &[i16; W],
    hi: &[i16; W],
    below: &mut [u16; W],
    out: &mut [i16; W],
) {
    for j in 0..W {
        let lt = -((keys[j] < lo[j]) as i16);
        let gt = -((keys[j] > hi[j]) as i16);
        below[j] = below[j].wrapping_sub(lt as u16);
        out[j] &= lt | gt;
    }
}

/// The bit set of the lanes `out` (from [`compare`]) marks inside a bracket:
/// each lane keeps its own bit, then halves are folded together (written as
/// a tree of 8-, 4- and 2-lane steps, which vectorises as such).
#[inline(always)]
fn inside(out: &[i16; W]) -> u32 {
    let mut c = [0u16; 8];
    for i in 0..8 {
        c[i] = (!(out[i] as u16) & BITS[i]) | (!(out[i + 8] as u16) & BITS[i + 8]);
    }
    let mut d = [0u16; 4];
    for i in 0..4 {
        d[i] = c[i] | c[i + 4];
    }
    (d[0] | d[1] | d[2] | d[3]) as u32
}

/// The top 16 bits of a block of keys.
#[inline(never)]
pub(crate) fn tops<T: OrderKey>(keys: &[T::Lane; W], out: &mut [i16; W]) {
    for (o, &k) in out.iter_mut().zip(keys) {
        *o = T::top16(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_counts_below_and_marks_inside() {
        let keys: [i16; W] = std::array::from_fn(|j| j as i16 * 10 - 70);
        let mut hi = [30; W];
        hi[15] = i16::MAX;
        let one = Bounds { lo: [-25; W], hi };
        let mut below = [[0u16; W]; 2];
        let m = compare_all(&keys, &[one], &mut below[..1]);
        for j in 0..W {
            let k = keys[j];
            assert_eq!(below[0][j], (k < -25) as u16);
            let inside = k >= -25 && (k <= hi[j]);
            assert_eq!(m >> j & 1 == 1, inside, "lane {j}");
        }
        // A second bracket adds its lanes.
        let two = Bounds {
            lo: [-70; W],
            hi: [-70; W],
        };
        let m2 = compare_all(&keys, &[one, two], &mut below);
        assert_eq!(m2, m | 1);
        assert_eq!(below[0][0], 2);
        assert_eq!(below[1], [0; W]);
        assert_eq!(compare_all(&keys, &[], &mut []), 0);
    }

    #[test]
    fn tops_keep_the_order() {
        let keys: [i32; W] = std::array::from_fn(|j| (j as i32 - 8) * 0x0123_4567);
        let mut t = [0i16; W];
        tops::<f32>(&keys, &mut t);
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(t[0], (keys[0] >> 16) as i16);
    }
}
