//! Gating-ML 2.0 `logicle`, and the odd-symmetric biexponential kernel that
//! logicle, hyperlog and FlowJo biex share.
//!
//! Root-finder for apply (solve B(y) = x): B is evaluated as p·expm1(b·h) − q·expm1(−d·h) + l·h,
//! h = y − x1 ≥ 0 (x < 0 reflected), so there is no cancellation near zero and no Taylor series.
//! Initial guess: a 256-interval cubic-Hermite table (built once per transform) of b·h − z against
//! z = ln(1 + x·b/B'(x1)), a smooth bounded correction; the guess is within 1e-7 (typically 1e-9).
//! Then safeguarded Halley steps (bisection if a step leaves the bracket) until the error bound
//! (5b²/12)·|step|³ is below ¼ ulp: one step per value in practice, never more than 100.

use std::f64::consts::LN_10;

use super::{finite, invalid, Transform};
use crate::error::Result;

const EPS: f64 = f64::EPSILON;
/// Intervals of the initial-guess table.
const TABLE_INTERVALS: usize = 256;
/// Hard bound on refinement steps (bisection of [0, 700/b] needs < 60).
const MAX_STEPS: usize = 100;

/// V(h) = p·expm1(b·h) − q·expm1(−d·h) + l·h for h ≥ 0 and V(−h) = −V(h),
/// with the scale value y = x1 + h. p > 0, q ≥ 0, l ≥ 0, 0 ≤ d ≤ b.
/// Logicle: l = 0; hyperlog: q = 0; FlowJo biex: logicle with FlowJo's constants.
#[derive(Clone, Debug)]
pub(super) struct Biexp {
    x1: f64,
    p: f64,
    b: f64,
    q: f64,
    d: f64,
    l: f64,
    /// b / V'(0): z = ln1p(v·z_gain) is ≈ b·h for small v.
    z_gain: f64,
    ln_z_gain: f64,
    ln_p: f64,
    z_step_inv: f64,
    /// (g, Δz·dg/dz) at z_k = k·Δz, where g = b·h − z; built on the first
    /// forward transform (inverses, e.g. mapping gate bounds, never need it,
    /// and it is most of a transform's construction: ~30 µs).
    table: std::sync::OnceLock<Vec<[f64; 2]>>,
    slope0: f64,
    z_step: f64,
    /// Bound on Halley's error constant |f'''/6f' − (f''/2f')²| ≤ 5b²/12.
    halley_k: f64,
}

impl Biexp {
    /// None when the constants are not finite or not in range.
    pub(super) fn new(x1: f64, p: f64, b: f64, q: f64, d: f64, l: f64) -> Option<Self> {
        let ok = [x1, p, b, q, d, l].iter().all(|v| v.is_finite())
            && p > 0.0
            && b > 0.0
            && q >= 0.0
            && l >= 0.0
            && (0.0..=b).contains(&d);
        if !ok {
            return None;
        }
        let slope0 = p * b + q * d + l;
        let z_gain = b / slope0;
        let mut k = Self {
            x1,
            p,
            b,
            q,
            d,
            l,
            z_gain,
            ln_z_gain: z_gain.ln(),
            ln_p: p.ln(),
            z_step_inv: 0.0,
            table: std::sync::OnceLock::new(),
            slope0,
            z_step: 0.0,
            halley_k: 5.0 * b * b / 12.0,
        };
        k.z_step = k.table_step();
        k.z_step_inv = 1.0 / k.z_step;
        (k.z_gain.is_finite() && k.ln_p.is_finite() && k.z_step_inv.is_finite()).then_some(k)
    }

    /// The table's step in z: it reaches y = 1.25 (a quarter past the top of
    /// scale) but at least z = 16, where the log asymptote takes over.
    fn table_step(&self) -> f64 {
        let h_max = (1.25 - self.x1).max(0.25);
        let z_max = (self.value(h_max) * self.z_gain).ln_1p().clamp(16.0, 700.0);
        z_max / TABLE_INTERVALS as f64
    }

