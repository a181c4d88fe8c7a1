//! Inverting a spillover matrix and applying it to events.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::fcs::Scale;

/// Invert an n × n row-major matrix by Gauss–Jordan elimination with partial
/// pivoting, in f64. A pivot that vanishes relative to the matrix's scale
/// means the detectors cannot be separated: that is an error, not a NaN.
pub fn invert(m: &[f64], n: usize) -> Result<Vec<f64>> {
    if n == 0 || m.len() != n * n {
        return Err(Error::Compensation(format!(
            "matrix of {} values is not {n} x {n}",
            m.len()
        )));
    }
    if m.iter().any(|v| !v.is_finite()) {
        return Err(Error::Compensation(
            "matrix holds NaN or infinite values".into(),
        ));
    }
    let scale = m.iter().fold(0f64, |a, v| a.max(v.abs()));
    if scale == 0.0 {
        return Err(Error::Compensation("matrix is all zeros (singular)".into()));
    }
    let w = 2 * n;
    let mut a = vec![0f64; n * w];
    for r in 0..n {
        a[r * w..r * w + n].copy_from_slice(&m[r * n..r * n + n]);
        a[r * w + n + r] = 1.0;
    }
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&x, &y| a[x * w + col].abs().total_cmp(&a[y * w + col].abs()))
            .unwrap_or(col);
        let p = a[piv * w + col];
        if p.abs() <= scale * 1e-12 {
            return Err(Error::Compensation(format!(
                "matrix is singular (no usable pivot in column {})",
                col + 1
            )));
        }
        if piv != col {
            for k in 0..w {
                a.swap(piv * w + k, col * w + k);
            }
        }
        for k in 0..w {
            a[col * w + k] /= p;
        }
        for r in 0..n {
            if r == col {
                continue;
            }
            let f = a[r * w + col];
            if f != 0.0 {
                for k in 0..w {
                    a[r * w + k] -= f * a[col * w + k];
                }
            }
        }
    }
    Ok((0..n)
        .flat_map(|r| a[r * w + n..r * w + w].to_vec())
        .collect())
}

/// Values the compensation kernel reads and writes.
pub trait Sample: Copy + Send + Sync + Default {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    /// The values as f32 when `Self` is f32 (for kernels with an f32-only path).
    #[inline(always)]
    fn as_f32(_values: &[Self]) -> Option<&[f32]> {
        None
    }
    /// [`Sample::as_f32`] for a slice to write.
    #[inline(always)]
    fn as_f32_mut(_values: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
    /// The value with a channel's FCS scale applied exactly as the decoder
    /// applies it (in f64, rounded to `Self`), so kernels reading the file's
    /// own bytes see the same scale values as a decoded copy would hold.
    #[inline(always)]
    fn rescaled(self, s: Scale) -> Self {
        match s {
            Scale::Identity => self,
            s => Self::from_f64(s.apply(self.to_f64())),
        }
    }
}
impl Sample for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn as_f32(values: &[f32]) -> Option<&[f32]> {
        Some(values)
    }
    #[inline(always)]
    fn as_f32_mut(values: &mut [f32]) -> Option<&mut [f32]> {
        Some(values)
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}
impl Sample for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
}

const CHUNK_ROWS: usize = 8192;
/// Rows handled together so the inner loops run over contiguous f64 columns (SIMD).
const BLOCK_ROWS: usize = 128;

fn check(len: usize, p: usize, detectors: &[usize], inv: &[f64]) -> Result<()> {
    let n = detectors.len();
    if inv.len() != n * n {
        return Err(Error::Compensation(format!(
            "inverse has {} values for {n} detectors",
            inv.len()
        )));
    }
    if p == 0 || len % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{len} values do not divide into rows of {p}"
        )));
    }
    if let Some(&bad) = detectors.iter().find(|&&d| d >= p) {
        return Err(Error::InvalidArgument(format!(
            "detector column {bad} is outside 0..{p}"
        )));
    }
    Ok(())
}

