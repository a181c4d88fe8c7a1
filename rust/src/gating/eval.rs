//! Evaluating a [`Plan`] over an event matrix.
//!
//! Each population is a sorted list of event indices. A node is evaluated only
//! on its parent's events; its dimensions are computed (compensated, then
//! transformed) only for those events, and kept so that a later node whose
//! events are a subset (a descendant, or the same parent) gathers them instead
//! of computing again. Work is split into fixed chunks of the candidate list and
//! concatenated in order, so results are identical for any thread count.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::plan::{BoolOp, CompSpec, DimSpec, Node, Plan, Predicate, Source};
use crate::compensation::apply::Sample;
use crate::error::{Error, Result};
use crate::transforms::Transform;

const CHUNK: usize = 16_384;

/// The events a computation runs over: all of them, or a population's members.
#[derive(Clone, Copy)]
enum Events<'a> {
    All(usize),
    Some(&'a [u32]),
}

impl Events<'_> {
    fn len(&self) -> usize {
        match self {
            Events::All(n) => *n,
            Events::Some(v) => v.len(),
        }
    }

    #[inline(always)]
    fn get(&self, i: usize) -> usize {
        match self {
            Events::All(_) => i,
            Events::Some(v) => v[i] as usize,
        }
    }
}

struct Data<'a, T> {
    values: &'a [T],
    p: usize,
}

impl<T: Sample> Data<'_, T> {
    #[inline(always)]
    fn raw(&self, event: usize, col: usize) -> f64 {
        self.values[event * self.p + col].to_f64()
    }

    /// The value of one column for one event, compensated when `comp` gives
    /// the column's position `k` among the detectors of a matrix.
    #[inline(always)]
    fn column(&self, event: usize, col: usize, comp: Option<(&CompSpec, usize)>) -> f64 {
        let Some((c, k)) = comp else {
            return self.raw(event, col);
        };
        let n = c.detectors.len();
        let row = &self.values[event * self.p..(event + 1) * self.p];
        let mut acc = 0.0;
        for (j, &d) in c.detectors.iter().enumerate() {
            acc += row[d].to_f64() * c.inverse[j * n + k];
        }
        acc
    }
}

/// One dimension ready to evaluate: its spec, compensation and built transform.
struct Dim<'a> {
    spec: &'a DimSpec,
    /// The matrix and the source columns' positions among its detectors
    /// (None for a column the matrix does not compensate).
    num: Option<(&'a CompSpec, usize)>,
    den: Option<(&'a CompSpec, usize)>,
    transform: Option<Box<dyn Transform>>,
}

impl Dim<'_> {
    #[inline(always)]
    fn value<T: Sample>(&self, data: &Data<'_, T>, event: usize) -> f64 {
        let v = match self.spec.source {
            Source::Channel(c) => data.column(event, c, self.num),
            Source::Ratio { num, den, a, b, c } => {
                let x1 = data.column(event, num, self.num);
                let x2 = data.column(event, den, self.den);
                crate::transforms::ratio(a, b, c, x1, x2)
            }
        };
        match &self.transform {
            Some(t) => t.apply(v),
            None => v,
        }
    }
}

/// Dimension values computed for the members of a population (`None` = all events).
struct Cached {
    basis: Option<usize>,
    values: Arc<Vec<f64>>,
}

fn compute<T: Sample>(dim: &Dim<'_>, data: &Data<'_, T>, events: Events<'_>) -> Vec<f64> {
    let mut out = vec![0f64; events.len()];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, o)| {
        for (k, v) in o.iter_mut().enumerate() {
            *v = dim.value(data, events.get(ci * CHUNK + k));
        }
    });
    out
}

/// Values of `basis_members` (sorted) picked out for `wanted` (a sorted subset).
fn gather_subset(
    basis_members: Events<'_>,
    basis_values: &[f64],
    wanted: &[u32],
) -> Option<Vec<f64>> {
    let mut out = Vec::with_capacity(wanted.len());
    match basis_members {
        Events::All(_) => {
            for &w in wanted {
                out.push(*basis_values.get(w as usize)?);
            }
        }
        Events::Some(basis) => {
            let mut j = 0usize;
            for &w in wanted {
                while j < basis.len() && basis[j] < w {
                    j += 1;
                }
                if j == basis.len() || basis[j] != w {
                    return None;
                }
                out.push(basis_values[j]);
            }
        }
    }
    Some(out)
}

fn is_ancestor_or_self(nodes: &[Node], ancestor: Option<usize>, node: Option<usize>) -> bool {
    let Some(a) = ancestor else { return true };
    let mut cur = node;
    while let Some(c) = cur {
        if c == a {
            return true;
        }
        cur = nodes[c].parent;
    }
    false
}

struct Evaluator<'a, T> {
    plan: &'a Plan,
    data: Data<'a, T>,
    n: usize,
    dims: Vec<Dim<'a>>,
    cache: HashMap<usize, Cached>,
    members: Vec<Vec<u32>>,
}