    /// The guess correction, tabulated at every step up to the table's end.
    fn table(&self) -> &[[f64; 2]] {
        self.table.get_or_init(|| {
            let dz = self.z_step;
            let mut out = Vec::with_capacity(TABLE_INTERVALS + 1);
            let mut h = 0.0;
            for i in 0..=TABLE_INTERVALS {
                let z = i as f64 * dz;
                let v = z.exp_m1() / self.z_gain;
                h = self.solve(v, h); // the previous root is a close guess
                let dg = self.slope0 * (1.0 + v * self.z_gain) / self.slope(h) - 1.0;
                out.push([self.b * h - z, dz * dg]);
            }
            out
        })
    }

    /// Scale value of data zero.
    pub(super) fn x1(&self) -> f64 {
        self.x1
    }

    #[inline]
    fn value(&self, h: f64) -> f64 {
        self.p * (self.b * h).exp_m1() - self.q * (-self.d * h).exp_m1() + self.l * h
    }

    #[inline]
    fn slope(&self, h: f64) -> f64 {
        self.p * self.b * (self.b * h).exp() + self.q * self.d * (-self.d * h).exp() + self.l
    }

    /// Closed form: data value of scale value y.
    #[inline]
    pub(super) fn inverse(&self, y: f64) -> f64 {
        let h = y - self.x1;
        if h.is_infinite() {
            return h; // ±inf (0·inf in the linear term would give NaN)
        }
        if h >= 0.0 {
            self.value(h)
        } else {
            -self.value(-h) // also NaN → NaN
        }
    }

    /// Scale value of data value x.
    #[inline]
    pub(super) fn apply(&self, x: f64) -> f64 {
        if x == 0.0 {
            return self.x1;
        }
        let v = x.abs();
        if !v.is_finite() {
            return x; // NaN stays NaN, ±inf maps to ±inf
        }
        let g = self.guess(v);
        // Past e^690 the log asymptote is exact in f64, and V itself would overflow.
        let h = if self.b * g > 690.0 {
            g
        } else {
            self.solve(v, g)
        };
        if x > 0.0 {
            self.x1 + h
        } else {
            self.x1 - h
        }
    }

    /// Initial guess for h with V(h) = v > 0.
    #[inline]
    fn guess(&self, v: f64) -> f64 {
        let z = (v * self.z_gain).ln_1p();
        let pos = z * self.z_step_inv;
        if pos < TABLE_INTERVALS as f64 {
            let i = pos as usize; // pos >= 0, so this is floor
            let t = pos - i as f64;
            let table = self.table();
            let ([g0, m0], [g1, m1]) = (table[i], table[i + 1]);
            (z + hermite(g0, m0, g1, m1, t)) / self.b
        } else {
            // log region: V ≈ p·e^{b·h}; z ≈ ln(v·z_gain) here (unless v·z_gain overflowed)
            let ln_v = if z.is_finite() {
                z - self.ln_z_gain
            } else {
                v.ln()
            };
            (ln_v - self.ln_p) / self.b
        }
    }

