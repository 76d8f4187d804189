"""The numbers behind the recording report: which of the policy's recording requirements
settings fall short of, where, since when, how quickly they decide, and phones handed
back when the case was not a low-risk one.

Every requirement of the policy puts each incident in one of five states:

- not applicable: the requirement is not about this incident (its `applies` condition,
  e.g. no image was viewed, so the viewing safeguards do not arise);
- met: the record shows every step was done;
- not done: the record says a step was not done;
- not recorded: the only gap is that nobody wrote the step down;
- unsettled: the record is too incomplete to say whether the requirement arose.

The states are the engine's (`states.py`): the assessed rows carry them, so nothing here
evaluates a rule again.
Functions return aggregated frames with `n_...` counts, never incident rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..policy import Policy
from ..states import (  # noqa: F401 (re-exported for the notebooks and tests)
    MET,
    NOT_APPLICABLE,
    NOT_DONE,
    NOT_RECORDED,
    UNSETTLED,
    column,
)
from ..stats import funnel, wilson_interval
from .analysis import TERMS, blank_units, with_periods

# The counts of one requirement: a partition of the incidents it applied to.
PARTS = ("n_met", "n_not_done", "n_not_recorded", "n_unsettled")


@dataclass(frozen=True)
class States:
    """Each requirement's state on every incident (codes above), in policy order."""

    ids: tuple[str, ...]
    titles: tuple[str, ...]
    codes: np.ndarray  # shape (incidents, requirements), int8

    def column(self, requirement: str) -> np.ndarray:
        return self.codes[:, self.ids.index(requirement)]

    @property
    def any_gap(self) -> np.ndarray:
        """Incidents that fall short of at least one requirement."""
        return ((self.codes == NOT_DONE) | (self.codes == NOT_RECORDED)).any(axis=1)


def requirement_states(
    frame: pd.DataFrame, policy: str | Policy | None = None, params: Mapping[str, Any] | None = None
) -> States:
    """The state of every recording requirement on every assessed incident, as the engine
    settled it (the `requirement:` state columns of rows assessed with their states)."""
    from ..engine import saved_policy

    rules = saved_policy(frame)[0].recording
    ids = tuple(rule.id for rule in rules)
    columns = [frame[column("recording", rule_id)].to_numpy(dtype=np.int8) for rule_id in ids]
    codes = np.column_stack(columns) if columns else np.zeros((len(frame), 0), dtype=np.int8)
    return States(ids, tuple(rule.title for rule in rules), codes)


# --------------------------------------------------------------------------- tables


def _partition(codes: np.ndarray) -> dict[str, int]:
    counts = np.bincount(codes, minlength=5)
    return {
        "n_incidents": int(counts[MET:].sum()),
        "n_met": int(counts[MET]),
        "n_not_done": int(counts[NOT_DONE]),
        "n_not_recorded": int(counts[NOT_RECORDED]),
        "n_unsettled": int(counts[UNSETTLED]),
    }


# A share of the incidents a requirement is known to apply to rests on these counts.
SHARE_RESTS_ON = ("n_met", "n_not_done", "n_not_recorded")


def _share(short: Any, known: Any) -> Any:
    return short / np.where(known > 0, known, np.nan)


def requirements(states: States) -> pd.DataFrame:
    """For each requirement: the incidents it concerns or may concern (`n_incidents`),
    split into met, not done, not recorded and unsettled, and the share that fell short
    of those it is known to apply to (unsettled ones are left out of the share: counting
    them as met would flatter a poor record)."""
    rows = [
        {"requirement": title, **_partition(states.codes[:, k])}
        for k, title in enumerate(states.titles)
    ]
    table = pd.DataFrame(rows, columns=["requirement", "n_incidents", *PARTS])
    short = table["n_not_done"] + table["n_not_recorded"]
    table["share_fell_short"] = _share(short, short + table["n_met"]).astype(float)
    return table


