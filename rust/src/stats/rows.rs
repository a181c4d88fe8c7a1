//! Reading the requested columns of an event matrix, with each column's FCS
//! scale applied, so statistics can run on a file's own (raw) bytes.

use crate::compensation::apply::Sample;
use crate::fcs::Scale;

/// An n × p row-major matrix, the columns a request reads, and their scales.
pub(crate) struct Source<'a, T> {
    pub values: &'a [T],
    pub p: usize,
    pub n: usize,
    pub cols: &'a [usize],
    /// Per requested column, its scale; empty when every one is Identity.
    scales: Vec<Scale>,
}

impl<'a, T: Sample> Source<'a, T> {
    /// `scales` is per matrix column (or empty); `cols` index into it.
    pub(crate) fn new(values: &'a [T], p: usize, cols: &'a [usize], scales: &[Scale]) -> Self {
        let scaled = scales.iter().any(|&s| s != Scale::Identity);
        let scales = if scaled {
            cols.iter()
                .map(|&c| scales.get(c).copied().unwrap_or(Scale::Identity))
                .collect()
        } else {
            Vec::new()
        };
        Source {
            values,
            p,
            n: values.len().checked_div(p).unwrap_or(0),
            cols,
            scales,
        }
    }

    /// The same columns read as stored, when every scale keeps the order
    /// (order statistics then run on the stored keys and only the selected
    /// values are scaled: see [`Source::scaled`]); else `None`.
    pub(crate) fn for_order(&self) -> Option<Source<'a, T>> {
        self.scales
            .iter()
            .all(|s| s.is_increasing())
            .then(|| Source {
                values: self.values,
                p: self.p,
                n: self.n,
                cols: self.cols,
                scales: Vec::new(),
            })
    }

    /// Whether any requested column has a scale.
    pub(crate) fn is_scaled(&self) -> bool {
        !self.scales.is_empty()
    }

    /// A stored value of requested column `j`, scaled.
    #[inline(always)]
    pub(crate) fn scaled(&self, j: usize, x: T) -> T {
        match self.scales.get(j) {
            Some(&s) => x.rescaled(s),
            None => x,
        }
    }

    /// The value of event `e` in requested column `j`, scaled.
    #[inline(always)]
    pub(crate) fn value(&self, e: usize, j: usize) -> T {
        let x = self.values[e * self.p + self.cols[j]];
        match self.scales.get(j) {
            Some(&s) => x.rescaled(s),
            None => x,
        }
    }
}

/// Row-by-row access to a [`Source`]: a borrowed slice of the row when the
/// request reads its first k columns unscaled (the usual case), else a copy.
pub(crate) struct View<'s, 'a, T> {
    src: &'s Source<'a, T>,
    direct: bool,
    buf: Vec<T>,
}

impl<'s, 'a, T: Sample + Default> View<'s, 'a, T> {
    pub(crate) fn new(src: &'s Source<'a, T>) -> Self {
        let direct = src.scales.is_empty() && src.cols.iter().enumerate().all(|(j, &c)| j == c);
        View {
            src,
            direct,
            buf: vec![T::default(); src.cols.len()],
        }
    }

    /// Values per row: the requested columns.
    #[inline(always)]
    pub(crate) fn width(&self) -> usize {
        self.src.cols.len()
    }

    /// Asks the CPU to start loading event `e`'s row (ignored past the end).
    /// The pass does enough work per row that the out-of-order window never
    /// reaches the next row's load, and hardware prefetchers stop at page
    /// boundaries: without this, the first lines of every page stall it.
    #[inline(always)]
    pub(crate) fn prefetch(&self, e: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let p = self.src.p;
            if (e + 1) * p <= self.src.values.len() {
                let row = self.src.values[e * p..].as_ptr() as *const i8;
                let last = (p * std::mem::size_of::<T>()).saturating_sub(1);
                // SAFETY: a prefetch reads nothing and cannot fault; both
                // addresses lie inside the row.
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(row);
                    _mm_prefetch::<_MM_HINT_T0>(row.add(last));
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = e;
    }

    /// The requested, scaled values of event `e`, in request order.
    #[inline(always)]
    pub(crate) fn row(&mut self, e: usize) -> &[T] {
        let (p, k) = (self.src.p, self.src.cols.len());
        let row = &self.src.values[e * p..][..p];
        if self.direct {
            return &row[..k];
        }
        for (o, &c) in self.buf.iter_mut().zip(self.src.cols) {
            *o = row[c];
        }
        for (o, &s) in self.buf.iter_mut().zip(&self.src.scales) {
            *o = o.rescaled(s);
        }
        &self.buf[..k]
    }
}
