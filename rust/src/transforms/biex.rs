//! FlowJo's "biex": a logicle variant with FlowJo's own parameterisation.
//!
//! FlowJo (and cytolib/FlowKit after it) builds a table over channels
//! c = 0..R (R = 4096) with the scale variable u = c/(R + 1):
//!   width = log10(−width_basis), decades = positive − width/2,
//!   extra = negative + width/2, zero channel z = ⌊extra·R/(extra + decades)⌋ (≤ R/2),
//!   then (if z > 0) decades = extra·R/z, w = width/(2·decades), b = decades·ln10,
//!   d from the logicle equation, ca = e^{(b+d)(w + extra/decades)}, and
//!   x(u) = (max/e^b)·(e^{bu} − ca·e^{−du}) − const, zero at u = z/(R+1), odd about it.
//! We output y = c/R (FlowJo's display fraction, so channel = 4096·y and its own
//! [0, 1] display coordinates map directly), i.e. u = y·R/(R+1), folded into b and d.

use std::f64::consts::LN_10;

use super::logicle::{solve_d, Biexp};
use super::{finite, invalid, positive, Transform};
use crate::error::Result;

/// FlowJo's biex channel range: FlowJo channel = `FLOWJO_BIEX_CHANNELS` × y.
pub const FLOWJO_BIEX_CHANNELS: f64 = 4096.0;

const KIND: &str = "FlowJo biex";

/// FlowJo biex (see the module notes for the exact construction).
#[derive(Clone, Debug)]
pub struct FlowJoBiex {
    kernel: Biexp,
}

impl FlowJoBiex {
    /// width_basis ≤ −1 (FlowJo offers −1 … −1000; above −1 the width would be
    /// negative), negative_decades ≥ 0, positive_decades > log10(−width_basis)/2,
    /// max_value > 0.
    pub fn new(
        width_basis: f64,
        negative_decades: f64,
        positive_decades: f64,
        max_value: f64,
    ) -> Result<Self> {
        check(width_basis, negative_decades, positive_decades, max_value)?;
        let r = FLOWJO_BIEX_CHANNELS;
        let width = (-width_basis).log10();
        let extra = negative_decades + width / 2.0;
        let mut decades = positive_decades - width / 2.0;
        // FlowJo snaps data zero to a whole channel, then stretches the decades to fit.
        let zero = (extra * r / (extra + decades)).floor().min(r / 2.0);
        if zero > 0.0 {
            decades = extra * r / zero;
        }
        let w = width / (2.0 * decades);
        let b = decades * LN_10;
        let d = solve_d(b, w);
        let ln_ca = (b + d) * (w + extra / decades);
        let u1 = zero / (r + 1.0);
        // x(u1 + h) = p·expm1(b·h) − q·expm1(−d·h), the form the kernel evaluates.
        let p = max_value * (b * (u1 - 1.0)).exp();
        let q = max_value * (ln_ca - d * u1 - b).exp();
        let k = r / (r + 1.0); // y → u
        Biexp::new(zero / r, p, b * k, q, d * k, 0.0)
            .map(|kernel| Self { kernel })
            .ok_or_else(|| {
                let msg = format!("positive decades {positive_decades} give a non-finite scale");
                invalid(KIND, msg)
            })
    }

    /// Scale value of data zero (FlowJo's zero channel / 4096).
    pub fn zero_point(&self) -> f64 {
        self.kernel.x1()
    }
}

impl Transform for FlowJoBiex {
    #[inline]
    fn apply(&self, x: f64) -> f64 {
        self.kernel.apply(x)
    }
    #[inline]
    fn inverse(&self, y: f64) -> f64 {
        self.kernel.inverse(y)
    }
}