def setting_shares(frame: pd.DataFrame, states: States, threshold: int = 0) -> pd.DataFrame:
    """For every setting and requirement, the share of incidents the requirement is known
    to apply to that fell short; no counts are published with it.

    A share with a known denominator gives its counts away, and the trust's totals per
    requirement are published, so the shares are withheld as if the counts behind them
    (fell short, met) were published in a setting-by-requirement table with column
    totals: small ones, and enough others that none can be worked out from the totals.
    """
    from ..disclosure import suppress

    settings = frame["setting_id"].astype(str).to_numpy()
    names = np.unique(settings)
    short = (states.codes == NOT_DONE) | (states.codes == NOT_RECORDED)
    met = states.codes == MET
    columns = [f"n_{k}" for k in range(len(states.ids))]

    def per_setting(mask: np.ndarray) -> pd.DataFrame:
        counts = pd.DataFrame(mask, columns=columns).groupby(settings, sort=True).sum()
        return counts.reset_index(drop=True).astype(np.int64)

    short_counts, met_counts = per_setting(short), per_setting(met)
    share = _share(short_counts.to_numpy(), (short_counts + met_counts).to_numpy())
    if threshold:
        hidden = np.zeros(share.shape, dtype=bool)
        for counts in (short_counts, met_counts):
            mask = suppress(counts, columns, threshold, col_totals=True).mask
            hidden |= mask.to_numpy()[: len(names)]
        share = np.where(hidden, np.nan, share)
    return pd.DataFrame(
        {
            "setting": np.repeat(names, len(states.ids)),
            "requirement": np.tile(np.array(states.titles, dtype=object), len(names)),
            "share_fell_short": share.reshape(-1),
        }
    )


def setting_funnel(frame: pd.DataFrame, states: States, threshold: int = 0) -> pd.DataFrame:
    """Each setting's share of incidents with at least one recording gap, on a funnel
    against the trust's share.

    The limits are plain binomial ones, without the allowance for overdispersion used for
    decisions: every setting is meant to meet the same recording standard, so a setting
    that records worse than the trust is the finding, not noise to be absorbed. The unit
    is the incident, so the steps of one incident are not counted as independent trials.
    Settings differ in case mix (more phones given back, say), which this does not adjust
    for. Rates and flags resting on small numbers are withheld.
    """
    units = (
        pd.DataFrame({"unit": frame["setting_id"].astype(str).to_numpy(), "k": states.any_gap})
        .groupby("unit", sort=True)
        .agg(k=("k", "sum"), n=("k", "size"))
        .reset_index()
    )
    table = funnel(units, overdispersion=False)
    if threshold:
        met = table["n"] - table["k"]
        small = ((table["k"] > 0) & (table["k"] < threshold)) | (table["n"] < threshold)
        small |= (met > 0) & (met < threshold)
        table = blank_units(table, small)
    return table


FUNNEL_PUBLISH = {
    "row_total": "n_incidents",
    "col_totals": True,
    "rates": {"rate": ("n_with_gap", "n_without_gap")},
}


def funnel_counts(table: pd.DataFrame) -> pd.DataFrame:
    """The setting funnel as a published table: each setting's incidents with and without
    a gap (a partition), the share with one and the flags."""
    out = table.rename(columns={"unit": "setting", "k": "n_with_gap", "n": "n_incidents"})
    out["n_without_gap"] = out["n_incidents"] - out["n_with_gap"]
    columns = ["n_incidents", "n_without_gap", "n_with_gap", "rate", "outside_95", "outside_998"]
    return out[["setting", *columns]]


