"""The baselines `make bench` compares `assess` with must give the same answers as it.

A speed-up over a row-by-row version, or an overhead over a NumPy kernel, means
something only if both compute exactly what `assess` computes. These tests prove that on
a synthetic log and on the public vignettes. Speed itself is never asserted here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # plain `pytest` does not put the project root on the path
    sys.path.insert(0, str(ROOT))

from benchmarks import kernel, rowwise  # noqa: E402
from benchmarks.run import targets  # noqa: E402
from ypsi_audit.engine import assess  # noqa: E402
from ypsi_audit.loading import load_incidents  # noqa: E402
from ypsi_audit.synth import generate  # noqa: E402

VIGNETTES = ROOT / "tests" / "data" / "cheshire_public.csv"
# One changed threshold per parameter, so every parameter is shown to be honoured.
OTHER_PARAMS = [
    {"under_age": 14},
    {"adult_age": 16},
    {"sexual_content_from": "nude"},
    {"wider_distribution_from": "shared_widely"},
    {"wide_age_gap_years": 1},
]


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return generate(seed=7, n=3000)


@pytest.fixture(scope="module")
def vignettes() -> pd.DataFrame:
    return load_incidents(VIGNETTES)


def ids_seen(column: pd.Series) -> set[str]:
    return {i for text in column.astype(str) for i in text.split(";") if i}


def test_the_synthetic_log_exercises_every_branch(synthetic: pd.DataFrame) -> None:
    """Agreement on a log without unknowns or gaps would prove little."""
    out = assess(synthetic)
    assert set(out["guidance_outcome"]) == {
        "refer_police",
        "handle_in_setting",
        "insufficient_information",
    }
    assert ids_seen(out["aggravating_factors"]) == set(rowwise.FACTORS)
    assert ids_seen(out["unknown_factors"]) == set(rowwise.FACTORS)
    assert out["experimental"].isna().any()
    assert len(set(out["consistency"])) == 7
    assert len(ids_seen(out["recording_gaps"])) == 6


@pytest.mark.parametrize("source", ["synthetic", "vignettes"])
def test_rowwise_agrees_with_assess(source: str, request: pytest.FixtureRequest) -> None:
    frame = request.getfixturevalue(source)
    wrong = rowwise.mismatches(frame)
    assert wrong.empty, wrong.head().to_string()


def test_rowwise_agrees_on_the_vignettes_answer_key(vignettes: pd.DataFrame) -> None:
    """The vignettes carry hand-worked answers; the row-by-row version gets them too."""
    ours = rowwise.as_text(rowwise.assess_rowwise(vignettes))
    expected = vignettes["expected_outcome"].astype(str).to_numpy()
    assert (ours["guidance_outcome"].to_numpy() == expected).all()


@pytest.mark.parametrize("params", OTHER_PARAMS, ids=lambda p: next(iter(p)))
def test_rowwise_follows_the_parameters(synthetic: pd.DataFrame, params: dict) -> None:
    ours = rowwise.as_text(rowwise.assess_rowwise(synthetic, params))
    changed = rowwise.as_text(assess(synthetic, params=params))
    default = rowwise.as_text(assess(synthetic))
    assert ours.equals(changed)
    assert not ours.equals(default), "the parameter made no difference: a weak test"


def test_rowwise_mismatches_reports_a_disagreement(synthetic: pd.DataFrame) -> None:
    """The check run before timing would catch a baseline that computes something else."""
    other = assess(synthetic, params={"wide_age_gap_years": 1})
    wrong = rowwise.mismatches(synthetic, expected=other)
    assert len(wrong) > 0
    assert "aggravating_factors_rowwise" in wrong.columns


@pytest.mark.parametrize("source", ["synthetic", "vignettes"])
def test_kernel_agrees_with_the_engine(source: str, request: pytest.FixtureRequest) -> None:
    frame = request.getfixturevalue(source)
    assert kernel.mismatches(frame) == []


@pytest.mark.parametrize("params", OTHER_PARAMS, ids=lambda p: next(iter(p)))
def test_kernel_follows_the_parameters(synthetic: pd.DataFrame, params: dict) -> None:
    ours = kernel.kernel(kernel.prepare(synthetic), {**rowwise.DEFAULTS, **params})
    theirs = np.asarray(assess(synthetic, params=params)["guidance_outcome"].cat.codes)
    assert (ours == theirs).all()


def test_kernel_outcome_codes_name_the_contract_outcomes(vignettes: pd.DataFrame) -> None:
    codes = kernel.kernel(kernel.prepare(vignettes))
    names = pd.Categorical.from_codes(
        codes, ["refer_police", "handle_in_setting", "insufficient_information"]
    )
    assert list(names) == list(assess(vignettes)["guidance_outcome"])


def test_targets_mark_missed_and_unmeasured_goals() -> None:
    """The report's met? column: a miss is NO, an unmeasured goal is n/a, not a pass."""
    rows = [
        {"operation": "assess", "incidents": 1_000_000, "median_s": 0.2, "peak_mib": 100.0},
        {"operation": "assess", "incidents": 100_000, "median_s": 0.01},
        {"operation": "kernel", "incidents": 1_000_000, "median_s": 0.02},
        {
            "operation": "rowwise",
            "incidents": 1_000_000,
            "median_s": 60.0,
            "extrapolated": "extrapolated linearly from 100,000",
        },
    ]
    found = {t["target"]: t for t in targets(rows, help_s=0.05)}
    assert found["assess 1,000,000"]["met"] is True
    assert found["assess overhead over NumPy kernel (b), 1,000,000"]["met"] is False
    assert found["assess speed-up over row-by-row (a), 1,000,000"]["measured"] == 300.0
    assert "extrapolated" in found["assess speed-up over row-by-row (a), 1,000,000"]["note"]
    assert found["assess s/incident, 1,000,000 over 100,000"]["met"] is False
    assert found["validate 1,000,000"]["met"] is None
    assert found["report on the sample (598 incidents)"]["met"] is None  # not measured


def test_issue_16_targets_compare_load_with_pyarrow_and_time_the_sample_report() -> None:
    rows = [
        {"operation": "load_parquet", "incidents": 1_000_000, "median_s": 0.6},
        {"operation": "read_pyarrow", "incidents": 1_000_000, "median_s": 0.5},
        {"operation": "validate", "incidents": 1_000_000, "median_s": 3.5},
    ]
    found = {t["target"]: t for t in targets(rows, help_s=0.05, report_s=11.0)}
    ratio = found["load Parquet / pyarrow read into pandas, 1,000,000"]
    assert ratio["measured"] == pytest.approx(1.2) and ratio["met"] is True
    assert found["validate 1,000,000 (issue 16)"]["met"] is False  # 3.5 s against under 3 s
    assert found["validate 1,000,000"]["met"] is True  # issue 7's: under 5 s
    assert found["report on the sample (598 incidents)"]["met"] is True