    /// Safeguarded Halley iteration for V(h) = v > 0 from `guess`.
    fn solve(&self, v: f64, guess: f64) -> f64 {
        let (p, b, q, d, l) = (self.p, self.b, self.q, self.d, self.l);
        // The bracket [lo, hi] shrinks with every evaluation; its finite upper
        // end is only worked out if a step ever leaves it (hardly ever).
        let (mut lo, mut hi) = (0.0, f64::INFINITY);
        let mut h = guess.max(0.0);
        let scale = self.x1.abs();
        for _ in 0..MAX_STEPS {
            #[cfg(test)]
            STEPS.with(|c| c.set(c.get() + 1));
            let (eb, ed) = ((b * h).exp_m1(), (-d * h).exp_m1());
            let f = p * eb - q * ed + l * h - v;
            if f == 0.0 {
                return h;
            }
            if f > 0.0 {
                hi = h;
            } else {
                lo = h;
            }
            let (pe, qe) = (p * b * (eb + 1.0), q * d * (ed + 1.0));
            let (f1, f2) = (pe + qe + l, pe * b - qe * d);
            // Halley: r / (1 − r·f2/(2·f1)) with the Newton step r = f/f1
            // (kept in ratios: f1² would overflow for data beyond ~1e150).
            let inv_f1 = 1.0 / f1;
            let r = f * inv_f1;
            let step = r / (1.0 - 0.5 * r * f2 * inv_f1);
            let next = h - step;
            if next >= lo && next <= hi {
                // The error after a Halley step is ≤ halley_k·|step|³.
                let s3 = step.abs() * step * step;
                if self.halley_k * s3 <= 0.25 * EPS * (scale + next) {
                    return next;
                }
                h = next;
            } else {
                if hi == f64::INFINITY {
                    hi = (v / p).ln_1p() / b; // V(h) ≥ p·expm1(b·h) for h ≥ 0
                }
                h = 0.5 * (lo + hi);
                if hi - lo <= EPS * (scale + h) {
                    return h;
                }
            }
        }
        h
    }
}

