//! Scale transforms: the Gating-ML 2.0 family (flin, flog, fasinh, fratio,
//! logicle, hyperlog), FlowJo's biex, and the plain arcsinh of mass cytometry.
//!
//! Every one-input transform implements [`Transform`]. Parameters live in a
//! [`TransformSpec`] (what a Gating-ML or FlowJo document says); [`TransformSpec::build`]
//! validates them once and precomputes everything, so evaluating a value never
//! allocates. Output scale: the Gating-ML unit scale (top of scale ≈ 1) for all
//! kinds except [`Arcsinh`], which is the plain `asinh(x / cofactor)`.
//!
//! `fratio` takes two inputs, so it is the free function [`ratio`] (and
//! [`ratio_slice`]) rather than a [`Transform`].

mod biex;
mod hyperlog;
mod logicle;
mod simple;

#[cfg(test)]
mod tests;

use rayon::prelude::*;

use crate::error::{Error, Result};

pub use biex::{FlowJoBiex, FLOWJO_BIEX_CHANNELS};
pub use hyperlog::Hyperlog;
pub use logicle::Logicle;
pub use simple::{ratio, ratio_slice, Arcsinh, Asinh, Linear, Log};

/// A one-input scale transform with its inverse.
pub trait Transform: Send + Sync + std::fmt::Debug {
    /// Data value → scale value.
    fn apply(&self, x: f64) -> f64;

    /// Scale value → data value.
    fn inverse(&self, y: f64) -> f64;

    /// True when `apply` is strictly increasing over its domain, so a gate can
    /// map its bounds back to data space through `inverse`.
    fn is_monotone(&self) -> bool {
        true
    }

    /// `out[i] = apply(xs[i])`. Pass equal lengths (checked in debug builds;
    /// otherwise only the common prefix is written). A default method is compiled
    /// per implementing type, so the loop calls `apply` statically.
    /// [`apply_par`] is the checked, parallel version.
    fn apply_slice(&self, xs: &[f64], out: &mut [f64]) {
        debug_assert_eq!(xs.len(), out.len());
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = self.apply(x);
        }
    }

    /// `out[i] = inverse(ys[i])`, with the same length rules as `apply_slice`.
    fn inverse_slice(&self, ys: &[f64], out: &mut [f64]) {
        debug_assert_eq!(ys.len(), out.len());
        for (o, &y) in out.iter_mut().zip(ys) {
            *o = self.inverse(y);
        }
    }
}

/// The parameters of one transform, as a document states them.
#[derive(Clone, Debug, PartialEq)]
pub enum TransformSpec {
    /// Gating-ML `flin`: (x + A) / (T + A).
    Linear { t: f64, a: f64 },
    /// Gating-ML `flog`: log10(x / T) / M + 1; NaN for x <= 0.
    Log { t: f64, m: f64 },
    /// Gating-ML `fasinh`.
    Asinh { t: f64, m: f64, a: f64 },
    /// Gating-ML `fratio`: A·(x1 − B)/(x2 − C). Two inputs: use [`ratio`];
    /// [`TransformSpec::build`] refuses it.
    Ratio { a: f64, b: f64, c: f64 },
    /// Gating-ML `logicle`.
    Logicle { t: f64, w: f64, m: f64, a: f64 },
    /// Gating-ML `hyperlog`.
    Hyperlog { t: f64, w: f64, m: f64, a: f64 },
    /// FlowJo "biex", as FlowJo parameterises it (width basis is negative).
    /// Output y = FlowJo channel / 4096 (see [`FlowJoBiex`]).
    FlowJoBiex {
        width_basis: f64,
        negative_decades: f64,
        positive_decades: f64,
        max_value: f64,
    },
    /// asinh(x / cofactor), the mass/spectral cytometry convention.
    Arcsinh { cofactor: f64 },
}

impl TransformSpec {
    /// Validate the parameters and precompute the transform.
    pub fn build(&self) -> Result<Box<dyn Transform>> {
        Ok(match *self {
            Self::Linear { t, a } => Box::new(Linear::new(t, a)?),
            Self::Log { t, m } => Box::new(Log::new(t, m)?),
            Self::Asinh { t, m, a } => Box::new(Asinh::new(t, m, a)?),
            Self::Ratio { .. } => {
                return Err(Error::InvalidArgument(
                    "fratio takes two dimensions; evaluate it with transforms::ratio".into(),
                ))
            }
            Self::Logicle { t, w, m, a } => Box::new(Logicle::new(t, w, m, a)?),
            Self::Hyperlog { t, w, m, a } => Box::new(Hyperlog::new(t, w, m, a)?),
            Self::FlowJoBiex {
                width_basis,
                negative_decades,
                positive_decades,
                max_value,
            } => Box::new(FlowJoBiex::new(
                width_basis,
                negative_decades,
                positive_decades,
                max_value,
            )?),
            Self::Arcsinh { cofactor } => Box::new(Arcsinh::new(cofactor)?),
        })
    }

    /// Check the parameters without keeping the built transform (for
    /// `Ratio`, which cannot be built: all three must be finite).
    pub fn validate(&self) -> Result<()> {
        match *self {
            Self::Ratio { a, b, c } => {
                finite("fratio", "A", a)?;
                finite("fratio", "B", b)?;
                finite("fratio", "C", c)
            }
            _ => self.build().map(|_| ()),
        }
    }
}

/// Values per rayon task in the parallel helpers. Fixed, so the split never
/// depends on the thread count (each value is computed independently anyway,
/// which is what makes the parallel result bit-identical to the serial one).
pub const PAR_CHUNK: usize = 16 * 1024;

/// `out[i] = t.apply(xs[i])`, in parallel; bit-identical to `apply_slice`.
pub fn apply_par(t: &dyn Transform, xs: &[f64], out: &mut [f64]) -> Result<()> {
    same_len(xs, out)?;
    if xs.len() <= PAR_CHUNK {
        t.apply_slice(xs, out);
        return Ok(());
    }
    xs.par_chunks(PAR_CHUNK)
        .zip(out.par_chunks_mut(PAR_CHUNK))
        .for_each(|(x, o)| t.apply_slice(x, o));
    Ok(())
}

/// `out[i] = t.inverse(ys[i])`, in parallel; bit-identical to `inverse_slice`.
pub fn inverse_par(t: &dyn Transform, ys: &[f64], out: &mut [f64]) -> Result<()> {
    same_len(ys, out)?;
    if ys.len() <= PAR_CHUNK {
        t.inverse_slice(ys, out);
        return Ok(());
    }
    ys.par_chunks(PAR_CHUNK)
        .zip(out.par_chunks_mut(PAR_CHUNK))
        .for_each(|(y, o)| t.inverse_slice(y, o));
    Ok(())
}

fn same_len(a: &[f64], out: &[f64]) -> Result<()> {
    if a.len() == out.len() {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "transform input has {} values but the output has room for {}",
            a.len(),
            out.len()
        )))
    }
}

/// Error unless `v` is finite.
fn finite(kind: &str, name: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(kind, format!("{name} must be finite, got {v}")))
    }
}

/// Error unless `v` is finite and > 0.
fn positive(kind: &str, name: &str, v: f64) -> Result<()> {
    finite(kind, name, v)?;
    if v > 0.0 {
        Ok(())
    } else {
        Err(invalid(kind, format!("{name} must be > 0, got {v}")))
    }
}

fn invalid(kind: &str, msg: String) -> Error {
    Error::InvalidArgument(format!("{kind}: {msg}"))
}