/// The parameter rules of [`FlowJoBiex::new`].
fn check(width_basis: f64, negative: f64, positive_decades: f64, max_value: f64) -> Result<()> {
    finite(KIND, "width basis", width_basis)?;
    finite(KIND, "negative decades", negative)?;
    positive(KIND, "positive decades", positive_decades)?;
    positive(KIND, "max value", max_value)?;
    if width_basis > -1.0 {
        let msg = format!("width basis must be <= -1, got {width_basis}");
        return Err(invalid(KIND, msg));
    }
    if negative < 0.0 {
        let msg = format!("negative decades must be >= 0, got {negative}");
        return Err(invalid(KIND, msg));
    }
    let half_width = (-width_basis).log10() / 2.0;
    if positive_decades <= half_width {
        let msg = format!(
            "positive decades ({positive_decades}) must exceed log10(-width basis)/2 = {half_width}"
        );
        return Err(invalid(KIND, msg));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const LUT: &str = "flowjo/tr_biex_l256_w-7.943282_n1.000000_m4.418540_r262144.000029.csv";

    fn shared_data() -> PathBuf {
        match std::env::var_os("CD38_TEST_DATA") {
            Some(p) => PathBuf::from(p),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
        }
    }

    /// FlowJo's exported table: row i holds the data value at channel i.
    /// Ours: inverse(i / 4096). FlowKit's own test allows 0.01 % mean error;
    /// the table has 6 significant digits, so ~1e-6 is the floor.
    #[test]
    fn matches_flowjo_exported_lut() {
        let path = shared_data().join(LUT);
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("SKIP: {} not found (set CD38_TEST_DATA)", path.display());
            return;
        };
        let t = FlowJoBiex::new(-7.943282, 1.0, 4.418540, 262144.000029).unwrap();
        let (mut sum, mut n, mut worst) = (0.0, 0usize, 0f64);
        for line in text.lines().skip(1) {
            let (i, x) = line.split_once(',').unwrap();
            let i: f64 = i.trim().parse().unwrap();
            let x: f64 = x.trim().parse().unwrap();
            let ours = t.inverse(i / FLOWJO_BIEX_CHANNELS);
            if i == 0.0 {
                continue; // FlowKit's test skips row 0 too
            }
            if x == 0.0 {
                assert!(ours.abs() < 1e-9, "zero channel gives {ours}");
                continue;
            }
            let rel = (ours - x).abs() / x.abs();
            sum += rel;
            worst = worst.max(rel);
            n += 1;
        }
        assert_eq!(n, 4094); // rows 1..4095 minus the exact zero at channel 1096
        let mean = sum / n as f64;
        println!("FlowJo biex LUT: mean relative error {mean:.3e}, max {worst:.3e} over {n} rows");
        assert!(mean < 1e-4, "mean relative error {mean}");
        assert!(worst < 1e-4, "max relative error {worst}");
    }

    #[test]
    fn zero_channel_and_roundtrip() {
        let t = FlowJoBiex::new(-7.943282, 1.0, 4.418540, 262144.000029).unwrap();
        assert_eq!(t.zero_point(), 1096.0 / 4096.0);
        assert_eq!(t.apply(0.0), t.zero_point());
        for x in [-1000.0, -1.0, -1e-6, 1e-6, 0.3, 50.0, 2e4, 262144.0, 1e7] {
            let back = t.inverse(t.apply(x));
            assert!((back - x).abs() <= 1e-9 * x.abs() + 1e-12, "{x} -> {back}");
        }
        // top of scale: channel ≈ 4096 at max_value
        let top = t.apply(262144.000029) * FLOWJO_BIEX_CHANNELS;
        assert!((top - 4097.0).abs() < 1.0, "{top}");
    }

    #[test]
    fn validation() {
        assert!(FlowJoBiex::new(-0.5, 0.0, 4.5, 262144.0).is_err());
        assert!(FlowJoBiex::new(-10.0, -1.0, 4.5, 262144.0).is_err());
        assert!(FlowJoBiex::new(-10.0, 0.0, 0.0, 262144.0).is_err());
        assert!(FlowJoBiex::new(-10.0, 0.0, 0.4, 262144.0).is_err()); // 0.4 < log10(10)/2
        assert!(FlowJoBiex::new(-10.0, 0.0, 4.5, 0.0).is_err());
        assert!(FlowJoBiex::new(f64::NAN, 0.0, 4.5, 1.0).is_err());
        assert!(FlowJoBiex::new(-1.0, 0.0, 4.5, 262144.0).is_ok());
        assert!(FlowJoBiex::new(-1000.0, 1.0, 4.5, 262144.0).is_ok());
    }
}