#[cfg(test)]
thread_local! {
    /// Refinement steps taken on this thread (tests measure the solver's cost).
    pub(super) static STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Cubic Hermite interpolation on [0, 1] with end slopes already scaled.
#[inline]
fn hermite(g0: f64, m0: f64, g1: f64, m1: f64, t: f64) -> f64 {
    let s = 1.0 - t;
    s * s * ((1.0 + 2.0 * t) * g0 + t * m0) + t * t * ((3.0 - 2.0 * t) * g1 - s * m1)
}

/// The root d of 2(ln d − ln b) + w(b + d) = 0 in (0, b] (d = b when w = 0).
///
/// Newton in t = ln d from t = ln b: the function of t is increasing and
/// convex and starts at or right of the root, so the iterates decrease
/// monotonically onto it; no bracketing is needed.
pub(super) fn solve_d(b: f64, w: f64) -> f64 {
    if w == 0.0 {
        return b;
    }
    let ln_b = b.ln();
    let mut t = ln_b;
    for _ in 0..100 {
        let e = t.exp();
        let step = (2.0 * (t - ln_b) + w * (b + e)) / (2.0 + w * e);
        t -= step;
        if step.abs() <= 4.0 * EPS * t.abs().max(1.0) {
            break;
        }
    }
    t.exp().min(b) // exp(ln b) may round one ulp above b
}

/// Gating-ML 2.0 `logicle` (Parks, Roederer & Moore 2006; Moore & Parks 2012).
///
/// With w = W/(M+A), x2 = A/(M+A), x1 = x2 + w, x0 = x2 + 2w, b = (M+A)·ln10, d the root
/// of 2(ln d − ln b) + w(b + d) = 0 (d = b when W = 0), ca = e^{x0(b+d)},
/// mfa = e^{b·x1} − ca·e^{−d·x1}, a = T/(e^b − mfa − ca·e^{−d}), c = ca·a, f = −mfa·a:
/// B(y) = a·e^{by} − c·e^{−dy} + f for y ≥ x1, reflected as B(y) = −B(2·x1 − y) below x1.
/// `apply` is the root of B(y) = x, `inverse` is B; B(1) = T and B(x1) = 0.
#[derive(Clone, Debug)]
pub struct Logicle {
    kernel: Biexp,
}

impl Logicle {
    /// T > 0, M > 0, 0 ≤ W ≤ M/2, −W ≤ A ≤ M − 2W.
    pub fn new(t: f64, w: f64, m: f64, a: f64) -> Result<Self> {
        check_logicle_family("logicle", t, w, m, a)?;
        let total = m + a;
        let (w_, x2) = (w / total, a / total);
        let (x1, x0) = (x2 + w_, x2 + 2.0 * w_);
        let b = total * LN_10;
        let d = solve_d(b, w_);
        // With the spec's a set to 1: p0 = e^{b·x1}, q0 = ca·e^{−d·x1}, ca = e^{x0(b+d)}.
        let p0 = (b * x1).exp();
        let q0 = (x0 * (b + d) - d * x1).exp();
        // B(1) = T fixes a; both terms are positive, so this has no cancellation.
        let h_top = 1.0 - x1;
        let top = p0 * (b * h_top).exp_m1() - q0 * (-d * h_top).exp_m1();
        let scale = t / top;
        Biexp::new(x1, p0 * scale, b, q0 * scale, d, 0.0)
            .map(|kernel| Self { kernel })
            .ok_or_else(|| out_of_range("logicle", t, w, m, a))
    }

    /// Scale value of data zero: (W + A)/(M + A).
    pub fn zero_point(&self) -> f64 {
        self.kernel.x1()
    }
}

impl Transform for Logicle {
    #[inline]
    fn apply(&self, x: f64) -> f64 {
        self.kernel.apply(x)
    }
    #[inline]
    fn inverse(&self, y: f64) -> f64 {
        self.kernel.inverse(y)
    }
}

/// The shared parameter rules of logicle and hyperlog (hyperlog also needs W > 0).
pub(super) fn check_logicle_family(kind: &str, t: f64, w: f64, m: f64, a: f64) -> Result<()> {
    super::positive(kind, "T", t)?;
    super::positive(kind, "M", m)?;
    finite(kind, "W", w)?;
    finite(kind, "A", a)?;
    if w < 0.0 {
        return Err(invalid(kind, format!("W must be >= 0, got {w}")));
    }
    if 2.0 * w > m {
        return Err(invalid(
            kind,
            format!("W must be <= M/2, got W = {w} with M = {m}"),
        ));
    }
    if a < -w || a > m - 2.0 * w {
        return Err(invalid(
            kind,
            format!(
                "A must be in [-W, M - 2W] = [{}, {}], got {a}",
                -w,
                m - 2.0 * w
            ),
        ));
    }
    Ok(())
}

pub(super) fn out_of_range(kind: &str, t: f64, w: f64, m: f64, a: f64) -> crate::error::Error {
    invalid(
        kind,
        format!("T = {t}, W = {w}, M = {m}, A = {a} give a non-finite scale (M + A too large?)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_d_satisfies_its_equation() {
        for &(m, w) in &[(4.5, 0.5), (4.0, 1.0), (7.0, 3.5), (2.0, 1e-9), (9.0, 0.05)] {
            let b = m * LN_10;
            let w_ = w / m;
            let d = solve_d(b, w_);
            let g = 2.0 * (d.ln() - b.ln()) + w_ * (b + d);
            assert!(d > 0.0 && d <= b);
            assert!(g.abs() < 1e-13, "M={m} W={w}: residual {g}");
        }
        assert_eq!(solve_d(10.0, 0.0), 10.0);
    }

    #[test]
    fn logicle_condition_holds() {
        // B''(x1) = 0: p·b² = q·d² (the reason the series at x1 has no h² term).
        let l = Logicle::new(10000.0, 1.0, 4.0, 0.5).unwrap();
        let k = &l.kernel;
        let (u, v) = (k.p * k.b * k.b, k.q * k.d * k.d);
        assert!((u - v).abs() <= 1e-12 * u, "{u} vs {v}");
    }

    #[test]
    fn hermite_reproduces_cubics() {
        // g(t) = t³ − t: g(0)=0, g'(0)=−1, g(1)=0, g'(1)=2.
        for t in [0.0, 0.25, 0.5, 0.9, 1.0] {
            let want = t * t * t - t;
            assert!((hermite(0.0, -1.0, 0.0, 2.0, t) - want).abs() < 1e-15);
        }
    }
}
