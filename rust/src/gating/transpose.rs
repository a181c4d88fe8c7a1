//! Gathering columns of float32 rows eight rows at a time (AVX2).
//!
//! Reading one value per (row, column) costs a load, a store and index
//! arithmetic each: with the eleven detector columns of a compensation that
//! was a quarter of gating. Here eight rows' values of eight adjacent columns
//! are loaded as eight vectors and transposed in registers (24 shuffles), so
//! each wanted column of those rows is one vector store. The values are the
//! same bits as the scalar gather's.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// `out[j * stride + k] = rows[row(k) * p + columns[j]]` for `k < m`, where
/// `row(k)` is `sel[k]`, or `k` when `sel` is `None`. Returns false (having
/// written nothing) when an index would fall outside `rows` or `out`.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn gather_f32(
    rows: &[f32],
    p: usize,
    sel: Option<&[u16]>,
    m: usize,
    columns: &[usize],
    out: &mut [f32],
    stride: usize,
) -> bool {
    // Every index checked here once, so the loops below may skip checks.
    let last_row = match sel {
        Some(s) if s.len() < m => usize::MAX,
        Some(s) => s[..m].iter().copied().max().map_or(0, |r| r as usize + 1),
        None => m,
    };
    let rows_ok = p > 0 && last_row.checked_mul(p).is_some_and(|e| e <= rows.len());
    let cols_ok = columns.iter().all(|&c| c < p)
        && (columns.is_empty() || (columns.len() - 1) * stride + m <= out.len())
        && m <= stride
        // At most eight outputs per block of eight columns (more only with a
        // column repeated beyond that): each block's outputs fit one table.
        && (0..p.div_ceil(8)).all(|b| columns.iter().filter(|&&c| c / 8 == b).count() <= 8);
    if !rows_ok || !cols_ok {
        return false;
    }
    let row = |k: usize| sel.map_or(k, |s| s[k] as usize);
    let groups = m / 8;
    for c0 in (0..p).step_by(8) {
        // The wanted columns among these eight: (where in `out`, which lane).
        let mut wanted = [(0usize, 0usize); 8];
        let mut nw = 0;
        for (j, &c) in columns.iter().enumerate() {
            if c / 8 == c0 / 8 {
                wanted[nw] = (j * stride, c - c0);
                nw += 1;
            }
        }
        let wanted = &wanted[..nw];
        if wanted.is_empty() {
            continue;
        }
        let width = (p - c0).min(8);
        // Lanes at or past `width` are not loaded (a masked load does not
        // touch them), so the last row's load stays inside `rows`.
        let mask = _mm256_cmpgt_epi32(
            _mm256_set1_epi32(width as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        );
        for g in 0..groups {
            let mut v = [_mm256_setzero_ps(); 8];
            for (i, vi) in v.iter_mut().enumerate() {
                // SAFETY: row(8g + i) < last_row, so its `width` values from
                // c0 on lie inside `rows` (checked above).
                unsafe {
                    let at = rows.as_ptr().add(row(8 * g + i) * p + c0);
                    *vi = if width == 8 {
                        _mm256_loadu_ps(at)
                    } else {
                        _mm256_maskload_ps(at, mask)
                    };
                }
            }
            let t = transpose8(v);
            for &(o, lane) in wanted {
                // SAFETY: o = j * stride, and j * stride + 8g + 8 <= j * stride + m <= out.len().
                unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(o + 8 * g), t[lane]) };
            }
        }
        for k in groups * 8..m {
            let r = row(k) * p;
            for &(o, lane) in wanted {
                out[o + k] = rows[r + c0 + lane];
            }
        }
    }
    true
}

