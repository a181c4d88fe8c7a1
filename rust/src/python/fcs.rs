//! Bindings for FCS reading and writing.

use std::path::PathBuf;

use numpy::{IntoPyArray, PyArrayMethods};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;

use super::errors::{guarded, to_pyerr};
use crate::error::Error;
use crate::fcs::{
    self, write, ByteOrder, DataMode, Dataset, Events, ReadOptions, Scale, ValueKind,
};

/// A channel's scale as Python sees it (see [`PyDataset::scales`]).
pub(super) type ScaleTuple = Option<(String, Vec<f64>)>;

fn scale_tuple(s: Scale) -> ScaleTuple {
    match s {
        Scale::Identity => None,
        Scale::Gain(g) => Some(("gain".into(), vec![g])),
        Scale::Log {
            decades,
            offset,
            range,
        } => Some(("log".into(), vec![decades, offset, range])),
        Scale::TimeStep(t) => Some(("timestep".into(), vec![t])),
    }
}

/// Scales handed back by Python (from [`PyDataset::scales`]) for kernels that
/// read stored values: an empty list means every channel as stored.
pub(super) fn scales_from(tuples: Vec<ScaleTuple>) -> crate::error::Result<Vec<Scale>> {
    let bad = |k: &str| Error::InvalidArgument(format!("unknown channel scale {k:?}"));
    tuples
        .into_iter()
        .map(|t| {
            Ok(match t {
                None => Scale::Identity,
                Some((k, v)) => match (k.as_str(), v.as_slice()) {
                    ("gain", &[g]) if g.is_finite() && g > 0.0 => Scale::Gain(g),
                    ("timestep", &[t]) if t.is_finite() && t > 0.0 => Scale::TimeStep(t),
                    ("log", &[decades, offset, range]) => Scale::Log {
                        decades,
                        offset,
                        range,
                    },
                    _ => return Err(bad(&k)),
                },
            })
        })
        .collect()
}

/// One decoded data set, as plain Python values plus the event matrix.
#[pyclass(frozen, module = "cd38._core", name = "Dataset")]
pub struct PyDataset {
    #[pyo3(get)]
    version: String,
    #[pyo3(get)]
    keywords: Vec<(String, String)>,
    #[pyo3(get)]
    channels: Vec<String>,
    #[pyo3(get)]
    markers: Vec<String>,
    #[pyo3(get)]
    n_events: usize,
    #[pyo3(get)]
    repairs: Vec<(String, String)>,
    /// (detectors, row-major matrix, source keyword)
    #[pyo3(get)]
    spillover: Option<(Vec<String>, Vec<f64>, String)>,
    #[pyo3(get)]
    encoding: String,
    #[pyo3(get)]
    offset: u64,
    #[pyo3(get)]
    data_segment: Option<(u64, u64)>,
    #[pyo3(get)]
    datatypes: Vec<String>,
    #[pyo3(get)]
    bits: Vec<Option<u32>>,
    #[pyo3(get)]
    time_index: Option<usize>,
    /// Per channel, how stored values become scale values: None (as stored),
    /// ("gain", [g]), ("log", [decades, offset, range]) or ("timestep", [t]).
    #[pyo3(get)]
    scales: Vec<ScaleTuple>,
    #[pyo3(get)]
    byte_order: Option<String>,
    #[pyo3(get)]
    zero_copy: bool,
    #[pyo3(get)]
    events: Option<Py<PyAny>>,
}

fn mode(data: &str) -> PyResult<DataMode> {
    match data {
        "scale" => Ok(DataMode::Scale),
        "raw" => Ok(DataMode::Raw),
        "none" => Ok(DataMode::Skip),
        "view" => Ok(DataMode::ScaleOrView),
        other => Err(to_pyerr(Error::InvalidArgument(format!(
            "data must be 'scale', 'raw', 'view' or 'none', not {other:?}"
        )))),
    }
}

fn convert(py: Python<'_>, ds: Dataset) -> PyResult<PyDataset> {
    let p = ds.channels.len();
    let n = ds.n_events;
    let events = match ds.events {
        None => None,
        Some(Events::F32(v)) => Some(v.into_pyarray(py).reshape([n, p])?.into_any().unbind()),
        Some(Events::F64(v)) => Some(v.into_pyarray(py).reshape([n, p])?.into_any().unbind()),
    };
    let byte_order = ds.byte_order.as_ref().map(|o| match o {
        ByteOrder::Little => "little".to_string(),
        ByteOrder::Big => "big".to_string(),
        ByteOrder::Mixed(p) => p
            .iter()
            .map(|s| (s + 1).to_string())
            .collect::<Vec<_>>()
            .join(","),
    });
    Ok(PyDataset {
        version: ds.version,
        keywords: ds
            .keywords
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        markers: ds.channels.iter().map(|c| c.marker.clone()).collect(),
        datatypes: ds
            .channels
            .iter()
            .map(|c| c.kind.code().to_string())
            .collect(),
        bits: ds.channels.iter().map(|c| c.bits).collect(),
        time_index: ds.channels.iter().position(|c| c.is_time),
        scales: ds.channels.iter().map(|c| scale_tuple(c.scale)).collect(),
        channels: ds.channels.into_iter().map(|c| c.name).collect(),
        n_events: n,
        repairs: ds
            .repairs
            .into_iter()
            .map(|r| (r.code, r.message))
            .collect(),
        spillover: ds
            .spillover
            .map(|s| (s.detectors, s.matrix, s.source.unwrap_or_default())),
        encoding: match ds.encoding {
            fcs::TextEncoding::Utf8 => "utf-8".into(),
            fcs::TextEncoding::Latin1 => "latin-1".into(),
        },
        offset: ds.offset,
        data_segment: ds.data_segment,
        byte_order,
        zero_copy: ds.zero_copy,
        events,
    })
}

