"""The GX suites: loaded in full, quiet, offline, and every check able to fail."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pandas as pd
import pytest
from support import frame_of

from ypsi_audit import privacy, validation
from ypsi_audit.errors import InputError

SUITES = sorted(validation.EXPECTATIONS_DIR.glob("*.json"))


def test_every_expectation_in_the_files_is_loaded() -> None:
    in_files = sum(len(json.loads(p.read_text())["expectations"]) for p in SUITES)
    checks = validation.load_checks(str(validation.EXPECTATIONS_DIR))
    assert len(checks) == in_files >= 20
    assert len({c.check for c in checks}) == len(checks)
    assert {p.stem for p in SUITES} == {"table", "values", "cross_field", "personal_data"}


def test_an_unknown_expectation_type_is_refused_not_dropped(tmp_path: Path) -> None:
    tree = json.loads((validation.EXPECTATIONS_DIR / "values.json").read_text())
    tree["expectations"][0]["type"] = "expect_column_values_to_be_sparkly"
    (tmp_path / "values.json").write_text(json.dumps(tree))
    with pytest.raises(InputError, match=r"only 6 of 7 expectations loaded|could not be loaded"):
        validation.validate_frame(frame_of([{}]), directory=tmp_path)


def test_personal_data_patterns_are_one_source() -> None:
    tree = json.loads((validation.EXPECTATIONS_DIR / "personal_data.json").read_text())
    combined = "(?i)" + "|".join(f"(?:{p['regex']})" for p in tree["meta"]["patterns"])
    assert all(e["kwargs"]["regex"] == combined for e in tree["expectations"])
    assert combined == privacy.COMBINED
    steps = [step["find"] for step in tree["meta"]["normalise"]["replace"]]
    regexes = [p["regex"] for p in tree["meta"]["patterns"]]
    regexes += [*steps, tree["meta"]["identifier_name"]["regex"]]
    for regex in regexes:  # RE2 and Python's re read them alike (no fallback, no \d or \b)
        assert not re.search(r"\(\?<?[=!]|\\[sdwbSDWB]", regex), regex


def test_gate_expectations_and_screen_agree_on_every_spelling() -> None:
    """The suite's personal-data expectations run on the same normalised text as the
    screen: a value fails one exactly when the other names it."""
    from test_privacy import HARMLESS, SPELLINGS

    values = [v for v, _ in SPELLINGS] + [v for v in HARMLESS if v]
    frame = frame_of([{"incident_id": v, "setting_id": v} for v in values])
    frame.index = range(2, 2 + len(frame))
    failed = _failed(frame)
    flagged = [row for row, v in enumerate(values, start=2) if privacy.looks_personal(v)]
    assert len(flagged) == len(SPELLINGS)
    assert failed["no_personal_data_in_incident_id"] == flagged
    assert failed["no_personal_data_in_setting_id"] == flagged


def test_the_table_suite_takes_its_columns_from_the_contract() -> None:
    from ypsi_audit import contract

    check = next(
        c
        for c in validation.load_checks(str(validation.EXPECTATIONS_DIR))
        if c.check == "only_contract_columns"
    )
    assert check.config["kwargs"]["column_set"] == list(contract.COLUMN_NAMES)


def test_validation_opens_no_network_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple] = []
    real_connect = socket.socket.connect

    def record(self, address):  # pragma: no cover - only runs if something phones home
        opened.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda *a, **k: opened.append(a) or (_ for _ in ()).throw(OSError()),
    )
    results = validation.validate_frame(frame_of([{"incident_id": "A1"}]))
    assert results and opened == []


def test_gx_is_not_asked_to_hash_the_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch fingerprint is an MD5 of all the data, kept only in GX's metadata."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    hashed: list[int] = []
    monkeypatch.setattr(engine, "hash_pandas_dataframe", lambda df: hashed.append(len(df)) or "")
    results = validation.validate_frame(frame_of([{"incident_id": "A1"}, {"incident_id": "A1"}]))
    assert results and hashed == []
    failed = {check.check for check, result in results if not result.success}
    assert failed == {"incident_id_unique"}  # the checks themselves still run


def test_progress_bars_and_analytics_are_off(capsys: pytest.CaptureFixture) -> None:
    validation.validate_frame(frame_of([{}]))
    captured = capsys.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out
    import os

    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"


GOOD = {
    "youngest_child_age": 14,
    "oldest_party_age": 15,
    "adult_involved": False,
    "decided_on": "2025-03-04",
    "image_viewed": True,
    "device_seized": True,
    "device_returned": True,
    "image_sent_to_staff": True,
}
# One corruption per check id: proves every check in the suites can fail.
BREAKS: dict[str, dict] = {
    "incident_id_present": {"incident_id": None},
    "setting_id_present": {"setting_id": None},
    "incident_type_present": {"incident_type": None},
    "reported_on_present": {"reported_on": None, "decided_on": None},
    "youngest_child_age_range": {"youngest_child_age": 3},
    "oldest_party_age_range": {"oldest_party_age": 100, "adult_involved": True},
    "adult_flag_matches_age": {"oldest_party_age": 30},
    "oldest_not_younger_than_youngest": {"oldest_party_age": 12},
    "decided_not_before_reported": {"decided_on": "2025-03-01"},
    "reported_not_in_future": {"reported_on": "2099-01-01", "decided_on": None},
    "decided_not_in_future": {"decided_on": "2099-01-01"},
    "no_personal_data_in_incident_id": {"incident_id": "jo.bloggs@school.org.uk"},
    "no_personal_data_in_setting_id": {"setting_id": "CH1 2AB"},
}
for column in ("viewing_authorised", "viewing_witnessed", "viewing_recorded"):
    BREAKS[f"{column}_needs_image_viewed"] = {"image_viewed": False, column: True}
BREAKS["device_returned_needs_device_seized"] = {"device_seized": False}
for column in (
    "parents_contacted_before_return",
    "images_deleted_before_return",
    "deletion_recorded",
):
    BREAKS[f"{column}_needs_device_returned"] = {"device_returned": False, column: True}
for column in ("staff_copy_deleted", "staff_reported_to_manager", "staff_reported_to_police"):
    BREAKS[f"{column}_needs_image_sent_to_staff"] = {"image_sent_to_staff": False, column: True}


def _failed(frame: pd.DataFrame) -> dict[str, list[int]]:
    results = validation.validate_frame(validation._for_gx(frame))
    return {c.check: validation._rows(r, frame) for c, r in results if not r.success}


def test_every_row_check_fails_on_its_corruption_and_only_there() -> None:
    row_checks = {
        c.check
        for c in validation.load_checks(str(validation.EXPECTATIONS_DIR))
        if not c.config["type"].startswith("expect_table")
    }
    assert set(BREAKS) | {"incident_id_unique"} == row_checks
    records = [GOOD] + [
        {**GOOD, "incident_id": f"X{i}", **edit} for i, edit in enumerate(BREAKS.values())
    ]
    records[0] = {**GOOD, "incident_id": "CLEAN"}
    frame = frame_of(records)
    frame.index = range(2, 2 + len(frame))
    failed = _failed(frame)
    assert 2 not in {row for rows in failed.values() for row in rows}
    for number, check in enumerate(BREAKS, start=3):
        assert number in failed.get(check, []), check


def test_duplicate_ids_fail_every_copy() -> None:
    frame = frame_of([{"incident_id": "A"}, {"incident_id": "B"}, {"incident_id": "A"}])
    frame.index = [2, 3, 4]
    assert _failed(frame)["incident_id_unique"] == [2, 4]


def test_table_checks_refuse_the_file(tmp_path: Path) -> None:
    source = tmp_path / "log.csv"
    pd.DataFrame(columns=["incident_id", "setting_id", "incident_type", "reported_on"]).to_csv(
        source, index=False
    )
    with pytest.raises(validation.RefusedInput, match="no incidents"):
        validation.run_gate(source)
    frame = pd.read_csv(Path(__file__).parent / "data" / "cheshire_public.csv", dtype=str)
    frame["adult_invovled"] = "false"
    frame.to_csv(source, index=False)
    with pytest.raises(validation.RefusedInput, match=r"column 56 \(is it adult_involved\?\)"):
        validation.run_gate(source)


def test_a_personal_looking_header_is_not_echoed(tmp_path: Path) -> None:
    frame = pd.read_csv(Path(__file__).parent / "data" / "cheshire_public.csv", dtype=str)
    frame["jo.bloggs@school.org.uk"] = ""
    source = tmp_path / "log.csv"
    frame.to_csv(source, index=False)
    with pytest.raises(validation.RefusedInput) as info:
        validation.run_gate(source)
    assert "jo.bloggs" not in str(info.value)
    assert "column 56: The file has columns the data contract does not know" in str(info.value)