/// The 8 × 8 transpose: `out[c]` holds lane `c` of every `v[i]`, in order of `i`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn transpose8(v: [__m256; 8]) -> [__m256; 8] {
    // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves
    // swapped across: lane c of row i ends in vector c, position i.
    let a0 = _mm256_unpacklo_ps(v[0], v[1]);
    let a1 = _mm256_unpackhi_ps(v[0], v[1]);
    let a2 = _mm256_unpacklo_ps(v[2], v[3]);
    let a3 = _mm256_unpackhi_ps(v[2], v[3]);
    let a4 = _mm256_unpacklo_ps(v[4], v[5]);
    let a5 = _mm256_unpackhi_ps(v[4], v[5]);
    let a6 = _mm256_unpacklo_ps(v[6], v[7]);
    let a7 = _mm256_unpackhi_ps(v[6], v[7]);
    let b0 = _mm256_shuffle_ps::<0x44>(a0, a2);
    let b1 = _mm256_shuffle_ps::<0xEE>(a0, a2);
    let b2 = _mm256_shuffle_ps::<0x44>(a1, a3);
    let b3 = _mm256_shuffle_ps::<0xEE>(a1, a3);
    let b4 = _mm256_shuffle_ps::<0x44>(a4, a6);
    let b5 = _mm256_shuffle_ps::<0xEE>(a4, a6);
    let b6 = _mm256_shuffle_ps::<0x44>(a5, a7);
    let b7 = _mm256_shuffle_ps::<0xEE>(a5, a7);
    [
        _mm256_permute2f128_ps::<0x20>(b0, b4),
        _mm256_permute2f128_ps::<0x20>(b1, b5),
        _mm256_permute2f128_ps::<0x20>(b2, b6),
        _mm256_permute2f128_ps::<0x20>(b3, b7),
        _mm256_permute2f128_ps::<0x31>(b0, b4),
        _mm256_permute2f128_ps::<0x31>(b1, b5),
        _mm256_permute2f128_ps::<0x31>(b2, b6),
        _mm256_permute2f128_ps::<0x31>(b3, b7),
    ]
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// The scalar definition.
    fn reference(
        rows: &[f32],
        p: usize,
        sel: Option<&[u16]>,
        m: usize,
        cols: &[usize],
        stride: usize,
    ) -> Vec<f32> {
        let mut out = vec![f32::NAN; cols.len() * stride];
        for (j, &c) in cols.iter().enumerate() {
            for k in 0..m {
                let r = sel.map_or(k, |s| s[k] as usize);
                out[j * stride + k] = rows[r * p + c];
            }
        }
        out
    }

    #[test]
    fn transposed_gather_equals_the_scalar_one() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        for p in [1, 3, 8, 11, 16, 17, 24] {
            let n = 203;
            // Distinct bit patterns, NaNs and negative zero among them.
            let rows: Vec<f32> = (0..n * p)
                .map(|i| match i % 37 {
                    5 => f32::NAN,
                    9 => -0.0,
                    _ => (i as f32) * 0.37 - 50.0,
                })
                .collect();
            let sel: Vec<u16> = (0..n as u16).filter(|r| r % 3 != 1).collect();
            let all_cols: Vec<usize> = (0..p).rev().collect();
            let some_cols: Vec<usize> = (0..p).filter(|c| c % 4 != 2).collect();
            for cols in [&all_cols[..], &some_cols[..], &[p - 1][..]] {
                for (s, m) in [
                    (Some(&sel[..]), sel.len()),
                    (None, n),
                    (Some(&sel[..]), 7),
                    (None, 0),
                ] {
                    let stride = 256;
                    let mut got = vec![f32::NAN; cols.len() * stride];
                    // SAFETY: AVX2 checked above.
                    assert!(unsafe { gather_f32(&rows, p, s, m, cols, &mut got, stride) });
                    let want = reference(&rows, p, s, m, cols, stride);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "p {p}, m {m}, cols {cols:?}");
                }
            }
        }
    }

    #[test]
    fn out_of_range_indices_are_refused() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let rows = vec![1.0f32; 10 * 4];
        let mut out = vec![0.0f32; 2 * 16];
        // SAFETY: AVX2 checked above.
        unsafe {
            assert!(!gather_f32(&rows, 4, Some(&[0, 10]), 2, &[0], &mut out, 16));
            assert!(!gather_f32(&rows, 4, None, 11, &[0], &mut out, 16));
            assert!(!gather_f32(&rows, 4, None, 10, &[4], &mut out, 16));
            assert!(!gather_f32(&rows, 4, None, 10, &[0, 1, 2], &mut out, 16));
            assert!(gather_f32(&rows, 4, None, 10, &[0, 3], &mut out, 16));
            // Nine outputs from one block of columns: refused, not cut short.
            let mut wide = vec![0.0f32; 9 * 16];
            assert!(!gather_f32(&rows, 4, None, 10, &[0; 9], &mut wide, 16));
        }
    }
}
