//! The inner loops of block evaluation, over plain slices.
//!
//! Values of one dimension sit in contiguous f64 slices, one entry per
//! selected row, so the arithmetic runs row-parallel (vectorised) and tests
//! produce 0/1 flags instead of branches. The arithmetic and comparisons are
//! exactly those of the definitions (see `geometry`), so results are the same
//! to the last bit.

use super::program::Edge;
use crate::compensation::apply::Sample;
use crate::fcs::Scale;

/// `out[j * stride + k] = row(sel[k])[columns[j]]`, the rows being
/// `first + sel[k]` of the row-major `values` (`p` per row), or all `n` rows
/// from `first` on when `sel` is `None`. With `scales`, each value is first
/// rescaled as its channel's FCS scale says. `avx2` says the CPU has AVX2
/// (float32 rows are then gathered eight at a time, see `transpose`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn gather<T: Sample>(
    values: &[T],
    p: usize,
    first: usize,
    n: usize,
    sel: Option<&[u16]>,
    columns: &[usize],
    scales: Option<&[Scale]>,
    out: &mut [T],
    stride: usize,
    avx2: bool,
) {
    let rows = &values[first * p..(first + n) * p];
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        let m = sel.map_or(n, |s| s.len());
        let done = match (T::as_f32(rows), T::as_f32_mut(out)) {
            // SAFETY: the caller says the CPU has AVX2.
            (Some(rows), Some(out)) => unsafe {
                super::transpose::gather_f32(rows, p, sel, m, columns, out, stride)
            },
            _ => false,
        };
        if done {
            for (j, &s) in scales.unwrap_or_default().iter().enumerate() {
                if s != Scale::Identity {
                    for v in &mut out[j * stride..][..m] {
                        *v = v.rescaled(s);
                    }
                }
            }
            return;
        }
    }
    let _ = avx2;
    for (j, &c) in columns.iter().enumerate() {
        let s = scales.map_or(Scale::Identity, |s| s[j]);
        match sel {
            // Every row: a strided copy, no row numbers to read.
            None => column(
                rows.chunks_exact(p).map(|row| row[c]),
                s,
                &mut out[j * stride..][..n],
            ),
            Some(sel) => {
                let m = sel.len();
                column(
                    sel.iter().map(|&r| rows[r as usize * p + c]),
                    s,
                    &mut out[j * stride..][..m],
                )
            }
        }
    }
}

/// Writes `vals` to `out`, rescaled by `s` unless it is Identity.
#[inline(always)]
fn column<T: Sample>(vals: impl Iterator<Item = T>, s: Scale, out: &mut [T]) {
    if s == Scale::Identity {
        for (o, v) in out.iter_mut().zip(vals) {
            *o = v;
        }
    } else {
        for (o, v) in out.iter_mut().zip(vals) {
            *o = v.rescaled(s);
        }
    }
}

/// `out[k] = col[k]` as f64.
#[inline(always)]
pub(super) fn widen<T: Sample>(col: &[T], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(col) {
        *o = v.to_f64();
    }
}

/// `out[k] = Σ_t cols[terms[t].0][k] · terms[t].1`, summed from 0.0 in term order.
#[inline(always)]
pub(super) fn dot<T: Sample>(cols: &[T], stride: usize, terms: &[(usize, f64)], out: &mut [f64]) {
    // Eight rows at a time, their sums held in registers across all terms.
    const R: usize = 8;
    let m = out.len();
    let mut chunks = out.chunks_exact_mut(R);
    for (ci, o) in (&mut chunks).enumerate() {
        let mut acc = [0.0f64; R];
        for &(j, w) in terms {
            let col = &cols[j * stride + ci * R..][..R];
            for (a, &v) in acc.iter_mut().zip(col) {
                *a += v.to_f64() * w;
            }
        }
        o.copy_from_slice(&acc);
    }
    let done = m - m % R;
    let rest = chunks.into_remainder();
    rest.fill(0.0);
    for &(j, w) in terms {
        let col = &cols[j * stride + done..][..rest.len()];
        for (a, &v) in rest.iter_mut().zip(col) {
            *a += v.to_f64() * w;
        }
    }
}

/// `out[k] = buf[sel[k]]`.
#[inline(always)]
pub(super) fn pick(buf: &[f64], sel: &[u16], out: &mut [f64]) {
    for (o, &r) in out.iter_mut().zip(sel) {
        *o = buf[r as usize];
    }
}

/// `buf[sel[k]] = vals[k]`.
#[inline(always)]
pub(super) fn place(vals: &[f64], sel: &[u16], buf: &mut [f64]) {
    for (&v, &r) in vals.iter().zip(sel) {
        buf[r as usize] = v;
    }
}

/// `flags[k] = 1` where (xs[k], ys[k]) is inside by the even–odd rule, else 0.
///
/// Sunday's crossing test of `geometry::in_polygon`, edge by edge over all
/// points: an edge adds +1 or −1 to the winding count exactly when the same
/// comparisons there say so, and only the count's parity matters, so each
/// such edge toggles the flag.
#[inline(always)]
pub(super) fn polygon(xs: &[f64], ys: &[f64], edges: &[Edge], flags: &mut [u64]) {
    flags.fill(0);
    let m = flags.len();
    let (xs, ys) = (&xs[..m], &ys[..m]);
    for e in edges {
        for ((f, &x), &y) in flags.iter_mut().zip(xs).zip(ys) {
            let is_left = e.dx * (y - e.y0) - (x - e.x0) * e.dy;
            let below = e.y0 <= y;
            let up = below & (e.y1 > y) & (is_left > 0.0);
            let down = !below & (e.y1 <= y) & (is_left < 0.0);
            *f ^= (up | down) as u64;
        }
    }
}

/// `flags[k] &= lo <= v[k] < hi`.
#[inline(always)]
pub(super) fn rect(v: &[f64], lo: f64, hi: f64, flags: &mut [u64]) {
    for (f, &x) in flags.iter_mut().zip(v) {
        *f &= ((lo <= x) & (x < hi)) as u64;
    }
}

/// `dst` = the bit set of the ascending offsets `sel` (bit `r % 64` of word `r / 64`).
#[inline(always)]
pub(super) fn bits_of(sel: &[u16], dst: &mut [u64]) {
    dst.fill(0);
    // Offsets ascend, so each word's bits arrive together: they are OR-ed in
    // a register and the running word is stored after each. A plain store, so
    // no iteration waits for the previous one's store to be read back (an
    // `|=` into memory did, and was 14 % of gating).
    let (mut at, mut word) = (usize::MAX, 0u64);
    for &r in sel {
        let w = r as usize / 64;
        word &= ((w == at) as u64).wrapping_neg();
        word |= 1 << (r % 64);
        at = w;
        if let Some(d) = dst.get_mut(w) {
            *d = word;
        }
    }
}

/// The entries of `sel` whose flag is 1, written to the front of `out`; returns their count.
#[inline(always)]
pub(super) fn compact(sel: &[u16], flags: &[u64], out: &mut [u16]) -> usize {
    let mut n = 0;
    for (&r, &f) in sel.iter().zip(flags) {
        // Branch-free: always write, advance only on a hit. `n <= k < out.len()`.
        if let Some(o) = out.get_mut(n) {
            *o = r;
        }
        n += f as usize;
    }
    n
}
