"""Action lists for the safeguarding leads: the incidents to look at again, and why.

Incident-level, so they go to workbooks and CSV files for the internal audience only,
never into a page. Each setting gets a workbook holding only its own incidents (a school's
lead never sees another school's incident codes); the trust's lead gets one with every
setting. Reasons are written in plain English from the policy's rule titles and
`words.py`, read from the rule state columns (`states.py`), never by parsing the
`;`-joined text. Most urgent first:

1. the guidance says refer, and the setting did not;
2. handling that may have put a child at risk: a phone or other device given back when the
   case was not shown to be low risk;
3. recording or handling steps not recorded, or recorded as not done;
4. decisions that cannot be checked: none recorded, or the record too incomplete to judge.

A referral the guidance does not require (a discretionary referral, or one where the
guidance says the setting could have resolved it) is never listed as a problem: such an
incident appears only if one of the reasons above applies to it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import contract, states
from .words import consistency_labels, outcome_labels

UNDER, DEVICE, STEPS, UNCHECKED = 1, 2, 3, 4


def priority_labels(route: str) -> dict[int, str]:
    """Why an incident is on the list, by priority (most urgent first)."""
    return {
        UNDER: f"Not referred, though the guidance says refer to {route}",
        DEVICE: "How it was handled may have put a child at risk",
        STEPS: "Steps not recorded, or recorded as not done",
        UNCHECKED: "The decision cannot be checked against the guidance",
    }


PRIORITY_HELP = {
    UNDER: "The guidance says this incident should have been referred, and the record says "
    "it was not. Check whether the child needs a referral now.",
    DEVICE: "A phone or other device was given back although the case was not shown to be "
    "low risk. Check what is on the device and whether the child is safe.",
    STEPS: "A step the guidance asks for was not recorded, or was recorded as not done. "
    "Complete the record, or note why the step was not taken.",
    UNCHECKED: "No decision is recorded, or the record leaves blank a fact the guidance "
    "needs, so the decision cannot be checked. Fill in the record.",
}

RETURNED = "A phone or other device was given back, but the case was not shown to be low risk: "
RETURN_REASONS = {
    "refer_police": "the guidance says refer to {route}",
    "insufficient_information": "the record is too incomplete for the guidance to decide",
    "": "it was not shown to meet every low-risk condition",
}
STEP_STATES = {
    states.NOT_DONE: "the record says it was not done",
    states.NOT_RECORDED: "left blank",
}

INCIDENT_TYPES = {
    "image_sharing": "Image sharing",
    "online_sexual_contact": "Online sexual contact",
}

# The columns of every list, in order. The last four are left empty for the follow-up.
PRIORITY = "Priority"
WHY = "Why it is listed"
INCIDENT = "Incident"
SETTING = "Setting"
REPORTED = "Reported on"
DECIDED = "Decided on"
KIND = "Kind of incident"
GUIDANCE = "The guidance says"
DID = "What the setting did"
AGAINST = "Decision against the guidance"
HANDLING = "Handling"
STEPS_MISSING = "Steps missing"
WHY_REFER = "Why the guidance says refer"
OPEN = "Facts the record leaves open"
TRACKING = ("Owner", "Action", "Due date", "Status")
COLUMNS = (
    PRIORITY,
    WHY,
    INCIDENT,
    SETTING,
    REPORTED,
    DECIDED,
    KIND,
    GUIDANCE,
    DID,
    AGAINST,
    HANDLING,
    STEPS_MISSING,
    WHY_REFER,
    OPEN,
    *TRACKING,
)
DATES = (REPORTED, DECIDED, "Due date")
STATUS_CHOICES = ("Not started", "In progress", "Done")

TRUST_STEM = "cases_for_review_trust_lead"
SETTING_PREFIX = "cases_for_review_setting_"
SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
FALLBACK_CREATED = datetime(2000, 1, 1)


# ------------------------------------------------------------------------------ choosing


def case_list(log: Any, spec: Any) -> pd.DataFrame:
    """Every incident of the run's period and settings that needs looking at again, with
    its priority and reasons in plain English; most urgent first, then by setting, date
    and incident. The follow-up columns are empty."""
    frame = _chosen_rows(log, spec)
    n = len(frame)
    route = log.route
    consistency = _codes(frame, "consistency", contract.CONSISTENCY)
    outcome = _codes(frame, "guidance_outcome", contract.OUTCOMES)
    experimental = _state(frame, states.EXPERIMENTAL, states.UNKNOWN)
    returned = _flag(frame, "device_returned")
    low_risk = (outcome == contract.OUTCOMES.index("handle_in_setting")) & (
        experimental == states.PRESENT
    )
    risky_return = (returned == 1) & ~low_risk
    requirements = np.column_stack(
        [_state(frame, states.column("recording", r.id), 0) for r in log.policy.recording]
        or [np.zeros(n, dtype=np.int8)]
    )
    factors = np.column_stack(
        [_state(frame, states.column("factors", r.id), 0) for r in log.policy.factors]
        or [np.zeros(n, dtype=np.int8)]
    )
    short = np.isin(requirements, states.SHORT).any(axis=1)
    code = {name: i for i, name in enumerate(contract.CONSISTENCY)}
    priority = np.zeros(n, dtype=np.int8)
    unchecked = np.isin(consistency, [code["no_decision"], code["unassessable"]])
    for level, mask in (
        (UNCHECKED, unchecked),
        (STEPS, short),
        (DEVICE, risky_return),
        (UNDER, consistency == code["under_escalation"]),
    ):
        priority[mask] = level  # the most urgent reason wins: it is written last
    listed = priority > 0
    decision = _codes(frame, "decision", contract.BY_NAME["decision"].codes)
    social = _flag(frame, "referred_social_care")
    keys = np.column_stack(
        [consistency, outcome, risky_return, decision, social, factors, requirements]
    )[listed]
    words = _Words(log, route)
    if len(keys):
        combos, which = np.unique(keys, axis=0, return_inverse=True)
        texts = [words.for_combination(row) for row in combos]
        columns = {name: [texts[i][name] for i in which.ravel()] for name in words.NAMES}
    else:
        columns = {name: [] for name in words.NAMES}
    chosen = frame[listed]
    labels = priority_labels(route)
    incident_type = chosen["incident_type"].astype("string")
    out = pd.DataFrame(
        {
            PRIORITY: priority[listed].astype(np.int64),
            WHY: [labels[int(p)] for p in priority[listed]],
            INCIDENT: chosen["incident_id"].astype(str).to_numpy(),
            SETTING: chosen["setting_id"].astype(str).to_numpy(),
            REPORTED: _dates(chosen, "reported_on"),
            DECIDED: _dates(chosen, "decided_on"),
            KIND: incident_type.map(INCIDENT_TYPES).fillna("").astype(str).to_numpy(),
            **columns,
            **{name: "" for name in TRACKING},
        }
    )
    out[DATES[-1]] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out = out.sort_values([PRIORITY, SETTING, REPORTED, INCIDENT], kind="stable")
    return out.loc[:, list(COLUMNS)].reset_index(drop=True)


def _chosen_rows(log: Any, spec: Any) -> pd.DataFrame:
    """The rows of the run: its academic year (all when none) and its settings."""
    keep = np.asarray(log.in_period(spec.period), dtype=bool)
    if spec.settings:
        keep &= log.frame["setting_id"].astype(str).isin(list(spec.settings)).to_numpy()
    return log.frame[keep]


def _codes(frame: pd.DataFrame, column: str, codes: Sequence[str]) -> np.ndarray:
    """A coded column as positions in `codes`; -1 for blank or absent."""
    if column not in frame.columns:
        return np.full(len(frame), -1, dtype=np.int8)
    values = frame[column].astype("string").astype(pd.CategoricalDtype(list(codes)))
    return np.asarray(values.cat.codes, dtype=np.int8)


def _state(frame: pd.DataFrame, column: str, missing: int) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), missing, dtype=np.int8)
    return frame[column].to_numpy(dtype=np.int8)


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A yes/no column as 1 (true), 0 (false) or 2 (blank or absent)."""
    if column not in frame.columns:
        return np.full(len(frame), 2, dtype=np.int8)
    values = frame[column].astype("boolean")
    out = np.where(values.fillna(False).to_numpy(dtype=bool), 1, 0).astype(np.int8)
    out[values.isna().to_numpy()] = 2
    return out


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=range(len(frame)), dtype="datetime64[ns]")
    values = pd.to_datetime(frame[column], errors="coerce").dt.normalize()
    return pd.Series(values.to_numpy(), index=range(len(frame)))