/// Read data set `dataset` of the FCS file at `path`.
#[pyfunction]
#[pyo3(signature = (path, dataset=0, strict=false, data="scale"))]
fn read_fcs(
    py: Python<'_>,
    path: PathBuf,
    dataset: usize,
    strict: bool,
    data: &str,
) -> PyResult<PyDataset> {
    let opts = ReadOptions {
        dataset,
        strict,
        data: mode(data)?,
    };
    let ds = py
        .detach(|| guarded(|| fcs::read_path(&path, &opts)))
        .map_err(to_pyerr)?;
    convert(py, ds)
}

/// Read every data set of the FCS file at `path`.
#[pyfunction]
#[pyo3(signature = (path, strict=false, data="scale"))]
fn read_fcs_all(
    py: Python<'_>,
    path: PathBuf,
    strict: bool,
    data: &str,
) -> PyResult<Vec<PyDataset>> {
    let m = mode(data)?;
    let all = py
        .detach(|| guarded(|| fcs::read_path_all(&path, strict, m)))
        .map_err(to_pyerr)?;
    all.into_iter().map(|d| convert(py, d)).collect()
}

/// Parse an FCS file held in memory; `name` is used in error messages.
#[pyfunction]
#[pyo3(signature = (buffer, name="<bytes>", dataset=0, strict=false, data="scale"))]
fn read_fcs_bytes(
    py: Python<'_>,
    buffer: &[u8],
    name: &str,
    dataset: usize,
    strict: bool,
    data: &str,
) -> PyResult<PyDataset> {
    let opts = ReadOptions {
        dataset,
        strict,
        data: mode(data)?,
    };
    let ds = py
        .detach(|| guarded(|| fcs::read_bytes(buffer, &opts)))
        .map_err(|e| to_pyerr(e.with_path(name)))?;
    convert(py, ds)
}

fn parse_kind(s: &str) -> PyResult<ValueKind> {
    match s.to_ascii_uppercase().as_str() {
        "I" => Ok(ValueKind::Uint),
        "F" => Ok(ValueKind::F32),
        "D" => Ok(ValueKind::F64),
        "A" => Ok(ValueKind::Ascii),
        _ => Err(to_pyerr(Error::InvalidArgument(format!(
            "datatype must be 'I', 'F', 'D' or 'A', not {s:?}"
        )))),
    }
}

fn parse_order(s: &str) -> PyResult<ByteOrder> {
    match s {
        "little" => Ok(ByteOrder::Little),
        "big" => Ok(ByteOrder::Big),
        other => ByteOrder::parse(other).ok_or_else(|| {
            to_pyerr(Error::InvalidArgument(format!(
                "byteorder must be 'little', 'big' or a $BYTEORD such as '3,4,1,2', not {other:?}"
            )))
        }),
    }
}

/// The writer's spec from the arguments both writing entry points take.
fn write_spec(
    channels: Vec<String>,
    markers: Vec<String>,
    keywords: Vec<(String, String)>,
    datatype: &str,
    bits: Vec<u32>,
    byteorder: &str,
) -> PyResult<write::WriteSpec> {
    Ok(write::WriteSpec {
        channels,
        markers,
        keywords,
        kind: parse_kind(datatype)?,
        bits,
        byte_order: parse_order(byteorder)?,
    })
}

/// Write a C-contiguous 2-D float32/float64 array as an FCS 3.1 file, atomically.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (path, data, channels, markers, keywords, datatype, bits, byteorder))]
fn write_fcs(
    py: Python<'_>,
    path: PathBuf,
    data: &Bound<'_, PyAny>,
    channels: Vec<String>,
    markers: Vec<String>,
    keywords: Vec<(String, String)>,
    datatype: &str,
    bits: Vec<u32>,
    byteorder: &str,
) -> PyResult<u64> {
    let spec = write_spec(channels, markers, keywords, datatype, bits, byteorder)?;
    let cols = data
        .getattr("shape")?
        .extract::<(usize, usize)>()
        .map_err(|_| to_pyerr(Error::InvalidArgument("data must be a 2-D array".into())))?
        .1;
    if cols != spec.channels.len() {
        return Err(to_pyerr(Error::InvalidArgument(format!(
            "data has {cols} columns but {} channel names were given",
            spec.channels.len()
        ))));
    }
    with_matrix!(py, data, |s, _p| write::write_path(&path, s.into(), &spec))
}

