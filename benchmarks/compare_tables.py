"""Compare the tables of a report set made before issue 12's refactor with one made after.

    python -m benchmarks.compare_tables OLD_DIR NEW_DIR [--detail]

OLD_DIR is a report set written by the code of commit 5d0269d (`ypsi-audit report ...
--no-suppression`): wide tables, `n_...` count columns beside rates, shares, intervals and
flags, and the assessed rows in `work/assessed.parquet`. NEW_DIR is a set written by the
code after the refactor with the internal audience (every count shown): one long table per
declared ledger table (`incidents` and `not_given_because`). Either may also be a folder of
such sets, one sub-folder per log, compared pairwise by name.

Every number of every old table is put beside its counterpart in the new set: a count
beside the same cell (or the sum of the cells that make it up), a rate or share beside the
same rate worked out from the new counts. Numbers the new set no longer publishes (the
tables hold counts only) are listed as old only. Each difference is put down to a cause,
and a cause is accepted only where it is checked: the old definition worked out from the
new counts gives the old number back (the counts agree and only the definition changed),
or the new number is recounted from the old set's assessed rows with the change applied
(issue 13's referral rule). A difference that no check explains is reported as a
regression.

The script reads the two folders only; it imports nothing of the toolkit, so it judges the
outputs of any two versions. Exit 0: every difference explained; 1: some number differs or
was dropped with no issue to explain it (listed as REGRESSIONS); 2: no pair of sets found.

Making the two sets (the old code shadows the installed package; the old gate refuses the
column `child_at_risk_if_parents_told` that issue 13 added, so a mapping file drops it):

    git worktree add /tmp/old 5d0269d
    printf 'drop:\n  - child_at_risk_if_parents_told\n' > /tmp/drop.yaml
    PYTHONPATH=/tmp/old ypsi-audit report LOG --mapping /tmp/drop.yaml --no-suppression \
        --out OLD_DIR/NAME
    ypsi-audit report LOG --out NEW_DIR/NAME
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ALL = "all"
NOT_RECORDED = "not recorded"
TOLERANCE = 1e-9

# Why a number differs, or why the new set does not publish it: issue and explanation.
CAUSES: dict[str, tuple[str, str]] = {
    "referral_rule": (
        "13",
        "Cheshire v2 counts a referral after staff were sent an image as the guide's own "
        "advice: a referral the guidance does not require is discretionary_referral when "
        "image_sent_to_staff is true, unassessable when it is blank, over_escalation only "
        "when it is false",
    ),
    "national_policy": (
        "13",
        "the national (UKCIS) policy the escalation page compares with is v2 (referrals "
        "as the advice counts them, devices, staff, parents, typology, fixed thresholds)",
    ),
    "referral_denominator": (
        "14",
        "referral rate: one definition, referred out of incidents whose record shows "
        "whether the setting referred (old: out of all incidents by term; by setting the "
        "old numerator left out referrals the guidance could not judge)",
    ),
    "resolvable_definition": (
        "13+14",
        "the share referred where the guidance says the setting could resolve it: "
        "discretionary referrals (13) are in its denominator and not its numerator (14)",
    ),
    "counts_only": (
        "15",
        "tables hold counts only (long form, numbers-only count columns); rates, shares, "
        "intervals, medians and odds ratios are worked out on the pages from those counts",
    ),
    "funnel_flags": (
        "14+15",
        "funnel flags are drawn on the pages (targets over all incidents, exact binomial "
        "limits for recording) and are not in the count tables",
    ),
    "day_bands": (
        "14+15",
        "days to decision are published as counts in day bands (every figure a protectable "
        "count); the median band is worked out from them on the page",
    ),
    "held_back_page_only": (
        "14",
        "rows held back are counted on the internal data-quality page only, not in the "
        "ledger of incident counts (a publication pack does not count them)",
    ),
}
# Old numbers dropped with no issue to explain them (reported as regressions): none since
# the two found by the first comparison (days to decision by term; which blank field
# leaves a factor open) were published again.
DROPPED: dict[str, str] = {}


@dataclass
class Cell:
    """One number of the old set and its counterpart in the new one."""

    table: str  # old table
    row: str
    column: str
    old: float | None
    new: float | None = None
    where: str = ""  # the new table (and cells) it is compared with
    kind: str = "count"  # count | rate
    cause: str = ""  # expected cause if it differs (a key of CAUSES or DROPPED)
    check: Callable[[], bool] | None = None  # does the cause hold? (verified, not assumed)
    old_only: bool = False  # the new set publishes no counterpart

    @property
    def same(self) -> bool:
        return not self.old_only and _equal(self.old, self.new)


def _equal(a: float | None, b: float | None) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    return abs(float(a) - float(b)) <= TOLERANCE * max(1.0, abs(float(a)))


def _ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or bottom is None:
        return None
    return float("nan") if bottom == 0 else top / bottom


# ----------------------------------------------------------------------------- reading


class NewSet:
    """The long tables of a new report set, looked up by their categories."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.tables: dict[str, dict[tuple[str, ...], float | None]] = {}
        for path in sorted((folder / "tables").glob("*.csv")):
            if path.name == "README.csv":
                continue
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            dims = [c for c in frame.columns if c not in ("incidents", "not_given_because")]
            keys = frame[dims].itertuples(index=False, name=None)
            self.tables[path.stem] = {
                tuple(key): float(text) if text != "" else None
                for key, text in zip(keys, frame["incidents"], strict=True)
            }
        readme = folder / "tables" / "README.csv"
        self.titles: dict[str, str] = {}
        if readme.exists():
            dictionary = pd.read_csv(readme, dtype=str, keep_default_na=False)
            for record in dictionary.drop_duplicates("table").itertuples(index=False):
                self.titles[record.table.removesuffix(".csv")] = record.title
        self.used: set[str] = set()

    def get(self, table: str, *key: str) -> float | None:
        """One published count (None when the table or cell is absent, or not given)."""
        self.used.add(table)
        return self.tables.get(table, {}).get(tuple(key))

    def total(self, table: str, keys: list[tuple[str, ...]]) -> float | None:
        values = [self.get(table, *k) for k in keys]
        return None if any(v is None for v in values) else float(sum(values))  # type: ignore[arg-type]

    def has(self, table: str) -> bool:
        return table in self.tables

    def requirement_ids(self) -> dict[str, str]:
        """Recording requirement titles (as old tables name them) -> ids (as new tables
        are named), from the data dictionary's captions."""
        out = {}
        for name, title in self.titles.items():
            found = re.fullmatch(r"recording_(.+)_by_setting", name)
            quoted = re.search(r"“(.+?)”", title)
            if found and quoted:
                out[quoted.group(1)] = found.group(1)
        return out


