"""Action lists for the safeguarding leads (issue 15 item 5, issue 13's case-list rule):
one workbook per setting with only its incidents, one for the trust's lead, priorities
worked out independently here from the assessed columns, plain English, no referral the
guidance allows listed as a problem, safe file names, identical bytes for identical input,
and formula-like text neutralised in the CSVs but kept as text in the workbooks."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from ypsi_audit import contract, synth
from ypsi_audit.engine import assess
from ypsi_audit.reports import cases
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.spec import RunSpec

POLICIES = ("cheshire-quick-guide", "ukcis-2024")
VECTORS = ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3",
           "\t=1+1", "\r=1+1", "-A1")  # fmt: skip


def _log(policy: str, frame: pd.DataFrame | None = None, **options) -> tuple[AssessedLog, RunSpec]:
    spec = RunSpec.build("report", input="log.csv", out="out", policy=policy, **options)
    if frame is None:
        frame = synth.generate(6, 2, seed=11, today=pd.Timestamp("2025-08-31").date())
    assessed = assess(frame, spec.policy.policy(), spec.policy.parameters, with_states=True)
    return AssessedLog.of(assessed, {}, spec), spec


def _text(frame: pd.DataFrame) -> str:
    return "\n".join(str(value) for value in frame.to_numpy().ravel())


@pytest.fixture(scope="module", params=POLICIES)
def made(request) -> tuple[AssessedLog, RunSpec]:
    return _log(request.param)


def _expected_priorities(frame: pd.DataFrame) -> pd.Series:
    """Each incident's priority from the contract's output columns (not from the state
    columns the code reads): 1 under-escalation, 2 a device given back in a case not
    shown to be low risk, 3 any recording gap, 4 no decision or unassessable; 0 none."""
    consistency = frame["consistency"].astype(str)
    returned = frame["device_returned"].astype("boolean").fillna(False)
    low_risk = (frame["guidance_outcome"].astype(str) == "handle_in_setting") & frame[
        "experimental"
    ].astype("boolean").fillna(False)
    gaps = frame["recording_gaps"].astype("string").fillna("") != ""
    priority = pd.Series(0, index=frame.index)
    priority[consistency.isin(["no_decision", "unassessable"])] = 4
    priority[gaps] = 3
    priority[returned & ~low_risk] = 2
    priority[consistency == "under_escalation"] = 1
    return pd.Series(priority.to_numpy(), index=frame["incident_id"].astype(str).to_numpy())


def test_priorities_agree_with_an_independent_count(made) -> None:
    log, spec = made
    listed = cases.case_list(log, spec)
    expected = _expected_priorities(log.frame)
    expected = expected[expected > 0]
    assert len(listed) == len(expected) > 0
    got = pd.Series(listed[cases.PRIORITY].to_numpy(), index=listed[cases.INCIDENT].to_numpy())
    assert got.sort_index().equals(expected.sort_index().astype(got.dtype))
    assert set(got) == {1, 2, 3, 4}  # the sample has every kind
    order = listed[[cases.PRIORITY, cases.SETTING, cases.REPORTED]]
    assert order.equals(order.sort_values([cases.PRIORITY, cases.SETTING, cases.REPORTED]))


def test_reasons_are_read_from_states_not_from_the_joined_text(made) -> None:
    log, spec = made
    before = cases.case_list(log, spec)
    blanked = log.frame.copy()
    for column in ("aggravating_factors", "unknown_factors", "recording_gaps",
                   "recording_gap_status", "recording_unknown"):  # fmt: skip
        blanked[column] = ""
    after = cases.case_list(AssessedLog(blanked, log.policy, log.params), spec)
    pd.testing.assert_frame_equal(before, after)


def test_a_referral_the_guidance_does_not_require_is_never_a_problem(made) -> None:
    log, spec = made
    listed = cases.case_list(log, spec).set_index(cases.INCIDENT)
    frame = log.frame.set_index(log.frame["incident_id"].astype(str))
    allowed = frame["consistency"].astype(str).isin(["over_escalation", "discretionary_referral"])
    assert allowed.any()
    shown = listed.index.intersection(frame.index[allowed])
    assert (listed.loc[shown, cases.PRIORITY].isin([2, 3])).all()
    assert (listed.loc[shown, cases.AGAINST] == "").all()
    quiet = frame.index[allowed].difference(shown)
    assert len(quiet) > 0  # referred where the guidance did not require it, nothing else
    text = _text(listed).lower()
    assert "over-escalat" not in text and "should not have been referred" not in text


def test_reasons_are_plain_english_with_the_policys_titles(made) -> None:
    log, spec = made
    listed = cases.case_list(log, spec)
    text = _text(listed)
    ids = [rule.id for section in ("factors", "experimental", "recording")
           for rule in log.policy.rules(section) if "_" in rule.id]  # fmt: skip
    codes = [*contract.CONSISTENCY, *contract.OUTCOMES, "referred_police", "handled_in_setting"]
    for word in [*ids, *codes, "not_recorded", "not_done"]:
        assert word not in text, word
    steps = listed[cases.STEPS_MISSING][listed[cases.STEPS_MISSING] != ""]
    titles = {rule.title for rule in log.policy.recording}
    for entry in steps:
        for part in entry.split("; "):
            title, _, state = part.rpartition(" (")
            assert title in titles and state in ("left blank)", "the record says it was not done)")
    under = listed[listed[cases.PRIORITY] == 1]
    assert (
        under[cases.AGAINST] == f"Not referred, though the guidance says refer to {log.route}"
    ).all()
    assert (under[cases.WHY_REFER] != "").all()


def test_each_setting_gets_only_its_own_incidents(made, tmp_path: Path) -> None:
    log, spec = made
    written = cases.write_case_lists(log, spec, tmp_path)
    settings = sorted(log.frame["setting_id"].astype(str).unique())
    names = {p.name for p in written}
    stems = ["cases_for_review_trust_lead", *[f"cases_for_review_setting_{s}" for s in settings]]
    assert names == {f"{stem}.{ext}" for stem in stems for ext in ("xlsx", "csv")}
    trust = pd.read_csv(tmp_path / "cases_for_review_trust_lead.csv", dtype=str)
    together = []
    for setting in settings:
        own = pd.read_csv(tmp_path / f"cases_for_review_setting_{setting}.csv", dtype=str)
        assert set(own["Setting"]) <= {setting}
        book = openpyxl.load_workbook(tmp_path / f"cases_for_review_setting_{setting}.xlsx")
        column = [c.value for c in book["Cases"]["D"]][1:]
        assert set(column) <= {setting} and len(column) == len(own)
        assert "By setting" not in book.sheetnames
        together.append(own)
    assert sorted(pd.concat(together)["Incident"]) == sorted(trust["Incident"])


def test_period_and_settings_are_respected(tmp_path: Path) -> None:
    log, spec = _log("cheshire-quick-guide", period="2023-24", settings="S02,S04")
    listed = cases.case_list(log, spec)
    frame = log.frame.set_index(log.frame["incident_id"].astype(str))
    rows = frame.loc[listed[cases.INCIDENT]]
    assert set(rows["setting_id"].astype(str)) == {"S02", "S04"}
    years = log.year.to_numpy()[log.frame["incident_id"].isin(listed[cases.INCIDENT]).to_numpy()]
    assert len(years) == len(listed) > 0 and set(years) == {"2023-24"}
    written = {p.name for p in cases.write_case_lists(log, spec, tmp_path)}
    assert {n for n in written if "setting_" in n} == {
        f"cases_for_review_setting_{s}.{e}" for s in ("S02", "S04") for e in ("xlsx", "csv")
    }


def test_workbook_is_ready_to_work_from(made, tmp_path: Path) -> None:
    log, spec = made
    cases.write_case_lists(log, spec, tmp_path)
    book = openpyxl.load_workbook(tmp_path / "cases_for_review_trust_lead.xlsx")
    assert book.sheetnames == ["Cases", "By setting", "About"]
    sheet = book["Cases"]
    header = [c.value for c in sheet[1]]
    assert header == list(cases.COLUMNS) and header[-4:] == [
        "Owner",
        "Action",
        "Due date",
        "Status",
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:R{sheet.max_row}"
    dates = [sheet.cell(row=r, column=5) for r in range(2, sheet.max_row + 1)]
    assert all(c.data_type == "d" and c.number_format == "dd/mm/yyyy" for c in dates)
    for row in sheet.iter_rows(min_row=2, min_col=15, max_col=18, values_only=True):
        assert row == (None, None, None, None)
    widths = {k: v.width for k, v in sheet.column_dimensions.items()}
    assert widths["B"] > 40 and widths["A"] >= 10
    rules = sheet.data_validations.dataValidation
    assert any(r.type == "list" and "In progress" in r.formula1 for r in rules)
    counts = list(book["By setting"].iter_rows(min_row=2, values_only=True))
    listed = cases.case_list(log, spec)
    assert sum(row[-1] for row in counts) == len(listed)
    assert sum(row[1] for row in counts) == int((listed[cases.PRIORITY] == 1).sum())


def test_identical_input_gives_identical_bytes(tmp_path: Path) -> None:
    log, spec = _log("ukcis-2024")
    first = cases.write_case_lists(log, spec, tmp_path / "a")
    second = cases.write_case_lists(log, spec, tmp_path / "b")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert [digest(p) for p in first] == [digest(p) for p in second]
    created = openpyxl.load_workbook(first[0]).properties.created
    assert created == pd.Timestamp(log.frame["reported_on"].max()).to_pydatetime()


def test_file_names_from_setting_codes_are_safe() -> None:
    codes = ["S01", "s01", "../../etc", "CON", "-A1", "a b/c", "x" * 40, "Ｓ０１"]
    stems = cases.setting_stems(codes)
    assert stems["S01"] == "S01" and stems["CON"] == "CON"
    assert len({s.lower() for s in stems.values()}) == len(codes)
    for stem in stems.values():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", stem), stem


def test_odd_setting_codes_stay_inside_the_folder(tmp_path: Path) -> None:
    frame = synth.generate(2, 1, seed=3, today=pd.Timestamp("2025-08-31").date())
    frame["setting_id"] = np.where(frame["setting_id"] == "S01", "../escape", "-A1")
    log, spec = _log("cheshire-quick-guide", frame)
    written = cases.write_case_lists(log, spec, tmp_path / "lists")
    assert all(p.parent == tmp_path / "lists" for p in written)
    assert sorted(p.name for p in (tmp_path).iterdir()) == ["lists"]


def test_a_publication_gets_no_incident_level_list(tmp_path: Path) -> None:
    log, spec = _log("cheshire-quick-guide", audience="publication")
    assert cases.write_case_lists(log, spec, tmp_path / "lists") == []
    assert not (tmp_path / "lists").exists()


def test_formula_like_ids_are_neutralised_in_csv_and_kept_as_text_in_workbooks(
    tmp_path: Path,
) -> None:
    frame = synth.generate(1, 1, seed=5, n=40, today=pd.Timestamp("2025-08-31").date())
    frame["decision"] = frame["decision"].where(np.zeros(len(frame), dtype=bool))  # all blank
    ids = frame["incident_id"].astype(str).tolist()
    ids[: len(VECTORS)] = VECTORS
    frame["incident_id"] = pd.array(ids, dtype="string")
    log, spec = _log("cheshire-quick-guide", frame)
    cases.write_case_lists(log, spec, tmp_path)
    for name in ("cases_for_review_trust_lead", "cases_for_review_setting_S01"):
        with (tmp_path / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        cells = [cell for row in rows for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        shown = {row[2] for row in rows[1:]}
        assert {"'" + v.replace("\r", "\n") for v in VECTORS} <= shown
        book = openpyxl.load_workbook(tmp_path / f"{name}.xlsx")
        column = [c for c in book["Cases"]["C"]][1:]
        # a carriage return is stored as OOXML's escape _x000D_, which Excel reads back
        assert {v.replace("\r", "_x000D_") for v in VECTORS} <= {c.value for c in column}
        assert {c.data_type for c in column} == {"s"}