/// Writes an FCS 3.1 file of a known event count chunk by chunk (see write::StreamWriter).
#[pyclass(module = "cd38._core", name = "FcsStreamWriter")]
pub struct PyStreamWriter {
    inner: Option<write::StreamWriter>,
}

#[pymethods]
impl PyStreamWriter {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (path, channels, markers, keywords, datatype, bits, byteorder, n_events))]
    fn new(
        path: PathBuf,
        channels: Vec<String>,
        markers: Vec<String>,
        keywords: Vec<(String, String)>,
        datatype: &str,
        bits: Vec<u32>,
        byteorder: &str,
        n_events: usize,
    ) -> PyResult<Self> {
        let spec = write_spec(channels, markers, keywords, datatype, bits, byteorder)?;
        let inner =
            guarded(|| write::StreamWriter::create(&path, spec, n_events)).map_err(to_pyerr)?;
        Ok(PyStreamWriter { inner: Some(inner) })
    }

    /// Append whole rows from a C-contiguous 2-D float32/float64 array.
    fn write(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let Some(w) = self.inner.as_mut() else {
            return Err(to_pyerr(Error::InvalidArgument("writer is closed".into())));
        };
        with_matrix!(py, data, |s, _p| w.write_rows(s.into()))
    }

    /// Check the count, sync and rename into place; returns the file size.
    fn finish(&mut self) -> PyResult<u64> {
        let w = self
            .inner
            .take()
            .ok_or_else(|| to_pyerr(Error::InvalidArgument("writer is closed".into())))?;
        guarded(|| w.finish()).map_err(to_pyerr)
    }

    /// Give up: the temporary file is removed and nothing appears at the path.
    fn abort(&mut self) {
        self.inner = None;
    }
}

/// Hex BLAKE3 of the file at `path`, hashed in parallel with the GIL released.
#[pyfunction]
fn file_blake3(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    py.detach(|| guarded(|| crate::digest::file_blake3(&path)))
        .map_err(to_pyerr)
}

/// Hex BLAKE3 of a read-only, contiguous buffer (bytes, or the read-only
/// mmap a zero-copy sample views, so its pages are not mapped a second time).
#[pyfunction]
fn blake3_buffer(py: Python<'_>, data: PyBuffer<u8>) -> PyResult<String> {
    let bytes = readonly_bytes(&data, "blake3_buffer")?;
    py.detach(|| guarded(|| Ok(crate::digest::blake3_hex(bytes))))
        .map_err(to_pyerr)
}

/// The bytes of a read-only, C-contiguous buffer, for as long as `data`
/// keeps them exported; `who` names the caller in the error otherwise.
fn readonly_bytes<'a>(data: &'a PyBuffer<u8>, who: &str) -> PyResult<&'a [u8]> {
    if !data.readonly() || !data.is_c_contiguous() {
        return Err(to_pyerr(Error::InvalidArgument(format!(
            "{who} needs a read-only contiguous buffer"
        ))));
    }
    let len = data.len_bytes();
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: the exporter holds `len` contiguous bytes at `buf_ptr` for as
    // long as `data` keeps the buffer exported (the returned borrow cannot
    // outlive it), and it declared them read-only, so no one writes them
    // while the slice is in use.
    Ok(unsafe { std::slice::from_raw_parts(data.buf_ptr() as *const u8, len) })
}

/// BLAKE3 of a read-only contiguous buffer, computed in the background at
/// idle priority from construction on (see `digest::IdleDigest`);
/// `hexdigest()` finishes it (GIL released) and returns it.
#[pyclass(name = "Blake3Job", module = "cd38._core")]
struct PyBlake3Job {
    // Dropped first (fields drop in order): joins the thread reading `data`.
    digest: crate::digest::IdleDigest,
    _data: PyBuffer<u8>,
}

#[pymethods]
impl PyBlake3Job {
    #[new]
    fn new(data: PyBuffer<u8>) -> PyResult<Self> {
        let bytes = readonly_bytes(&data, "Blake3Job")?;
        // SAFETY: `data`, stored beside it, keeps the bytes exported (and
        // read-only) until after `digest` is dropped; moving the PyBuffer
        // does not move the bytes.
        let digest = unsafe { crate::digest::IdleDigest::start(bytes) };
        Ok(PyBlake3Job {
            digest,
            _data: data,
        })
    }

    fn hexdigest(&mut self, py: Python<'_>) -> String {
        let digest = &mut self.digest;
        py.detach(|| digest.finish())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBlake3Job>()?;
    m.add_function(wrap_pyfunction!(file_blake3, m)?)?;
    m.add_function(wrap_pyfunction!(blake3_buffer, m)?)?;
    m.add_class::<PyStreamWriter>()?;
    m.add_class::<PyDataset>()?;
    m.add_function(wrap_pyfunction!(read_fcs, m)?)?;
    m.add_function(wrap_pyfunction!(read_fcs_all, m)?)?;
    m.add_function(wrap_pyfunction!(read_fcs_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(write_fcs, m)?)?;
    Ok(())
}
