//! Inverting a spillover matrix and applying it to events.

use rayon::prelude::*;

use crate::error::{Error, Result};

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
pub trait Sample: Copy + Send + Sync {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}
impl Sample for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
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

/// Compensate in place: for every event (row of `p` values), the values of the
/// columns `detectors` become `row[detectors] · inv`. Other columns pass
/// through. Rows are independent, so the result is identical on any number of
/// threads; sums run in f64 whatever the storage type.
pub fn compensate_in_place<T: Sample>(
    events: &mut [T],
    p: usize,
    detectors: &[usize],
    inv: &[f64],
) -> Result<()> {
    let n = detectors.len();
    if inv.len() != n * n {
        return Err(Error::Compensation(format!(
            "inverse has {} values for {n} detectors",
            inv.len()
        )));
    }
    if p == 0 || events.len() % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{} values do not divide into rows of {p}",
            events.len()
        )));
    }
    if let Some(&bad) = detectors.iter().find(|&&d| d >= p) {
        return Err(Error::InvalidArgument(format!(
            "detector column {bad} is outside 0..{p}"
        )));
    }
    events.par_chunks_mut(CHUNK_ROWS * p).for_each(|chunk| {
        let mut d = vec![0f64; n];
        for row in chunk.chunks_exact_mut(p) {
            for (dj, &c) in d.iter_mut().zip(detectors) {
                *dj = row[c].to_f64();
            }
            for (k, &c) in detectors.iter().enumerate() {
                let mut acc = 0f64;
                for (j, dj) in d.iter().enumerate() {
                    acc += dj * inv[j * n + k];
                }
                row[c] = T::from_f64(acc);
            }
        }
    });
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
