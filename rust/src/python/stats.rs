//! Bindings for population statistics.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::errors::to_pyerr;
use super::fcs::{scales_from, ScaleTuple};
use super::gating::PyMembers;
use crate::error::Error;
use crate::stats::{compute, compute_members, Request, Stat};

/// Statistics per population x column, flattened (population, column, statistic).
/// `scales` as for `gate_events`.
#[pyfunction]
#[pyo3(signature = (events, populations, columns, stats, percentiles, scales=Vec::new()))]
fn population_stats<'py>(
    py: Python<'py>,
    events: &Bound<'py, PyAny>,
    populations: Vec<Option<PyReadonlyArray1<'py, u32>>>,
    columns: Vec<usize>,
    stats: Vec<String>,
    percentiles: Vec<f64>,
    scales: Vec<ScaleTuple>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let scales = scales_from(scales).map_err(to_pyerr)?;
    let req = request(stats, percentiles)?;
    let pops: Vec<Option<&[u32]>> = populations
        .iter()
        .map(|p| p.as_ref().map(|a| a.as_slice()).transpose())
        .collect::<Result<_, _>>()
        .map_err(|e| to_pyerr(Error::InvalidArgument(e.to_string())))?;
    let out = with_matrix!(py, events, |s, p| compute(
        s, p, &pops, &columns, &req, &scales
    ))?;
    let flat: Vec<f64> = out.into_iter().flatten().flatten().collect();
    Ok(flat.into_pyarray(py))
}

/// `population_stats` for nodes of a gating result (`members`, from
/// `gate_events` on these events): order statistics classify events straight
/// from the members' bits.
#[pyfunction]
#[pyo3(signature = (events, members, nodes, columns, stats, percentiles, scales=Vec::new()))]
#[allow(clippy::too_many_arguments)]
fn population_stats_members<'py>(
    py: Python<'py>,
    events: &Bound<'py, PyAny>,
    members: &Bound<'py, PyMembers>,
    nodes: Vec<usize>,
    columns: Vec<usize>,
    stats: Vec<String>,
    percentiles: Vec<f64>,
    scales: Vec<ScaleTuple>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let scales = scales_from(scales).map_err(to_pyerr)?;
    let req = request(stats, percentiles)?;
    let m = &members.get().inner;
    let out = with_matrix!(py, events, |s, p| compute_members(
        s, p, m, &nodes, &columns, &req, &scales
    ))?;
    let flat: Vec<f64> = out.into_iter().flatten().flatten().collect();
    Ok(flat.into_pyarray(py))
}

fn request(stats: Vec<String>, percentiles: Vec<f64>) -> PyResult<Request> {
    let stats = stats
        .iter()
        .map(|s| {
            Stat::parse(s)
                .ok_or_else(|| to_pyerr(Error::InvalidArgument(format!("unknown statistic {s:?}"))))
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(Request { stats, percentiles })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(population_stats_members, m)?)?;
    m.add_function(wrap_pyfunction!(population_stats, m)?)?;
    Ok(())
}