@dataclass
class _Words:
    """The plain-English columns of one combination of codes and rule states."""

    log: Any
    route: str
    NAMES = (GUIDANCE, DID, AGAINST, HANDLING, STEPS_MISSING, WHY_REFER, OPEN)

    def for_combination(self, row: np.ndarray) -> dict[str, str]:
        policy = self.log.policy
        consistency, outcome, risky, decision, social = (int(v) for v in row[:5])
        n_factors = len(policy.factors) or 1
        factor_states = row[5 : 5 + n_factors]
        requirement_states = row[5 + n_factors :]
        outcome_code = contract.OUTCOMES[outcome] if outcome >= 0 else ""
        consistency_code = contract.CONSISTENCY[consistency] if consistency >= 0 else ""
        against = ""
        if consistency_code in ("under_escalation", "no_decision", "unassessable"):
            against = _sentence(consistency_labels(self.route)[consistency_code])
        handling = ""
        if risky:
            handling = RETURNED + RETURN_REASONS.get(outcome_code, RETURN_REASONS[""]).format(
                route=self.route
            )
        steps = [
            f"{rule.title} ({STEP_STATES[int(s)]})"
            for rule, s in zip(policy.recording, requirement_states, strict=False)
            if s in states.SHORT
        ]
        present = [
            r.title
            for r, s in zip(policy.factors, factor_states, strict=False)
            if s == states.PRESENT
        ]
        unknown = [
            r.title
            for r, s in zip(policy.factors, factor_states, strict=False)
            if s == states.UNKNOWN
        ]
        return {
            GUIDANCE: _sentence(outcome_labels(self.route)[outcome_code]) if outcome_code else "",
            DID: _did(decision, social),
            AGAINST: against,
            HANDLING: handling,
            STEPS_MISSING: "; ".join(steps),
            WHY_REFER: "; ".join(present) if outcome_code == "refer_police" else "",
            OPEN: "; ".join(unknown) if outcome_code == "insufficient_information" else "",
        }