@dataclass
class OldSet:
    folder: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rows: pd.DataFrame | None = None  # the assessed incidents (work/assessed.parquet)
    policy: str = ""
    suppressed: bool = False

    @classmethod
    def read(cls, folder: Path) -> OldSet:
        out = cls(folder)
        for path in sorted((folder / "tables").glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            if frame.isin(["c", "<5"]).any().any() or (frame.iloc[:, :1] == "Total").any().any():
                out.suppressed = True
            out.tables[path.stem] = frame
        assessed = folder / "work" / "assessed.parquet"
        if assessed.exists():
            out.rows = pd.read_parquet(assessed)
        manifest = folder / "manifest.json"
        if manifest.exists():
            out.policy = json.loads(manifest.read_text())["policy"].get("id", "")
        return out


def _number(text: str) -> float | None:
    return None if text in ("", "nan") else float(text)


# ------------------------------------------------------------------- issue 13, recounted


def consistency_v2(rows: pd.DataFrame) -> pd.Series:
    """Each old assessed incident's consistency under the data contract's new table for
    the Cheshire guide (issue 13), with unassessable split by whether it was referred as
    the new `decisions_by_setting` splits it."""
    outcome = rows["guidance_outcome"].astype(str).to_numpy()
    decision = rows["decision"].astype("string").fillna("").to_numpy(dtype=object)
    referred = decision == "referred_police"
    known = decision != ""
    sent = rows["image_sent_to_staff"].astype("boolean")
    sent_true = sent.fillna(False).to_numpy(bool)
    sent_blank = sent.isna().to_numpy()
    out = np.select(
        [
            ~known,
            outcome == "insufficient_information",
            (outcome == "refer_police") & referred,
            outcome == "refer_police",
            ~referred,
            sent_blank,
            sent_true,
        ],
        [
            "no_decision",
            np.where(referred, "unassessable_referred", "unassessable_not_referred"),
            "consistent_referral",
            "under_escalation",
            "consistent_in_setting",
            "unassessable_referred",
            "discretionary_referral",
        ],
        "over_escalation",
    )
    return pd.Series(out, index=rows.index)


REFERRED = (
    "consistent_referral",
    "over_escalation",
    "discretionary_referral",
    "unassessable_referred",
)
NOT_REFERRED = ("consistent_in_setting", "under_escalation", "unassessable_not_referred")
OLD_MEASURES = {
    "referral": (
        ("consistent_referral", "over_escalation"),
        (
            "consistent_referral",
            "over_escalation",
            "under_escalation",
            "consistent_in_setting",
            "unassessable",
        ),
    ),
    "under_escalation": (("under_escalation",), ("under_escalation", "consistent_referral")),
    "over_escalation": (("over_escalation",), ("over_escalation", "consistent_in_setting")),
}
NEW_MEASURES = {
    "referral": (REFERRED, REFERRED + NOT_REFERRED),
    "under_escalation": (("under_escalation",), ("under_escalation", "consistent_referral")),
    "over_escalation": (
        ("over_escalation",),
        ("over_escalation", "consistent_in_setting", "discretionary_referral"),
    ),
}


class Recount:
    """New figures recounted from the old assessed rows with issue 13's rule applied:
    the check that a difference comes from that change and from nothing else."""

    def __init__(self, old: OldSet) -> None:
        self.ok = old.rows is not None and old.policy == "cheshire-quick-guide"
        if self.ok:
            self.split = consistency_v2(old.rows)
            self.before = old.rows["consistency"].astype(str)  # the old table's own values
            self.setting = old.rows["setting_id"].astype(str)

    def decisions(self, setting: str, codes: tuple[str, ...], *, old: bool = False) -> float | None:
        """Incidents of a setting (ALL: every setting) whose consistency is one of `codes`:
        under the new rule, or as the old set assessed them (`old`)."""
        if not self.ok:
            return None
        split = self.before if old else self.split
        chosen = split if setting == ALL else split[self.setting == setting]
        return float(chosen.isin(codes).sum())

    def rate(self, setting: str, measure: str, *, old: bool = False) -> float | None:
        top, bottom = (OLD_MEASURES if old else NEW_MEASURES)[measure]
        return _ratio(
            self.decisions(setting, top, old=old), self.decisions(setting, bottom, old=old)
        )

    def settings(self) -> list[str]:
        return sorted(self.setting.unique()) if self.ok else []


# ------------------------------------------------------------------------ the old tables


Translator = Callable[[pd.DataFrame, NewSet, Recount], Iterator[Cell]]
TRANSLATORS: dict[str, Translator] = {}


def translates(*names: str) -> Callable[[Translator], Translator]:
    def register(function: Translator) -> Translator:
        for name in names:
            TRANSLATORS[name] = function
        return function

    return register


def _rows(frame: pd.DataFrame) -> Iterator[dict[str, str]]:
    yield from frame.to_dict("records")


@translates("agreement_2x2")
def _agreement(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    outcomes = {"refer to police": "refer_police", "handle in setting": "handle_in_setting"}
    for row in _rows(frame):
        outcome = outcomes[row["guidance"]]
        for column, referred in (("n_decision_referred", "yes"), ("n_decision_handled", "no")):
            yield Cell(
                "agreement_2x2",
                row["guidance"],
                column,
                _number(row[column]),
                new.get("agreement_2x2", outcome, referred),
                f"agreement_2x2[{outcome},{referred}]",
            )


@translates("blank_factor_fields_by_setting")
def _blanks(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    fields = [c for c in frame.columns if c not in ("setting_id", "n_incidents")]
    for row in _rows(frame):
        setting = ALL if row["setting_id"] == "all settings" else row["setting_id"]
        for name in fields:
            table = f"blank_{name}_by_setting"
            total = new.get(table, setting, ALL)
            if name == fields[0]:
                yield Cell(
                    frame.attrs["name"],
                    row["setting_id"],
                    "n_incidents",
                    _number(row["n_incidents"]),
                    total,
                    f"{table}[{setting},all]",
                )
            yield Cell(
                frame.attrs["name"],
                row["setting_id"],
                name,
                _number(row[name]),
                _ratio(new.get(table, setting, "yes"), total),
                f"{table}[{setting},yes]/[{setting},all]",
                "rate",
            )


def _dated_rank(n: float, fraction: float) -> int:
    """The 1-based rank of the decision pandas' quantile(interpolation='higher') picks."""
    return math.ceil(fraction * (n - 1)) + 1


BANDS = ["same day", "1 day", "2 to 3 days", "4 to 7 days", "8 to 14 days", "15 days or more"]
LIMITS = [(0, 0), (1, 1), (2, 3), (4, 7), (8, 14), (15, math.inf)]


def _day_cells(name: str, row: dict[str, str], label: str, new: NewSet, table: str, key: str):
    """One old row of days to decision (by setting or by term) against the new table's
    row `key` of day bands: counts equal, medians and 90th percentiles in their band."""
    total, undated = new.get(table, key, ALL), new.get(table, key, "no decision date")
    where = f"{table}[{key},"
    yield Cell(name, label, "n_no_decision_date", _number(row["n_no_decision_date"]), undated,
               where + "no decision date]")  # fmt: skip
    yield Cell(
        name,
        label,
        "n_decided",
        _number(row["n_decided"]),
        None if total is None or undated is None else total - undated,
        where + "all]-[no decision date]",
    )
    counts = [new.get(table, key, b) for b in BANDS]
    for column, fraction in (("median_days", 0.5), ("p90_days", 0.9)):
        value = _number(row[column])

        def within(value=value, fraction=fraction, counts=counts) -> bool:
            """The old day count lies in the band the new counts put that rank in."""
            if value is None or any(c is None for c in counts) or not sum(counts):
                return value is None
            rank, running = _dated_rank(sum(counts), fraction), 0.0
            for count, (low, high) in zip(counts, LIMITS, strict=True):
                running += count
                if running >= rank:
                    return low <= value <= high
            return False

        yield Cell(name, label, column, value, where=where + "bands]", kind="rate",
                   cause="day_bands", check=within, old_only=True)  # fmt: skip


@translates("days_to_decision_by_setting")
def _days_by_setting(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    table = "recording_days_to_decision_by_setting"
    for row in _rows(frame):
        s, name = row["setting"], frame.attrs["name"]
        total = new.get(table, s, ALL)
        yield Cell(name, s, "n_incidents", _number(row["n_incidents"]), total, f"{table}[{s},all]")
        yield from _day_cells(name, row, s, new, table, s)


@translates("days_to_decision_by_term")
def _days_by_term(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    for row in _rows(frame):
        period, name = row["period"], frame.attrs["name"]
        year, _, term = period.partition(" ")
        table = f"recording_days_to_decision_by_term_{year}"
        total = new.get(table, term, ALL)
        yield Cell(name, period, "n_incidents", _number(row["n_incidents"]), total,
                   f"{table}[{term},all]")  # fmt: skip
        yield from _day_cells(name, row, period, new, table, term)


@translates("decisions_by_setting")
def _decisions(frame: pd.DataFrame, new: NewSet, recount: Recount) -> Iterator[Cell]:
    table = "decisions_by_setting"
    parts = {
        "n_consistent_referral": ("consistent_referral",),
        "n_consistent_in_setting": ("consistent_in_setting",),
        "n_under_escalation": ("under_escalation",),
        "n_over_escalation": ("over_escalation",),
        "n_no_decision": ("no_decision",),
        "n_unassessable": ("unassessable_referred", "unassessable_not_referred"),
    }
    for row in _rows(frame):
        s = row["setting"]
        yield Cell(
            table,
            s,
            "n_incidents",
            _number(row["n_incidents"]),
            new.get(table, s, ALL),
            f"{table}[{s},all]",
        )
        for column, codes in parts.items():
            before, after = _number(row[column]), new.total(table, [(s, c) for c in codes])
            old_code = column.removeprefix("n_")

            def check(s=s, codes=codes, before=before, after=after, old_code=old_code) -> bool:
                """The old count is the old rows' and the new one the same rows under
                issue 13's rule."""
                return _equal(recount.decisions(s, (old_code,), old=True), before) and _equal(
                    recount.decisions(s, codes), after
                )

            yield Cell(
                table,
                s,
                column,
                before,
                after,
                f"{table}[{s},{'+'.join(codes)}]",
                cause="referral_rule",
                check=check,
            )


@translates("setting_referral", "setting_under_escalation", "setting_over_escalation")
def _setting_rates(frame: pd.DataFrame, new: NewSet, recount: Recount) -> Iterator[Cell]:
    name = frame.attrs["name"]
    measure = name.removeprefix("setting_")
    table = "decisions_by_setting"
    top, bottom = NEW_MEASURES[measure]
    cause = {"referral": "referral_denominator", "over_escalation": "resolvable_definition"}
    for row in _rows(frame):
        s = row["setting"]
        before = _number(row["rate"])
        after = _ratio(
            new.total(table, [(s, c) for c in top]), new.total(table, [(s, c) for c in bottom])
        )

        def check(s=s, before=before, after=after) -> bool:
            """The old definition on the old rows gives the old rate, the new definition
            on the same rows (issue 13's rule applied) the new one."""
            return _equal(recount.rate(s, measure, old=True), before) and _equal(
                recount.rate(s, measure), after
            )

        yield Cell(
            name,
            s,
            "rate",
            before,
            after,
            f"{table}[{s}]: {'+'.join(top)} / {'+'.join(bottom)}",
            "rate",
            cause.get(measure, ""),
            check,
        )
        for flag in ("outside_95", "outside_998"):
            yield Cell(name, s, flag, None, kind="flag", cause="funnel_flags", old_only=True)


@translates("devices_returned")
def _devices(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    table = "recording_devices_by_setting"
    others = ("guidance says refer", "guidance cannot decide", "low-risk conditions not all shown")
    for row in _rows(frame):
        s = row["setting"]
        name = frame.attrs["name"]
        yield Cell(
            name,
            s,
            "n_returned",
            _number(row["n_returned"]),
            new.get(table, s, ALL),
            f"{table}[{s},all]",
        )
        yield Cell(
            name,
            s,
            "n_low_risk",
            _number(row["n_low_risk"]),
            new.get(table, s, "low-risk case"),
            f"{table}[{s},low-risk case]",
        )
        yield Cell(
            name,
            s,
            "n_not_low_risk",
            _number(row["n_not_low_risk"]),
            new.total(table, [(s, c) for c in others]),
            f"{table}[{s},other three]",
        )


@translates("devices_returned_not_low_risk")
def _devices_why(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    table = "recording_devices_by_setting"
    cases = {
        "the guidance says refer to the police": "guidance says refer",
        "the record is too incomplete for the guidance to decide": "guidance cannot decide",
        "handle in the setting, but not shown to meet every low-risk condition": (
            "low-risk conditions not all shown"
        ),
    }
    for row in _rows(frame):
        case = cases[row["case"]]
        yield Cell(
            frame.attrs["name"],
            row["case"],
            "n_phones",
            _number(row["n_phones"]),
            new.get(table, ALL, case),
            f"{table}[all,{case}]",
        )


@translates("factors_in_under_escalation")
def _factors(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    for row in _rows(frame):
        table = f"factor_{row['factor']}_by_decision"
        present = new.get(table, "under_escalation", "present")
        yield Cell(
            frame.attrs["name"],
            row["factor"],
            "n_incidents",
            _number(row["n_incidents"]),
            present,
            f"{table}[under_escalation,present]",
        )
        yield Cell(
            frame.attrs["name"],
            row["factor"],
            "share",
            _number(row["share"]),
            _ratio(present, new.get(table, "under_escalation", ALL)),
            f"{table}[under_escalation,present]/[under_escalation,all]",
            "rate",
        )


FAIRNESS = {
    "under_escalation": (
        "refer_police",
        "n_guidance_says_refer",
        "n_referred",
        "n_kept_in_setting",
        "share_kept_in_setting",
        "no",
    ),
    "over_escalation": (
        "handle_in_setting",
        "n_guidance_says_handle",
        "n_handled_in_setting",
        "n_referred",
        "share_referred",
        "yes",
    ),
}


def _fairness(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    name = frame.attrs["name"]
    found = re.fullmatch(r"fairness_(.+)_(under_escalation|over_escalation)", name)
    assert found is not None
    column, kind = found.groups()
    answer, total_col, other_col, event_col, share_col, event = FAIRNESS[kind]
    other = "yes" if event == "no" else "no"
    table = f"fairness_{column}_{answer}"
    for row in _rows(frame):
        group = row["group"]
        decided = new.total(table, [(group, "yes"), (group, "no")])
        yield Cell(
            name, group, total_col, _number(row[total_col]), decided, f"{table}[{group},yes+no]"
        )
        yield Cell(
            name,
            group,
            other_col,
            _number(row[other_col]),
            new.get(table, group, other),
            f"{table}[{group},{other}]",
        )
        yield Cell(
            name,
            group,
            event_col,
            _number(row[event_col]),
            new.get(table, group, event),
            f"{table}[{group},{event}]",
        )
        yield Cell(
            name,
            group,
            share_col,
            _number(row[share_col]),
            _ratio(new.get(table, group, event), decided),
            f"{table}[{group},{event}]/[{group},yes+no]",
            "rate",
        )


@translates("fairness_odds_ratios")
def _odds(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    for row in _rows(frame):
        label = f"{row['characteristic']}={row['group']}, {row['measure']}"
        for column in ("odds_ratio", "interval_from", "interval_to"):
            yield Cell(
                frame.attrs["name"],
                label,
                column,
                _number(row[column]),
                kind="rate",
                cause="counts_only",
                old_only=True,
            )


@translates("police_outcomes")
def _police(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    for row in _rows(frame):
        outcome = row["police_outcome"]
        count = new.get("police_outcomes", ALL, outcome)
        yield Cell(
            "police_outcomes",
            outcome,
            "n_incidents",
            _number(row["n_incidents"]),
            count,
            f"police_outcomes[all,{outcome}]",
        )
        yield Cell(
            "police_outcomes",
            outcome,
            "share",
            _number(row["share"]),
            _ratio(count, new.get("police_outcomes", ALL, ALL)),
            f"police_outcomes[all,{outcome}]/[all,all]",
            "rate",
        )


@translates("policy_comparison")
def _policies(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    for row in _rows(frame):
        before = row["outcome_before"]
        for column in [c for c in frame.columns if c.startswith("n_after_")]:
            after = column.removeprefix("n_after_")
            yield Cell(
                "policy_comparison",
                before,
                column,
                _number(row[column]),
                new.get("outcomes_compared", before, after),
                f"outcomes_compared[{before},{after}]",
                cause="national_policy",
            )


@translates("recording_by_setting")
def _gaps_by_setting(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    table = "recording_gaps_by_setting"
    for row in _rows(frame):
        s = row["setting"]
        name = frame.attrs["name"]
        total = new.get(table, s, ALL)
        for column, key in (("n_incidents", ALL), ("n_without_gap", "no"), ("n_with_gap", "yes")):
            yield Cell(
                name, s, column, _number(row[column]), new.get(table, s, key), f"{table}[{s},{key}]"
            )
        yield Cell(
            name,
            s,
            "rate",
            _number(row["rate"]),
            _ratio(new.get(table, s, "yes"), total),
            f"{table}[{s},yes]/[{s},all]",
            "rate",
        )
        for flag in ("outside_95", "outside_998"):
            yield Cell(name, s, flag, None, kind="flag", cause="funnel_flags", old_only=True)


SHORT = ("not_done", "not_recorded")
KNOWN = ("met", "not_done", "not_recorded")


@translates("recording_requirements")
def _requirements(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    ids = new.requirement_ids()
    parts = {
        "n_incidents": ALL,
        "n_met": "met",
        "n_not_done": "not_done",
        "n_not_recorded": "not_recorded",
        "n_unsettled": "unsettled",
    }
    for row in _rows(frame):
        title = row["requirement"]
        table = f"recording_{ids.get(title, '?')}_by_setting"
        for column, state in parts.items():
            yield Cell(
                frame.attrs["name"],
                title,
                column,
                _number(row[column]),
                new.get(table, ALL, state),
                f"{table}[all,{state}]",
            )
        yield Cell(
            frame.attrs["name"],
            title,
            "share_fell_short",
            _number(row["share_fell_short"]),
            _ratio(
                new.total(table, [(ALL, k) for k in SHORT]),
                new.total(table, [(ALL, k) for k in KNOWN]),
            ),
            f"{table}[all]: not_done+not_recorded / met+not_done+not_recorded",
            "rate",
        )


@translates("recording_by_setting_and_requirement")
def _requirement_grid(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    ids = new.requirement_ids()
    for row in _rows(frame):
        s, title = row["setting"], row["requirement"]
        table = f"recording_{ids.get(title, '?')}_by_setting"
        yield Cell(
            frame.attrs["name"],
            f"{s} / {title}",
            "share_fell_short",
            _number(row["share_fell_short"]),
            _ratio(
                new.total(table, [(s, k) for k in SHORT]), new.total(table, [(s, k) for k in KNOWN])
            ),
            f"{table}[{s}]: not_done+not_recorded / met+not_done+not_recorded",
            "rate",
        )


@translates("recording_by_term")
def _gaps_by_term(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    for row in _rows(frame):
        year, term = row["period"].split(" ", 1)
        table = f"recording_gaps_by_term_{year}"
        name = frame.attrs["name"]
        for column, key in (("n_incidents", ALL), ("n_without_gap", "no"), ("n_with_gap", "yes")):
            yield Cell(
                name,
                row["period"],
                column,
                _number(row[column]),
                new.get(table, term, key),
                f"{table}[{term},{key}]",
            )
        yield Cell(
            name,
            row["period"],
            "rate_gap",
            _number(row["rate_gap"]),
            _ratio(new.get(table, term, "yes"), new.get(table, term, ALL)),
            f"{table}[{term},yes]/[{term},all]",
            "rate",
        )
        for column in ("low_gap", "high_gap"):
            yield Cell(
                name,
                row["period"],
                column,
                _number(row[column]),
                kind="rate",
                cause="counts_only",
                old_only=True,
            )


@translates("referrals_by_term")
def _referrals_by_term(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    name = "referrals_by_term"
    for row in _rows(frame):
        p = row["period"]
        total = new.get(name, p, ALL)
        referred = new.get(name, p, "yes")
        known = new.total(name, [(p, "yes"), (p, "no")])
        refer = new.get("guidance_by_term", p, "refer_police")
        old_rate = _number(row["rate_referred"])
        yield Cell(name, p, "n_incidents", _number(row["n_incidents"]), total, f"{name}[{p},all]")
        yield Cell(name, p, "n_referred", _number(row["n_referred"]), referred, f"{name}[{p},yes]")
        yield Cell(
            name,
            p,
            "rate_referred",
            old_rate,
            _ratio(referred, known),
            f"{name}[{p},yes]/[{p},yes+no]",
            "rate",
            "referral_denominator",
            lambda old_rate=old_rate, referred=referred, total=total: _equal(
                old_rate, _ratio(referred, total)
            ),
        )
        yield Cell(
            name,
            p,
            "n_guidance_refer",
            _number(row["n_guidance_refer"]),
            refer,
            f"guidance_by_term[{p},refer_police]",
        )
        yield Cell(
            name,
            p,
            "rate_guidance_refer",
            _number(row["rate_guidance_refer"]),
            _ratio(refer, new.get("guidance_by_term", p, ALL)),
            f"guidance_by_term[{p},refer_police]/[{p},all]",
            "rate",
        )
        for column in (
            "low_referred",
            "high_referred",
            "low_guidance_refer",
            "high_guidance_refer",
        ):
            yield Cell(
                name,
                p,
                column,
                _number(row[column]),
                kind="rate",
                cause="counts_only",
                old_only=True,
            )


@translates("rows_held_back_by_check")
def _held_back(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    for row in _rows(frame):
        yield Cell(
            frame.attrs["name"],
            row["check"],
            "n_rows",
            _number(row["n_rows"]),
            cause="held_back_page_only",
            old_only=True,
        )


@translates("undecidable_causes")
def _undecided(frame: pd.DataFrame, new: NewSet, _: Recount) -> Iterator[Cell]:
    for row in _rows(frame):
        factor, blank = row["factor"], row["blank_field"]
        table = f"undecided_{factor}_blank_{blank}"
        yield Cell(
            frame.attrs["name"],
            f"{factor} / {blank}",
            "n_incidents",
            _number(row["n_incidents"]),
            new.get(table, ALL, "yes"),
            f"{table}[all,yes]",
        )


for _name in (
    "child_sex",
    "child_sen",
    "child_ethnicity_group",
    "child_looked_after",
    "child_disadvantaged",
):
    for _kind in ("under_escalation", "over_escalation"):
        TRANSLATORS[f"fairness_{_name}_{_kind}"] = _fairness


# -------------------------------------------------------------------------- comparing


@dataclass
class Result:
    name: str
    cells: list[Cell]
    unknown_tables: list[str]  # old tables this script cannot translate
    new_only: list[str]
    suppressed: bool
    verifiable: bool
    recounted: tuple[int, int, list[str]] = (0, 0, [])  # equal, compared, cells that are not
    old_empty: dict[str, bool] = field(default_factory=dict)  # old table -> new has one too

    def by_table(self) -> dict[str, list[Cell]]:
        out: dict[str, list[Cell]] = defaultdict(list)
        for cell in self.cells:
            out[cell.table].append(cell)
        return out


def verdict(cell: Cell) -> str:
    """identical | explained:<cause> | old_only:<cause> | regression:<why>"""
    if cell.same:
        return "identical"
    if cell.old_only:
        if cell.cause in DROPPED:
            return f"regression:{cell.cause}"
        if cell.check is not None and not cell.check():
            return f"regression:{cell.cause} check failed"
        return f"old_only:{cell.cause}"
    if cell.new is None:
        return "regression:not found in the new set"
    if cell.cause and cell.check is not None and cell.check():
        return f"explained:{cell.cause}"
    if cell.cause and cell.check is None:
        return f"explained:{cell.cause} (unchecked)"
    return "regression:values differ" + (
        f" (expected cause {cell.cause} does not hold)" if cell.cause else ""
    )


def compare(old_dir: Path, new_dir: Path) -> Result:
    old = OldSet.read(old_dir)
    new = NewSet(new_dir)
    recount = Recount(old)
    cells: list[Cell] = []
    unknown = []
    for name, frame in old.tables.items():
        frame.attrs["name"] = name
        translator = TRANSLATORS.get(name)
        if translator is None:
            unknown.append(name)
            continue
        cells.extend(translator(frame, new, recount))
    new_only = sorted(set(new.tables) - new.used)
    return Result(
        old_dir.name,
        cells,
        unknown,
        new_only,
        old.suppressed,
        recount.ok,
        recount_decisions(new, recount),
        {name: new.has(name) for name, frame in old.tables.items() if frame.empty},
    )


def recount_decisions(new: NewSet, recount: Recount) -> tuple[int, int, list[str]]:
    """The whole new `decisions_by_setting` (its new columns too) against the old set's
    assessed rows recounted under issue 13's rule: every cell must agree."""
    table = "decisions_by_setting"
    if not recount.ok or not new.has(table):
        return 0, 0, []
    equal, wrong = 0, []
    for key, value in new.tables[table].items():
        setting, code = key
        codes = REFERRED + NOT_REFERRED + ("no_decision",) if code == ALL else (code,)
        if _equal(recount.decisions(setting, codes), value):
            equal += 1
        else:
            wrong.append(
                f"{table}[{setting},{code}]: new {value}, "
                f"recounted {recount.decisions(setting, codes)}"
            )
    return equal, equal + len(wrong), wrong


def summarise(result: Result, *, detail: bool = False) -> list[str]:
    lines = [f"== {result.name}"]
    if result.suppressed:
        lines.append("  WARNING: the old set hides small counts; run it with --no-suppression")
    if not result.verifiable:
        lines.append("  note: no old assessed rows or not the Cheshire guide: issue 13 unchecked")
    identical, differing, regressions = [], [], []
    groups: dict[str, int] = defaultdict(int)
    for table, cells in sorted(result.by_table().items()):
        verdicts = [verdict(c) for c in cells]
        compared = [v for c, v in zip(cells, verdicts, strict=True) if not c.old_only]
        same = sum(v == "identical" for v in compared)
        only = len(cells) - len(compared)
        for cell, v in zip(cells, verdicts, strict=True):
            if v != "identical":
                groups[f"{table}: {v}"] += 1
            if v.startswith("regression"):
                regressions.append((table, cell, v))
        if same == len(compared) and not only:
            identical.append(f"{table} ({same})")
        else:
            note = f"{table}: {same}/{len(compared)} compared cells identical"
            if only:
                note += f", {only} old only"
            differing.append(note)
    equal, compared, wrong = result.recounted
    if compared:
        lines.append(
            f"  decisions_by_setting recounted from the old assessed rows under issue "
            f"13's rule: {equal}/{compared} cells equal"
        )
        lines += [f"    REGRESSION {w}" for w in wrong]
    total = [c for c in result.cells if not c.old_only]
    same_total = sum(c.same for c in total)
    lines.append(
        f"  numbers compared: {len(total)}, identical: {same_total}, "
        f"old only: {len(result.cells) - len(total)}"
    )
    lines.append(f"  tables identical ({len(identical)}): " + ", ".join(identical))
    if differing:
        lines.append(f"  tables not identical ({len(differing)}):")
        lines += [f"    {d}" for d in differing]
    if groups:
        lines.append("  differences by table and cause (cells):")
        for key, count in sorted(groups.items()):
            lines.append(f"    {count:4d}  {key}")
    if result.old_empty:
        lines.append(
            "  old tables with no rows (nothing to compare): "
            + ", ".join(
                f"{t} ({'a new table of that name exists' if has else 'no new table of that name'})"
                for t, has in result.old_empty.items()
            )
        )
    if result.unknown_tables:
        lines.append("  old tables this script does not know: " + ", ".join(result.unknown_tables))
    families = _families(result.new_only)
    lines.append(
        f"  new-only tables ({len(result.new_only)}): "
        + ", ".join(f"{k} ({n})" if n > 1 else k for k, n in families.items())
    )
    if regressions:
        lines.append(f"  REGRESSIONS ({len(regressions)} cells, no issue explains them):")
        grouped: dict[tuple[str, str], list[Cell]] = defaultdict(list)
        for table, cell, v in regressions:
            grouped[table, v].append(cell)
        for (table, v), cells in grouped.items():
            first = cells[0]
            lines.append(
                f"    {table}: {len(cells)} cells, {v}; e.g. [{first.row}, {first.column}] "
                f"old {first.old} new {first.new} ({first.where or 'no counterpart'})"
            )
    if detail:
        lines.append("  every differing cell:")
        for cell in result.cells:
            v = verdict(cell)
            if v != "identical":
                lines.append(
                    f"    {cell.table}[{cell.row}, {cell.column}]: old {cell.old} "
                    f"new {cell.new} <- {cell.where or '-'}: {v}"
                )
    return lines


FAMILIES = (
    (r"fairness_.+_insufficient_information(_.+)?", "fairness_<group>_insufficient_information*"),
    (r"fairness_.+_(not_)?referred_by_setting", "fairness_<group>_<answer>_<decided>_by_setting"),
    (r"undecided_.+", "undecided_<factor>"),
    (r"(.+)_\d{4}-\d{2}", r"\1_<year>"),
)


def _families(names: list[str]) -> dict[str, int]:
    """Table names grouped where they differ only by a group, factor or year."""
    out: dict[str, int] = defaultdict(int)
    for name in names:
        for pattern, family in FAMILIES:
            if re.fullmatch(pattern, name):
                name = re.sub(pattern, family, name)
                break
        out[name] += 1
    return dict(out)


def causes_legend(results: list[Result]) -> list[str]:
    used = set()
    for result in results:
        for cell in result.cells:
            v = verdict(cell)
            if ":" in v:
                used.add(v.split(":", 1)[1].split(" ", 1)[0])
    lines = ["== causes"]
    for key in sorted(used):
        if key in CAUSES:
            issue, text = CAUSES[key]
            lines.append(f"  {key} (issue {issue}): {text}")
        elif key in DROPPED:
            lines.append(f"  {key} (NO ISSUE): {DROPPED[key]}")
    return lines


def pairs(old_dir: Path, new_dir: Path) -> list[tuple[Path, Path]]:
    if (old_dir / "tables").is_dir() and (new_dir / "tables").is_dir():
        return [(old_dir, new_dir)]
    names = sorted(p.name for p in old_dir.iterdir() if (p / "tables").is_dir())
    return [(old_dir / n, new_dir / n) for n in names if (new_dir / n / "tables").is_dir()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old_dir", type=Path, help="report set (or folder of sets) before")
    parser.add_argument("new_dir", type=Path, help="report set (or folder of sets) after")
    parser.add_argument("--detail", action="store_true", help="list every differing cell")
    args = parser.parse_args(argv)
    found = pairs(args.old_dir, args.new_dir)
    if not found:
        print("No pair of report sets (folders with tables/) found.", file=sys.stderr)
        return 2
    results = [compare(old, new) for old, new in found]
    for result in results:
        print("\n".join(summarise(result, detail=args.detail)))
    print("\n".join(causes_legend(results)))
    regressions = sum(verdict(c).startswith("regression") for r in results for c in r.cells)
    regressions += sum(len(r.recounted[2]) for r in results)
    print(f"== {len(results)} set(s); {regressions} cell(s) with no issue to explain them")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
