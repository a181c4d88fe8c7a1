//! Visiting rows of a row-major event matrix, all of them or a population's.

use std::ops::Range;

use crate::compensation::apply::Sample;

/// Calls `f` with rows `range` of a population (`members`, sorted event
/// indices; `None` = every event) of the n × p matrix `values`, in order.
///
/// Scattered rows wait on memory, and the work on one row is too long for the
/// processor to run far enough ahead by itself: so that many cache misses are
/// in flight at once, each batch of rows first reads both ends of every row two
/// batches ahead (a plain read kept in a sum, not a prefetch instruction, which
/// would need `unsafe`).
#[inline(always)]
pub(crate) fn each_row<T: Sample>(
    values: &[T],
    p: usize,
    members: Option<&[u32]>,
    range: Range<usize>,
    mut f: impl FnMut(usize, &[T]),
) {
    const BATCH: usize = 8;
    match members {
        Some(m) => {
            let m = &m[range];
            let mut sink = 0.0f64;
            for (bi, batch) in m.chunks(BATCH).enumerate() {
                for &a in m.iter().skip((bi + 2) * BATCH).take(BATCH) {
                    let row = &values[a as usize * p..][..p];
                    sink += (row[0].to_f64() + row[p - 1].to_f64()) * 0.0;
                }
                for &e in batch {
                    f(e as usize, &values[e as usize * p..][..p]);
                }
            }
            std::hint::black_box(sink);
        }
        None => range.for_each(|e| f(e, &values[e * p..][..p])),
    }
}