def as_published(table: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
    """The funnel with each setting's rate and flags blank where the published table
    (`shown`: `funnel_counts` after `Report.protect`) blanks its rate, so no sentence or
    chart names a setting whose numbers are hidden."""
    return blank_units(table, shown["rate"].isna().to_numpy()[: len(table)])


def by_term(frame: pd.DataFrame, states: States) -> pd.DataFrame:
    """Incidents with and without a recording gap by academic year and term, with the
    share with a gap and its 95% interval: a trend that shows whether training helped."""
    periods = with_periods(frame)
    data = pd.DataFrame(
        {
            "academic_year": periods["academic_year"].to_numpy(),
            "term": periods["term"].to_numpy(),
            "gap": states.any_gap,
        }
    )
    table = (
        data.groupby(["academic_year", "term"], sort=False)
        .agg(n_incidents=("gap", "size"), n_with_gap=("gap", "sum"))
        .reset_index()
    )
    table = _term_order(table)
    table["n_without_gap"] = table["n_incidents"] - table["n_with_gap"]
    low, high = wilson_interval(table["n_with_gap"], table["n_incidents"])
    table["rate_gap"] = table["n_with_gap"] / table["n_incidents"]
    table["low_gap"], table["high_gap"] = low, high
    return table[
        [
            "period",
            "n_incidents",
            "n_without_gap",
            "n_with_gap",
            "rate_gap",
            "low_gap",
            "high_gap",
        ]
    ]


def _term_order(table: pd.DataFrame) -> pd.DataFrame:
    table = table[table["term"].astype(str) != ""].copy()
    table["term"] = pd.Categorical(table["term"], TERMS, ordered=True)
    table = table.sort_values(["academic_year", "term"]).reset_index(drop=True)
    table["period"] = table["academic_year"].astype(str) + " " + table["term"].astype(str)
    return table


# --------------------------------------------------------------------------- timeliness


def days_to_decision(frame: pd.DataFrame) -> pd.Series:
    """Whole days from the report to the decision; blank while no decision date is set.
    The validation gate refuses a decision dated before its report."""
    reported = pd.to_datetime(frame["reported_on"], errors="coerce")
    decided = pd.to_datetime(frame["decided_on"], errors="coerce")
    return (decided - reported).dt.days.astype("Float64")


def timeliness(frame: pd.DataFrame, by: str, threshold: int = 0) -> pd.DataFrame:
    """Median and 90th-percentile days from report to decision, with the incidents that
    have no decision date counted beside them; `by` is "setting" or "term".

    Both are days some decision actually took (the next one up, never a value in
    between), so neither hints at how many decisions there were, and a count hidden to
    protect its neighbour does not blank them. They are withheld where fewer than
    `threshold` decisions are dated: a median of two is one child's date.
    """
    days = days_to_decision(frame).astype(float).to_numpy()
    if by == "setting":
        keys = {"setting": frame["setting_id"].astype(str).to_numpy()}
    else:
        periods = with_periods(frame)
        keys = {
            "academic_year": periods["academic_year"].to_numpy(),
            "term": periods["term"].to_numpy(),
        }
    data = pd.DataFrame({**keys, "days": days, "decided": ~np.isnan(days)})
    grouped = data.groupby(list(keys), sort=True)
    table = grouped.agg(
        n_incidents=("days", "size"),
        n_decided=("decided", "sum"),
        median_days=("days", lambda d: d.quantile(0.5, interpolation="higher")),
        p90_days=("days", lambda d: d.quantile(0.9, interpolation="higher")),
    ).reset_index()
    table["n_no_decision_date"] = table["n_incidents"] - table["n_decided"]
    if threshold:
        few = table["n_decided"] < threshold
        table[["median_days", "p90_days"]] = table[["median_days", "p90_days"]].mask(few)
    if by != "setting":
        table = _term_order(table)
    label = "setting" if by == "setting" else "period"
    columns = ["n_incidents", "n_decided", "n_no_decision_date", "median_days", "p90_days"]
    return table[[label, *columns]]


# --------------------------------------------------------------------------- devices


def devices_returned(frame: pd.DataFrame) -> pd.DataFrame:
    """Per setting, phones given back, split by whether the case was low-risk: the
    guidance handles it in the setting and it meets every experimental criterion. A
    return in any other case goes against the guide's plainest instruction."""
    returned = frame["device_returned"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    outcome = frame["guidance_outcome"].astype(str).to_numpy()
    experimental = frame["experimental"].astype("boolean")
    low_risk = (outcome == "handle_in_setting") & experimental.fillna(False).to_numpy(dtype=bool)
    data = pd.DataFrame(
        {
            "setting": frame["setting_id"].astype(str).to_numpy()[returned],
            "n_low_risk": low_risk[returned],
            "n_guidance_refer": (outcome == "refer_police")[returned],
            "n_guidance_undecided": (outcome == "insufficient_information")[returned],
            "n_not_shown_low_risk": ((outcome == "handle_in_setting") & ~low_risk)[returned],
        }
    )
    counts = data.groupby("setting", sort=True).sum().astype(np.int64)
    all_settings = sorted(frame["setting_id"].astype(str).unique())
    counts = counts.reindex(all_settings, fill_value=0).rename_axis("setting").reset_index()
    counts.insert(1, "n_returned", counts.iloc[:, 1:].sum(axis=1))
    return counts


NOT_LOW_RISK = ("n_guidance_refer", "n_guidance_undecided", "n_not_shown_low_risk")


def returned_not_low_risk(table: pd.DataFrame) -> int:
    return int(table[list(NOT_LOW_RISK)].sum().sum())


REASONS = {
    "n_guidance_refer": "the guidance says refer to the police",
    "n_guidance_undecided": "the record is too incomplete for the guidance to decide",
    "n_not_shown_low_risk": "handle in the setting, but not shown to meet every low-risk condition",
}


def devices_by_setting(table: pd.DataFrame) -> pd.DataFrame:
    """Per setting, phones given back in low-risk cases and in any other: two counts
    instead of four, so fewer are too small to show."""
    return pd.DataFrame(
        {
            "setting": table["setting"],
            "n_returned": table["n_returned"],
            "n_low_risk": table["n_low_risk"],
            "n_not_low_risk": table[list(NOT_LOW_RISK)].sum(axis=1),
        }
    )


def devices_by_reason(table: pd.DataFrame) -> pd.DataFrame:
    """Across the trust, the phones given back when the case was not low-risk, by why."""
    return pd.DataFrame(
        {
            "case": list(REASONS.values()),
            "n_phones": [int(table[column].sum()) for column in REASONS],
        }
    )


# --------------------------------------------------------------------------- words


def largest_gaps(table: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The rows with the highest share that fell short (shares already withheld where
    small are skipped), largest first."""
    shown = table.dropna(subset=["share_fell_short"])
    shown = shown[shown["share_fell_short"] > 0]
    return shown.sort_values("share_fell_short", ascending=False, kind="stable").head(top)


def summary(
    report: Any,
    per_requirement: pd.DataFrame,
    funnel_table: pd.DataFrame,
    per_setting: pd.DataFrame,
    devices: pd.DataFrame,
) -> str:
    """The page's opening paragraph: the requirements and settings with the largest gaps,
    the settings that stand out from the trust, and devices returned when not low-risk.
    Every count in it passes through `report.small`, so small numbers stay hidden."""
    from .narrative import scope

    parts = ["**Summary.** " + scope(report)]
    worst = largest_gaps(per_requirement, 2)
    if len(worst):
        described = [
            f"{row.requirement.lower()} ({row.share_fell_short:.0%} of the incidents it is "
            "known to apply to)"
            for row in worst.itertuples()
        ]
        parts.append("The gaps found most often: " + "; ".join(described) + ".")
    else:
        parts.append("No recording requirement fell short in any incident shown here.")
    high = funnel_table[funnel_table["outside_998"] == "high"]["unit"].tolist()
    theta = funnel_table.attrs.get("theta", float("nan"))
    if high:
        parts.append(
            f"{_names(high)} left recording gaps in far more incidents than the trust as a "
            f"whole ({theta:.0%} of incidents have at least one), by more than chance "
            "explains (above the 99.8% limits of the funnel plot): their records need "
            "attention first."
        )
    else:
        parts.append(
            "No setting leaves recording gaps in more incidents than the trust as a whole "
            f"({theta:.0%} of incidents have at least one) by more than chance would explain."
        )
    inner_only = (funnel_table["outside_95"] == "high") & (funnel_table["outside_998"] != "high")
    watch = funnel_table.loc[inner_only, "unit"].tolist()
    if watch:
        parts.append(
            f"{_names(watch)} also left gaps more often than the trust, above the 95% limit "
            "but not the 99.8% one: worth watching, as about one setting in forty lands "
            "there by chance."
        )
    pair = largest_gaps(per_setting, 1)
    if len(pair):
        row = pair.iloc[0]
        parts.append(
            f"The largest single gap is at {row['setting']}: "
            f"{row['requirement'].lower()}, in {row['share_fell_short']:.0%} of the "
            "incidents it is known to apply to there."
        )
    not_low = returned_not_low_risk(devices)
    if not_low:
        parts.append(
            f"A phone was given back in {report.small(not_low)} incidents that were not "
            "shown to be low-risk cases handled in the setting: the guide allows a return "
            "only then (see 'Phones given back')."
        )
    else:
        parts.append("No phone was given back except in low-risk cases handled in the setting.")
    return " ".join(parts)


def devices_sentence(report: Any, devices: pd.DataFrame) -> str:
    """What the phones table says, with its small numbers hidden."""
    total = int(devices["n_returned"].sum())
    not_low = returned_not_low_risk(devices)
    refer = int(devices["n_guidance_refer"].sum())
    if not total:
        return "No phone was recorded as given back."
    return (
        f"Of {report.small(total)} phones given back, {report.small(not_low)} were in cases "
        f"not shown to be low-risk; in {report.small(refer)} of them the guidance says the "
        "police should have been told."
    )


def _names(items: list[str]) -> str:
    if len(items) == 1:
        return f"Setting {items[0]}"
    return "Settings " + ", ".join(items[:-1]) + " and " + items[-1]