def _did(decision: int, social: int) -> str:
    codes = contract.BY_NAME["decision"].codes
    words = {
        "referred_police": "Referred to the police",
        "handled_in_setting": "Dealt with in the setting",
    }
    text = words[codes[decision]] if decision >= 0 else "No decision recorded"
    if social == 1:
        text += "; referred to children's social care"
    return text


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------ writing


def write_case_lists(log: Any, spec: Any, folder: str | Path) -> list[Path]:
    """Write the action lists into `folder`: one workbook and CSV per setting (only that
    setting's incidents) and one pair for the trust's safeguarding lead. Internal audience
    only: for a publication nothing is written. Returns the files written.

    Identical input gives identical bytes: the workbooks' creation date is the latest
    report date in the log, not the time of the run.
    """
    if getattr(spec, "publication", False):
        return []
    folder = Path(folder)
    cases = case_list(log, spec)
    created = _created(log)
    scope = _scope_words(spec)
    written = []
    about = _about(log, spec, "every setting", scope)
    written += _write_pair(cases, folder / TRUST_STEM, about, created, by_setting=True)
    for code, stem in setting_stems(_settings(log, spec)).items():
        own = cases[cases[SETTING] == code].reset_index(drop=True)
        about = _about(log, spec, f"setting {code}", scope)
        written += _write_pair(own, folder / f"{SETTING_PREFIX}{stem}", about, created)
    return written


def setting_stems(codes: Sequence[str]) -> dict[str, str]:
    """A safe file-name part for each setting code: the code itself when it is a plain
    code (letters, digits, '-' and '_', not starting with '-'), otherwise its safe
    characters and a short hash; a hash is also added when two codes would differ only
    by case (one file on Windows or macOS)."""
    stems: dict[str, str] = {}
    taken: set[str] = set()
    for code in sorted(codes):
        stem = code
        if not SAFE_CODE.fullmatch(code) or stem.lower() in taken:
            kept = re.sub(r"[^A-Za-z0-9_-]", "_", code)[:24].lstrip("-_") or "setting"
            stem = f"{kept}-{hashlib.sha256(code.encode('utf-8')).hexdigest()[:8]}"
        taken.add(stem.lower())
        stems[code] = stem
    return stems


def _settings(log: Any, spec: Any) -> list[str]:
    """Every setting of the log the run covers (in any period): each gets its list, even
    when it has nothing to follow up, so a missing file never has to be explained."""
    codes = log.frame["setting_id"].dropna().astype(str).unique().tolist()
    if spec.settings:
        codes = [c for c in codes if c in set(spec.settings)]
    return sorted(codes)


def _created(log: Any) -> datetime:
    """A fixed creation date for the workbooks, from the data: the latest report date."""
    dates = pd.to_datetime(log.frame["reported_on"], errors="coerce").dropna()
    if dates.empty:
        return FALLBACK_CREATED
    latest = dates.max()
    return datetime(latest.year, latest.month, latest.day)


def _scope_words(spec: Any) -> str:
    period = f"the academic year {spec.period}" if spec.period else "every incident in the log"
    return period


def _about(log: Any, spec: Any, whose: str, scope: str) -> list[tuple[str, str]]:
    """The lines of the About sheet: what the list is, and how to read and use it."""
    labels = priority_labels(log.route)
    lines = [
        ("Incidents to look at again", f"{spec.title + ': ' if spec.title else ''}{whose}"),
        ("Period", _sentence(scope)),
        ("Judged against", log.policy.title),
        (
            "Confidential",
            "Incident-level information for the designated safeguarding lead. Do not share "
            "it beyond them, and keep it only as long as the follow-up needs.",
        ),
    ]
    lines += [(f"Priority {level}: {labels[level]}", PRIORITY_HELP[level]) for level in labels]
    lines += [
        (
            "Not listed",
            "A referral the guidance does not require is the safeguarding lead's choice and "
            "is never listed as a problem. Incidents handled as the guidance says, with a "
            "complete record, are not listed.",
        ),
        (
            "Owner, Action, Due date, Status",
            "Left empty for you: who follows the incident up, what they will do, by when, "
            f"and where it stands ({', '.join(STATUS_CHOICES)}).",
        ),
    ]
    return lines


