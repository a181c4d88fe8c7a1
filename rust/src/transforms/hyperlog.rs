//! Gating-ML 2.0 `hyperlog` (Bagwell 2005), on the logicle kernel.

use std::f64::consts::LN_10;

use super::logicle::{check_logicle_family, out_of_range, Biexp};
use super::{invalid, Transform};
use crate::error::Result;

/// Gating-ML 2.0 `hyperlog`.
///
/// With w = W/(M+A), x2 = A/(M+A), x1 = x2 + w, x0 = x2 + 2w, b = (M+A)·ln10,
/// ca = e^{b·x0}/w, fa = e^{b·x1} + ca·x1, a = T/(e^b + ca − fa), c = ca·a, f = fa·a:
/// EH(y) = a·e^{by} + c·y − f for y ≥ x1, reflected as EH(y) = −EH(2·x1 − y) below.
/// `apply` is the root of EH(y) = x (same solver as logicle), `inverse` is EH.
#[derive(Clone, Debug)]
pub struct Hyperlog {
    kernel: Biexp,
}

impl Hyperlog {
    /// T > 0, M > 0, 0 < W ≤ M/2, −W ≤ A ≤ M − 2W.
    pub fn new(t: f64, w: f64, m: f64, a: f64) -> Result<Self> {
        check_logicle_family("hyperlog", t, w, m, a)?;
        if w <= 0.0 {
            return Err(invalid("hyperlog", format!("W must be > 0, got {w}")));
        }
        let total = m + a;
        let (w_, x2) = (w / total, a / total);
        let (x1, x0) = (x2 + w_, x2 + 2.0 * w_);
        let b = total * LN_10;
        // With the spec's a set to 1, EH(x1 + h) = e^{b·x1}·expm1(b·h) + ca·h
        // (f cancels exactly by its definition).
        let p0 = (b * x1).exp();
        let l0 = (b * x0).exp() / w_;
        let h_top = 1.0 - x1;
        let scale = t / (p0 * (b * h_top).exp_m1() + l0 * h_top); // EH(1) = T
        Biexp::new(x1, p0 * scale, b, 0.0, 0.0, l0 * scale)
            .map(|kernel| Self { kernel })
            .ok_or_else(|| out_of_range("hyperlog", t, w, m, a))
    }

    /// Scale value of data zero: (W + A)/(M + A).
    pub fn zero_point(&self) -> f64 {
        self.kernel.x1()
    }
}

impl Transform for Hyperlog {
    #[inline]
    fn apply(&self, x: f64) -> f64 {
        self.kernel.apply(x)
    }
    #[inline]
    fn inverse(&self, y: f64) -> f64 {
        self.kernel.inverse(y)
    }
}