impl<'a, T: Sample> Evaluator<'a, T> {
    fn events(&self, basis: Option<usize>) -> Events<'_> {
        match basis {
            None => Events::All(self.n),
            Some(b) => Events::Some(&self.members[b]),
        }
    }

    /// Values of dimension `d` for the members of `basis`.
    fn values(&mut self, d: usize, basis: Option<usize>) -> Arc<Vec<f64>> {
        if let Some(c) = self.cache.get(&d) {
            if c.basis == basis {
                return Arc::clone(&c.values);
            }
            if is_ancestor_or_self(&self.plan.nodes, c.basis, basis) {
                if let Events::Some(w) = self.events(basis) {
                    if let Some(v) = gather_subset(self.events(c.basis), &c.values, w) {
                        return Arc::new(v);
                    }
                }
            }
        }
        let v = Arc::new(compute(&self.dims[d], &self.data, self.events(basis)));
        let replace = match self.cache.get(&d) {
            None => true,
            Some(c) => self.events(c.basis).len() < v.len(),
        };
        if replace {
            self.cache.insert(
                d,
                Cached {
                    basis,
                    values: Arc::clone(&v),
                },
            );
        }
        v
    }

    fn keep(&self, basis: Option<usize>, test: impl Fn(usize) -> bool + Sync) -> Vec<u32> {
        let events = self.events(basis);
        let chunks: Vec<Vec<u32>> = (0..events.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|ci| {
                let end = ((ci + 1) * CHUNK).min(events.len());
                (ci * CHUNK..end)
                    .filter(|&k| test(k))
                    .map(|k| events.get(k) as u32)
                    .collect()
            })
            .collect();
        chunks.concat()
    }

    fn node(&mut self, i: usize) -> Vec<u32> {
        let node = &self.plan.nodes[i];
        let basis = node.parent;
        match &node.predicate {
            Predicate::Rect { dims, mins, maxs } => {
                let cols: Vec<Arc<Vec<f64>>> =
                    dims.iter().map(|&d| self.values(d, basis)).collect();
                self.keep(basis, |k| {
                    cols.iter()
                        .zip(mins.iter().zip(maxs))
                        .all(|(c, (lo, hi))| c[k] >= *lo && c[k] < *hi)
                })
            }
            Predicate::Polygon { dims, vertices } => {
                let xs = self.values(dims[0], basis);
                let ys = self.values(dims[1], basis);
                self.keep(basis, |k| {
                    super::geometry::in_polygon(xs[k], ys[k], vertices)
                })
            }
            Predicate::Ellipsoid {
                dims,
                mean,
                inv_cov,
                d2,
            } => {
                let cols: Vec<Arc<Vec<f64>>> =
                    dims.iter().map(|&d| self.values(d, basis)).collect();
                self.keep(basis, |k| {
                    super::geometry::ellipsoid_distance2(|i| cols[i][k], mean, inv_cov) <= *d2
                })
            }
            Predicate::Boolean { op, operands } => self.boolean(*op, operands, basis),
        }
    }

    fn boolean(&self, op: BoolOp, operands: &[(usize, bool)], basis: Option<usize>) -> Vec<u32> {
        let words = self.n.div_ceil(64);
        let bits = |members: &[u32], complement: bool| {
            let mut b = vec![0u64; words];
            for &m in members {
                b[m as usize / 64] |= 1 << (m % 64);
            }
            if complement {
                for w in b.iter_mut() {
                    *w = !*w;
                }
            }
            b
        };
        let mut acc: Option<Vec<u64>> = None;
        for &(o, complement) in operands {
            let b = bits(&self.members[o], complement);
            acc = Some(match acc {
                None => b,
                Some(a) => a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| if op == BoolOp::Or { x | y } else { x & y })
                    .collect(),
            });
        }
        let mut acc = acc.unwrap_or_else(|| vec![0u64; words]);
        if op == BoolOp::Not {
            for w in acc.iter_mut() {
                *w = !*w;
            }
        }
        self.keep(basis, |k| {
            let e = self.events(basis).get(k);
            acc[e / 64] >> (e % 64) & 1 == 1
        })
    }
}

/// Evaluate `plan` on row-major `values` (n × p). Returns each node's members.
pub fn evaluate<T: Sample>(plan: &Plan, values: &[T], p: usize) -> Result<Vec<Vec<u32>>> {
    if p == 0 || values.len() % p != 0 {
        return Err(Error::InvalidArgument(format!(
            "{} values do not divide into rows of {p}",
            values.len()
        )));
    }
    let n = values.len() / p;
    if n > u32::MAX as usize {
        return Err(Error::InvalidArgument(format!(
            "{n} events is more than one gating pass handles (2^32 - 1)"
        )));
    }
    plan.validate(p)?;
    let dims = plan
        .dims
        .iter()
        .map(|spec| {
            let comp = spec.comp.and_then(|c| plan.comps.get(c));
            let at = |col: usize| {
                comp.and_then(|c| Some((c, c.detectors.iter().position(|&d| d == col)?)))
            };
            let (num, den) = match spec.source {
                Source::Channel(c) => (at(c), None),
                Source::Ratio { num, den, .. } => (at(num), at(den)),
            };
            Ok(Dim {
                spec,
                num,
                den,
                transform: spec.transform.as_ref().map(|t| t.build()).transpose()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut ev = Evaluator {
        plan,
        data: Data { values, p },
        n,
        dims,
        cache: HashMap::new(),
        members: Vec::with_capacity(plan.nodes.len()),
    };
    for i in 0..plan.nodes.len() {
        let m = ev.node(i);
        ev.members.push(m);
    }
    Ok(ev.members)
}