def _write_pair(
    cases: pd.DataFrame,
    stem: Path,
    about: list[tuple[str, str]],
    created: datetime,
    *,
    by_setting: bool = False,
) -> list[Path]:
    from ..writing import atomic_path, write_table

    workbook = stem.with_name(stem.name + ".xlsx")
    with atomic_path(workbook) as temp:
        _write_workbook(cases, temp, about, created, by_setting=by_setting)
    table = write_table(cases, stem.with_name(stem.name + ".csv"))
    return [workbook, table]


def _rows(cases: pd.DataFrame) -> Any:
    """The rows as XlsxWriter writes them fastest: dates as dates, whole numbers as ints,
    and nothing (None) for a blank, so an empty cell is not written at all."""
    columns = []
    for name in cases.columns:
        column = cases[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            values = [None if pd.isna(v) else v.date() for v in column]
        elif pd.api.types.is_integer_dtype(column.dtype):
            values = [int(v) for v in column]
        else:
            values = [v if isinstance(v, str) and v else None for v in column]
        columns.append(values)
    return zip(*columns, strict=True)


def _widths(cases: pd.DataFrame) -> list[int]:
    """Column widths a reader can use: the longest entry (or the heading), within limits;
    long reasons wrap instead."""
    widths = []
    for name in cases.columns:
        if name in DATES:
            longest = 11
        else:
            lengths = cases[name].astype(str).str.len()
            longest = int(lengths.max()) if len(lengths) else 0
        widths.append(max(10, min(48, max(longest, len(name)) + 2)))
    return widths


def _write_workbook(
    cases: pd.DataFrame,
    path: Path,
    about: list[tuple[str, str]],
    created: datetime,
    *,
    by_setting: bool = False,
) -> None:
    """The Cases sheet (frozen header, filters, real dates, widths, a status list), then
    a count per setting and priority (the trust's list only), then About."""
    import xlsxwriter

    from ..writing import XLSX_OPTIONS

    book = xlsxwriter.Workbook(str(path), {**XLSX_OPTIONS, "default_date_format": "dd/mm/yyyy"})
    try:
        book.set_properties({"title": "Incidents to look at again", "created": created})
        heading = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                   "bg_color": "#DDEBF7", "border": 1})  # fmt: skip
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        dated = book.add_format({"num_format": "dd/mm/yyyy", "valign": "top"})
        top = book.add_format({"valign": "top"})
        sheet = book.add_worksheet("Cases")
        for number, (name, width) in enumerate(zip(cases.columns, _widths(cases), strict=True)):
            style = dated if name in DATES else (wrap if width >= 48 else top)
            sheet.set_column(number, number, width, style)
        sheet.freeze_panes(1, 0)
        last_row = max(len(cases), 1)
        sheet.autofilter(0, 0, last_row, len(cases.columns) - 1)
        status = list(cases.columns).index("Status")
        sheet.data_validation(
            1, status, last_row + 500, status,
            {"validate": "list", "source": list(STATUS_CHOICES), "ignore_blank": True},
        )  # fmt: skip
        sheet.write_row(0, 0, list(cases.columns), heading)
        for number, row in enumerate(_rows(cases), start=1):
            sheet.write_row(number, 0, row)
        if by_setting:
            _write_counts(book, cases, heading)
        _write_about(book, about, heading, wrap)
    finally:
        book.close()


def _write_counts(book: Any, cases: pd.DataFrame, heading: Any) -> None:
    """How many incidents of each priority each setting has to look at again."""
    sheet = book.add_worksheet("By setting")
    levels = sorted(priority_labels("").keys())
    names = ["Setting", *[f"Priority {level}" for level in levels], "All"]
    counts = pd.crosstab(cases[SETTING], cases[PRIORITY]).reindex(columns=levels, fill_value=0)
    sheet.set_column(0, len(names) - 1, 12)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, names, heading)
    for number, (setting, row) in enumerate(counts.iterrows(), start=1):
        sheet.write_row(number, 0, [str(setting), *[int(v) for v in row], int(row.sum())])


def _write_about(book: Any, lines: list[tuple[str, str]], heading: Any, wrap: Any) -> None:
    sheet = book.add_worksheet("About")
    sheet.set_column(0, 0, 44, wrap)
    sheet.set_column(1, 1, 90, wrap)
    for number, (label, text) in enumerate(lines):
        sheet.write_string(number, 0, label, heading)
        sheet.write_string(number, 1, text)
