"""`assess --engine duckdb`: the same rows held back, the same answers and the same
accounting as the pandas job, on clean and on messy logs, CSV and Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmarks.differential import CASES, differences
from benchmarks.random_log import random_frame
from ypsi_audit import contract, duck
from ypsi_audit.assessing import assess_file as pandas_job
from ypsi_audit.cli import main
from ypsi_audit.duck_job import assess_file as duck_job
from ypsi_audit.engine import assess
from ypsi_audit.resources import sample_log
from ypsi_audit.validation import RefusedInput

HEADER = (
    "Incident ID,setting_id,Incident Type,reported_on,decided_on,youngest_child_age,"
    "oldest_party_age,adult_involved,content_level,distribution,decision,image_viewed,"
    "viewing_authorised,rationale_recorded"
)
MESSY = (
    HEADER
    + """
INC-1,S01,Image Sharing,03/03/2025,2025-03-04,12,12,No,Nude,between parties,Referred Police,yes,,Y
INC-2,S01,image_sharing,2025-03-05,,fifteen,15,n,semi_nude,,handled_in_setting,no,,unknown
INC-3,S02,image_sharing,31/02/2025,,14,15,maybe,sexual_act,shared_widely,,1,0,0
INC-3,S02,online_sexual_contact,2025-01-10,2025-01-09,16,40,false,none,,referred_police,,,true
INC-5,S03,image_sharing,2099-01-01,,15,13,,Nudes,,handled_in_setting,n/k,,
INC-6,S03,image_sharing,2025-02-01,2025-02-03,3,19,false,nude,between_parties,handled_in_setting,false,,yes
,,,,,,,,,,,,,
INC-8,,image_sharing,2025-02-01,,15,15,,,,,,,
"""
)


def both(source: Path, tmp_path: Path, **options: object) -> tuple:
    pandas_out = tmp_path / "pandas.csv"
    duck_out = tmp_path / "duck.csv"
    expected = pandas_job(source, pandas_out, **options)
    got = duck_job(source, duck_out, memory_limit="500MB", **options)
    return expected, got, pandas_out, duck_out


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_sample_log_gives_the_same_file_and_summary(tmp_path: Path) -> None:
    expected, got, a, b = both(sample_log(), tmp_path)
    assert got.text.replace("duck", "pandas") == expected.text
    assert got.exit_code == expected.exit_code == 0
    left, right = read(a), read(b)
    assert list(left.columns) == list(right.columns)
    pd.testing.assert_frame_equal(left, right)


def test_messy_log_holds_back_the_same_rows_for_the_same_reasons(tmp_path: Path) -> None:
    source = tmp_path / "messy.csv"
    source.write_text(MESSY, encoding="utf-8")
    expected, got, a, b = both(source, tmp_path)
    assert got.exit_code == expected.exit_code == 1
    quarantine = read(tmp_path / "pandas.quarantine.csv")
    assert quarantine["row"].tolist() == ["3", "4", "5", "6", "7", "9"]
    pd.testing.assert_frame_equal(read(tmp_path / "duck.quarantine.csv"), quarantine)
    pd.testing.assert_frame_equal(read(a), read(b))
    assert got.text.replace("duck", "pandas") == expected.text


def test_strict_refuses_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "messy.csv"
    source.write_text(MESSY, encoding="utf-8")
    with pytest.raises(RefusedInput, match="--strict"):
        duck_job(source, tmp_path / "out.parquet", strict=True)
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("INC-2,", "Jane_Smith,"), "read as a person's name"),
        (("INC-2,", "jane@example.com,"), "not pseudonymous codes"),
        (("INC-1,S01,", "INC-1,Jane_Smith,"), "read as a person's name"),
        (("12,12,No,", "12,12,07700 900123,"), "shaped like personal data"),
        (("Incident ID,", "Incident ID,Pupil name,"), "column 1"),
    ],
)
def test_refused_files_name_no_value(tmp_path: Path, change: tuple, message: str) -> None:
    text = MESSY.replace(*change)
    if "Pupil" in change[1]:
        text = text.replace("Incident ID,Pupil name,", "Pupil name,Incident ID,")
        text = "\n".join(
            [text.splitlines()[0], *(f"Jo Bloggs,{line}" for line in text.splitlines()[1:])]
        )
    source = tmp_path / "log.csv"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(RefusedInput, match=message) as caught:
        duck_job(source, tmp_path / "out.parquet")
    for value in ("Jane_Smith", "jane@example.com", "Jo Bloggs", "Pupil", "07700"):
        assert value not in str(caught.value)
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize(("policy", "params"), CASES)
def test_parquet_log_of_random_rows(tmp_path: Path, policy: str, params: dict) -> None:
    """Typed Parquet read in place; answers as the pandas engine's on the rows it keeps."""
    frame = random_frame(20_000, seed=5)
    source = tmp_path / "log.parquet"
    frame.reset_index(drop=True).to_parquet(source)
    pandas_out, duck_out = tmp_path / "p.parquet", tmp_path / "d.parquet"
    pandas_job(source, pandas_out, policy=policy, params=params)
    duck_job(source, duck_out, policy=policy, params=params)
    expected, got = pd.read_parquet(pandas_out), pd.read_parquet(duck_out)
    assert 0 < len(got) == len(expected) < len(frame)  # the gate held some rows back
    assert differences(expected, got) == {}
    assert (expected["incident_id"].to_numpy() == got["incident_id"].to_numpy()).all()


def test_unchecked_file_to_file_matches_assess(tmp_path: Path) -> None:
    frame = random_frame(10_000, seed=8)
    source = tmp_path / "log.parquet"
    frame.reset_index(drop=True).to_parquet(source)
    duck.assess_parquet_unchecked(source, tmp_path / "out.parquet", "ukcis-2024")
    got = pd.read_parquet(tmp_path / "out.parquet")
    assert differences(assess(frame, "ukcis-2024").reset_index(drop=True), got) == {}
    assert list(got.columns) == [*contract.COLUMN_NAMES, *contract.OUTPUT_COLUMNS]


def test_cli_engine_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a.parquet"
    code = main(["assess", str(sample_log()), "--out", str(out), "--engine", "duckdb"])
    assert code == 0
    assert "Assessed 598 incidents" in capsys.readouterr().out
    manifest = (tmp_path / "a.manifest.json").read_text(encoding="utf-8")
    assert '"name": "duckdb"' in manifest and '"not_checked": []' in manifest
    code = main(
        [
            "assess",
            str(sample_log()),
            "--out",
            str(out),
            "--engine",
            "duckdb",
            "--mapping",
            "m.yaml",
        ]
    )
    assert code == 2
    assert "--mapping" in capsys.readouterr().err


def test_memory_limit_is_checked() -> None:
    with pytest.raises(ValueError, match="memory limit"):
        duck.connect("lots")


def test_state_columns_for_the_reports(tmp_path: Path) -> None:
    import json

    out = tmp_path / "states.parquet"
    duck_job(sample_log(), out, with_states=True)
    got = pd.read_parquet(out)
    expected = assess(pd.read_parquet(out, columns=list(contract.COLUMN_NAMES)), with_states=True)
    states_ = [c for c in expected.columns if ":" in c]
    assert states_ and list(got.columns[-len(states_) :]) == states_
    assert differences(expected.reset_index(drop=True), got, states_) == {}
    manifest = json.loads((tmp_path / "states.manifest.json").read_text(encoding="utf-8"))
    assert manifest["resolved_policy"]["label"] == "cheshire-quick-guide@2"
