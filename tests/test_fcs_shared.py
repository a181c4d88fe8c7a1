"""The reader against the real files under ../shared/data: truth arrays, FlowKit and FlowIO."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import cd38
from conftest import DATA, needs_data, shared_fcs_files

pytestmark = needs_data

# Files FlowKit 1.3.2 cannot open, and why (asserted below, so this list cannot rot).
FLOWKIT_CANNOT = {
    "variable_int_example.fcs": "Timestep",
    "data_start_offset_discrepancy_example.fcs": "Timestep|discrepancy",
    "data_stop_offset_discrepancy_example.fcs": "Timestep|discrepancy",
    "coulter.lmd": "multiple data sets",
}


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


FILES = shared_fcs_files()


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_every_shared_file_reads(path: Path) -> None:
    s = cd38.read_fcs(path)
    ev = s.to_numpy()
    assert ev.shape == (s.n_events, len(s.channels)) == (s.n_events, s.n_channels)
    assert len(s.markers) == len(s.channels)
    assert int(s.keywords["$TOT"]) == s.n_events
    assert not ev.flags.writeable
    meta = cd38.read_fcs_metadata(path)
    assert meta.channels == s.channels
    assert dict(meta.keywords) == dict(s.keywords)
    with pytest.raises(cd38.InvalidArgumentError):
        meta.to_numpy()


def test_data1_truth(data_dir: Path) -> None:
    s = cd38.read_fcs(data_dir / "gatingml2" / "data1.fcs")
    assert s.version == "FCS2.0"
    assert s.channels == ["FSC-H", "SSC-H", "FL1-H", "FL2-H", "FL3-H", "FL2-A", "FL4-H", "Time"]
    assert s.markers[2] == "CD4 FITC"
    assert s.markers[5] == ""
    np.testing.assert_allclose(
        s.to_numpy(), np.load(data_dir / "fcs/truth/data1_preprocessed.npy"), rtol=1e-12, atol=0
    )
    np.testing.assert_array_equal(s.raw_numpy(), np.load(data_dir / "fcs/truth/data1_original_events.npy"))
    # The empty-value trap: keywords after an empty value are not merged.
    assert s.keywords["$P8N"] == "Time"
    assert not s.repairs


def test_b01_truth_24bit_mask_and_timestep(data_dir: Path) -> None:
    s = cd38.read_fcs(data_dir / "fcs/flowio/B01_KC-A-W---91-US.fcs")
    truth = np.load(data_dir / "fcs/truth/B01_KC-A-W---91-US_preprocessed_events.npy")
    np.testing.assert_array_equal(s.to_numpy(), truth)
    assert s.spillover is not None and s.spillover.source == "$SPILLOVER"
    assert s.spillover.matrix.shape == (8, 8)


def test_variable_int_raw_values(data_dir: Path) -> None:
    s = cd38.read_fcs(data_dir / "fcs/flowio/variable_int_example.fcs")
    expected = [
        49135,
        61373,
        48575,
        49135,
        61373,
        48575,
        7523,
        598,
        49135,
        61373,
        48575,
        49135,
        61373,
        48575,
        28182,
        61200,
        48575,
        49135,
        32445,
        30797,
        19057,
        49135,
        61373,
        48575,
        5969,
        8265081,
        61266,
        48575,
        49135,
        20925,
        61265,
        48575,
        27961,
        25200,
        61287,
        48575,
        9795,
        49135,
        29117,
        49135,
        61373,
        48575,
        61228,
        48575,
        22,
        21760,
        49135,
        20413,
        49135,
        23997,
        19807,
        15691602,
    ]
    assert s.raw_numpy().ravel().tolist() == expected
    assert [r.code for r in s.repairs] == ["timestep_not_numeric"]
    with pytest.raises(cd38.FCSError, match="TIMESTEP"):
        cd38.read_fcs(data_dir / "fcs/flowio/variable_int_example.fcs", strict=True)


@pytest.mark.parametrize(
    "name", ["data_start_offset_discrepancy_example.fcs", "data_stop_offset_discrepancy_example.fcs"]
)
def test_offset_discrepancy_uses_text_offsets(data_dir: Path, name: str) -> None:
    path = data_dir / "fcs/flowkit" / name
    s = cd38.read_fcs(path)
    assert "data_offsets_disagree" in [r.code for r in s.repairs]
    reference = cd38.read_fcs(data_dir / "fcs/flowio/variable_int_example.fcs")
    np.testing.assert_array_equal(s.raw_numpy(), reference.raw_numpy())
    with pytest.raises(cd38.FCSError, match=name):
        cd38.read_fcs(path, strict=True)


def test_coulter_two_datasets(data_dir: Path) -> None:
    import flowio

    path = data_dir / "fcs/flowkit/coulter.lmd"
    sets = cd38.read_fcs_datasets(path)
    assert [s.version for s in sets] == ["FCS2.0", "FCS3.0"]
    assert cd38.read_fcs(path, dataset=1).n_events == sets[1].n_events == 18110
    with pytest.raises(cd38.InvalidArgumentError, match="2 data set"):
        cd38.read_fcs(path, dataset=2)
    fio = flowio.read_multiple_data_sets(str(path), ignore_offset_error=True)
    assert len(fio) == 2
    for ours, theirs in zip(sets, fio, strict=True):
        ref = np.reshape(np.asarray(theirs.as_array(preprocess=True), dtype=float), ours.to_numpy().shape)
        np.testing.assert_allclose(ours.to_numpy(), ref, rtol=1e-12)


def test_utf8_text(data_dir: Path) -> None:
    s = cd38.read_fcs(data_dir / "fcs/flowio/G11.fcs")
    assert s.text_encoding == "utf-8"
    assert any("™" in m for m in s.markers)


def test_form_feed_delimiter_bcell_panel(data_dir: Path) -> None:
    s = cd38.read_fcs(data_dir / "fcs/flowkit/index_sorted_example.fcs")
    assert s.n_events == 384
    assert {"CD19", "CD21", "CD23", "CD138"} <= {m.split(";")[0] for m in s.markers if m}


def _flowkit_sample(path: Path):  # type: ignore[no-untyped-def]
    import flowkit as fk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fk.Sample(str(path))
        except Exception:
            # FlowKit refuses the common ΔEND=+1 error unless told to ignore it.
            return fk.Sample(str(path), ignore_offset_error=True)


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_matches_flowkit(path: Path) -> None:
    pytest.importorskip("flowkit")
    s = cd38.read_fcs(path)
    if path.name in FLOWKIT_CANNOT:
        with pytest.raises(Exception, match=FLOWKIT_CANNOT[path.name]):
            _flowkit_sample(path)
        return
    k = _flowkit_sample(path)
    assert list(k.pnn_labels) == s.channels
    np.testing.assert_allclose(s.to_numpy(), k.get_events(source="raw"), rtol=1e-6, atol=0)


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_raw_matches_flowio(path: Path) -> None:
    import flowio

    sets = flowio.read_multiple_data_sets(str(path), ignore_offset_error=True, ignore_offset_discrepancy=True)
    for i, theirs in enumerate(sets):
        ours = cd38.read_fcs(path, dataset=i)
        ref = np.asarray(theirs.as_array(preprocess=False), dtype=float).reshape(ours.n_events, -1)
        np.testing.assert_array_equal(ours.raw_numpy().astype(float), ref)


def test_spillover_keywords_parse(data_dir: Path) -> None:
    s = cd38.read_fcs(data_dir / "fcs/flowkit/test_comp_example.fcs")
    assert s.spillover is not None
    assert s.spillover.detectors[:2] == ["Ax488-A", "PE-A"]
    assert np.allclose(np.diag(s.spillover.matrix), 1.0)
    csv = (DATA / "fcs/flowkit/comp_complete_example.csv").read_text().splitlines()
    assert csv[0].split(",")[:2] == ["Ax488-A", "PE-A"]
