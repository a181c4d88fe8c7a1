//! The closed-form transforms: Gating-ML flin, flog, fasinh and fratio, and
//! the plain arcsinh of mass cytometry.

use std::f64::consts::LN_10;

use super::{finite, invalid, positive, Transform};
use crate::error::Result;

/// Gating-ML `flin`: y = (x + A) / (T + A), mapping [−A, T] onto [0, 1].
#[derive(Clone, Debug)]
pub struct Linear {
    a: f64,
    range: f64, // T + A
}

impl Linear {
    /// T > 0 and T + A > 0 (so the scale increases; the schema's intended
    /// `T >= A` is not enforced, as no formula needs it).
    pub fn new(t: f64, a: f64) -> Result<Self> {
        positive("flin", "T", t)?;
        finite("flin", "A", a)?;
        if t + a <= 0.0 {
            return Err(invalid("flin", format!("T + A must be > 0, got {}", t + a)));
        }
        Ok(Self { a, range: t + a })
    }
}

impl Transform for Linear {
    #[inline]
    fn apply(&self, x: f64) -> f64 {
        (x + self.a) / self.range
    }
    #[inline]
    fn inverse(&self, y: f64) -> f64 {
        y * self.range - self.a
    }
}

/// Gating-ML `flog`: y = log10(x / T) / M + 1.
///
/// Only defined for x > 0: x <= 0 gives NaN, which is never inside a gate.
#[derive(Clone, Debug)]
pub struct Log {
    t: f64,
    m: f64,
}

impl Log {
    /// T > 0, M > 0.
    pub fn new(t: f64, m: f64) -> Result<Self> {
        positive("flog", "T", t)?;
        positive("flog", "M", m)?;
        Ok(Self { t, m })
    }
}

impl Transform for Log {
    #[inline]
    fn apply(&self, x: f64) -> f64 {
        if x > 0.0 {
            (x / self.t).log10() / self.m + 1.0
        } else {
            f64::NAN // outside the domain (also NaN in → NaN out)
        }
    }
    #[inline]
    fn inverse(&self, y: f64) -> f64 {
        self.t * 10f64.powf((y - 1.0) * self.m)
    }
}

/// Gating-ML `fasinh`:
/// y = (asinh(x·sinh(M·ln10)/T) + A·ln10) / ((M + A)·ln10).
#[derive(Clone, Debug)]
pub struct Asinh {
    gain: f64,   // sinh(M ln10) / T
    offset: f64, // A ln10
    range: f64,  // (M + A) ln10
}

impl Asinh {
    /// T > 0, M > 0, A >= 0.
    pub fn new(t: f64, m: f64, a: f64) -> Result<Self> {
        positive("fasinh", "T", t)?;
        positive("fasinh", "M", m)?;
        finite("fasinh", "A", a)?;
        if a < 0.0 {
            return Err(invalid("fasinh", format!("A must be >= 0, got {a}")));
        }
        let gain = (m * LN_10).sinh() / t;
        if !gain.is_finite() || gain <= 0.0 {
            return Err(invalid(
                "fasinh",
                format!("M = {m} with T = {t} is out of range"),
            ));
        }
        Ok(Self {
            gain,
            offset: a * LN_10,
            range: (m + a) * LN_10,
        })
    }
}

impl Transform for Asinh {
    #[inline]
    fn apply(&self, x: f64) -> f64 {
        ((x * self.gain).asinh() + self.offset) / self.range
    }
    #[inline]
    fn inverse(&self, y: f64) -> f64 {
        (y * self.range - self.offset).sinh() / self.gain
    }
}

/// asinh(x / cofactor): the mass-cytometry convention (cofactor 5) and the
/// spectral one (cofactor ~150). Not on the unit scale.
#[derive(Clone, Debug)]
pub struct Arcsinh {
    cofactor: f64,
}

impl Arcsinh {
    /// cofactor > 0.
    pub fn new(cofactor: f64) -> Result<Self> {
        positive("arcsinh", "cofactor", cofactor)?;
        Ok(Self { cofactor })
    }
}

impl Transform for Arcsinh {
    #[inline]
    fn apply(&self, x: f64) -> f64 {
        (x / self.cofactor).asinh()
    }
    #[inline]
    fn inverse(&self, y: f64) -> f64 {
        self.cofactor * y.sinh()
    }
}