/// One block of rows: copy, then replace the detector columns by `row[detectors] · inv`.
fn block<T: Sample>(
    src: &[T],
    dst: &mut [T],
    p: usize,
    detectors: &[usize],
    inv: &[f64],
    cols: &mut [f64],
    acc: &mut [f64],
) {
    let n = detectors.len();
    let rows = src.len() / p;
    dst.copy_from_slice(src);
    for (j, &c) in detectors.iter().enumerate() {
        let col = &mut cols[j * BLOCK_ROWS..j * BLOCK_ROWS + rows];
        for (r, v) in col.iter_mut().enumerate() {
            *v = src[r * p + c].to_f64();
        }
    }
    for (k, &c) in detectors.iter().enumerate() {
        let acc = &mut acc[..rows];
        acc.fill(0.0);
        // Fixed summation order (j ascending) for every element: deterministic.
        for j in 0..n {
            let coef = inv[j * n + k];
            let col = &cols[j * BLOCK_ROWS..j * BLOCK_ROWS + rows];
            for (a, v) in acc.iter_mut().zip(col) {
                *a += v * coef;
            }
        }
        for (r, a) in acc.iter().enumerate() {
            dst[r * p + c] = T::from_f64(*a);
        }
    }
}

/// A compensated copy of `events` (rows of `p` values): the columns `detectors`
/// become `row[detectors] · inv`; other columns pass through. Rows are
/// independent, so the result is identical on any number of threads; sums run
/// in f64 whatever the storage type.
pub fn compensate<T: Sample>(
    events: &[T],
    p: usize,
    detectors: &[usize],
    inv: &[f64],
) -> Result<Vec<T>> {
    check(events.len(), p, detectors, inv)?;
    let mut out = vec![T::default(); events.len()];
    let n = detectors.len();
    out.par_chunks_mut(CHUNK_ROWS * p)
        .zip(events.par_chunks(CHUNK_ROWS * p))
        .for_each(|(o, e)| {
            let mut cols = vec![0f64; n * BLOCK_ROWS];
            let mut acc = vec![0f64; BLOCK_ROWS];
            for (ob, eb) in o.chunks_mut(BLOCK_ROWS * p).zip(e.chunks(BLOCK_ROWS * p)) {
                block(eb, ob, p, detectors, inv, &mut cols, &mut acc);
            }
        });
    Ok(out)
}

/// In-place variant of [`compensate`] (used where the caller owns a copy already).
pub fn compensate_in_place<T: Sample>(
    events: &mut [T],
    p: usize,
    detectors: &[usize],
    inv: &[f64],
) -> Result<()> {
    let out = compensate(events, p, detectors, inv)?;
    events.copy_from_slice(&out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverts() {
        let m = [1.0, 0.02, 0.06, 0.11, 1.0, 0.07, 0.09, 0.01, 1.0];
        let inv = invert(&m, 3).unwrap();
        for r in 0..3 {
            for c in 0..3 {
                let v: f64 = (0..3).map(|k| m[r * 3 + k] * inv[k * 3 + c]).sum();
                assert!((v - if r == c { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn singular_is_an_error() {
        assert!(invert(&[1.0, 2.0, 2.0, 4.0], 2).is_err());
        assert!(invert(&[0.0; 4], 2).is_err());
        assert!(invert(&[1.0, f64::NAN, 0.0, 1.0], 2).is_err());
        assert!(invert(&[1.0, 2.0, 3.0], 2).is_err());
    }

    #[test]
    fn compensates_selected_columns() {
        // Columns: FSC, FL1, FL2. FL1 spills 10 % into FL2.
        let spill = [1.0, 0.1, 0.0, 1.0];
        let inv = invert(&spill, 2).unwrap();
        let mut ev = vec![5.0f64, 100.0, 10.0 + 50.0, 7.0, 0.0, 50.0];
        compensate_in_place(&mut ev, 3, &[1, 2], &inv).unwrap();
        let want = [5.0, 100.0, 50.0, 7.0, 0.0, 50.0];
        for (a, b) in ev.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{ev:?}");
        }
        assert!(compensate_in_place(&mut ev, 3, &[1, 3], &inv).is_err());
    }
}