/// Gating-ML `fratio` of two dimensions: A·(x1 − B)/(x2 − C).
///
/// Not invertible. x2 == C gives ±inf (or NaN when x1 == B too).
#[inline]
pub fn ratio(a: f64, b: f64, c: f64, x1: f64, x2: f64) -> f64 {
    a * (x1 - b) / (x2 - c)
}

/// `out[i] = ratio(a, b, c, x1[i], x2[i])` over the common length.
pub fn ratio_slice(a: f64, b: f64, c: f64, x1: &[f64], x2: &[f64], out: &mut [f64]) {
    debug_assert!(x1.len() == x2.len() && x1.len() == out.len());
    for ((o, &p), &q) in out.iter_mut().zip(x1).zip(x2) {
        *o = ratio(a, b, c, p, q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300) + 1e-15
    }

    #[test]
    fn linear_known_values() {
        let t = Linear::new(10000.0, 500.0).unwrap();
        assert_eq!(t.apply(-500.0), 0.0);
        assert_eq!(t.apply(10000.0), 1.0);
        assert!(close(t.apply(0.0), 500.0 / 10500.0, 1e-15));
        assert!(close(t.inverse(t.apply(1234.5)), 1234.5, 1e-14));
    }

    #[test]
    fn log_known_values_and_domain() {
        let t = Log::new(10000.0, 5.0).unwrap();
        assert_eq!(t.apply(10000.0), 1.0);
        assert!(close(t.apply(1.0), 0.2, 1e-14));
        assert!(close(t.apply(0.1), 0.0, 1e-14));
        assert!(t.apply(0.0).is_nan());
        assert!(t.apply(-3.0).is_nan());
        assert!(t.apply(f64::NAN).is_nan());
        for x in [1e-3, 0.5, 7.0, 1e4, 3e6] {
            assert!(close(t.inverse(t.apply(x)), x, 1e-13));
        }
    }

    #[test]
    fn asinh_known_values() {
        let t = Asinh::new(10000.0, 4.0, 1.0).unwrap();
        assert!(close(t.apply(10000.0), 1.0, 1e-15));
        // x = 0 sits at A / (M + A).
        assert!(close(t.apply(0.0), 0.2, 1e-15));
        // Odd symmetry about the zero point.
        let (p, n) = (t.apply(250.0), t.apply(-250.0));
        assert!(close(p - 0.2, 0.2 - n, 1e-12));
        for x in [-1e5, -10.0, -1e-6, 1e-6, 3.0, 1e4, 1e7] {
            let back = t.inverse(t.apply(x));
            assert!((back - x).abs() <= 1e-9 * x.abs() + 1e-12, "{x} -> {back}");
        }
    }

    #[test]
    fn arcsinh_known_values() {
        let t = Arcsinh::new(5.0).unwrap();
        assert_eq!(t.apply(0.0), 0.0);
        assert!(close(t.apply(5.0), 1f64.asinh(), 1e-15));
        assert!(close(t.inverse(t.apply(-123.0)), -123.0, 1e-14));
    }

    #[test]
    fn ratio_values() {
        assert_eq!(ratio(2.7, -100.0, -300.0, 0.0, 0.0), 2.7 * 100.0 / 300.0);
        let mut out = [0.0; 2];
        ratio_slice(1.0, 0.0, -1.0, &[3.0, 4.0], &[1.0, 0.0], &mut out);
        assert_eq!(out, [1.5, 4.0]);
        assert!(ratio(1.0, 0.0, 0.0, 1.0, 0.0).is_infinite());
    }

    #[test]
    fn validation() {
        assert!(Linear::new(0.0, 0.0).is_err());
        assert!(Linear::new(10.0, -10.0).is_err());
        assert!(Linear::new(10.0, f64::NAN).is_err());
        assert!(Log::new(-1.0, 2.0).is_err());
        assert!(Log::new(1.0, 0.0).is_err());
        assert!(Asinh::new(1.0, 4.0, -0.1).is_err());
        assert!(Asinh::new(1.0, 0.0, 0.0).is_err());
        assert!(Asinh::new(f64::INFINITY, 4.0, 0.0).is_err());
        assert!(Arcsinh::new(0.0).is_err());
        assert!(Arcsinh::new(-5.0).is_err());
    }
}
