"""The numbers behind the escalation, consistency and data-quality reports.

Every function takes the assessed incidents and returns an aggregated frame (counts in
`n_...` columns), never incident rows, so whatever a page shows is already safe to
aggregate further. All of it is vectorised pandas: a million incidents take seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import contract
from ..stats import academic_year, agreement, funnel, term, wilson_interval

TERMS = ("autumn", "spring", "summer")


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("")


def _ids(series: pd.Series) -> pd.Series:
    """`;`-joined id lists exploded to one id per row (empty lists dropped)."""
    ids = _text(series).str.split(";").explode()
    return ids[ids != ""]


def with_periods(frame: pd.DataFrame) -> pd.DataFrame:
    """Academic year and term of each incident, from the date it was reported."""
    return frame.assign(
        academic_year=academic_year(frame["reported_on"]), term=term(frame["reported_on"])
    )


def trend(frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents, police referrals and guidance-recommended referrals by year and term."""
    periods = with_periods(frame)
    periods = periods.assign(
        referred=(_text(periods["decision"]) == "referred_police"),
        guidance=(_text(periods["guidance_outcome"]) == "refer_police"),
    )
    table = (
        periods.groupby(["academic_year", "term"], observed=True, sort=False)
        .agg(
            n_incidents=("incident_id", "size"),
            n_referred=("referred", "sum"),
            n_guidance_refer=("guidance", "sum"),
        )
        .reset_index()
    )
    table["term"] = pd.Categorical(table["term"], TERMS, ordered=True)
    table = table.sort_values(["academic_year", "term"]).reset_index(drop=True)
    table["period"] = table["academic_year"].astype(str) + " " + table["term"].astype(str)
    for what in ("referred", "guidance_refer"):
        low, high = wilson_interval(table[f"n_{what}"], table["n_incidents"])
        table[f"rate_{what}"] = table[f"n_{what}"] / table["n_incidents"]
        table[f"low_{what}"], table[f"high_{what}"] = low, high
    return table[
        [
            "period",
            "academic_year",
            "term",
            "n_incidents",
            "n_referred",
            "rate_referred",
            "low_referred",
            "high_referred",
            "n_guidance_refer",
            "rate_guidance_refer",
            "low_guidance_refer",
            "high_guidance_refer",
        ]
    ]


# The three per-setting measures: (numerator mask, denominator mask) over consistency.
MEASURES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "referral": (
        "police referral rate",
        ("consistent_referral", "over_escalation"),
        (
            "consistent_referral",
            "over_escalation",
            "under_escalation",
            "consistent_in_setting",
            "unassessable",
        ),
    ),
    "under_escalation": (
        "under-escalation rate",
        ("under_escalation",),
        ("under_escalation", "consistent_referral"),
    ),
    "over_escalation": (
        "over-escalation rate",
        ("over_escalation",),
        ("over_escalation", "consistent_in_setting"),
    ),
}
MEASURE_EXPLAINED = {
    "referral": "of incidents with a recorded decision, the share referred to the police",
    "under_escalation": "of incidents the guidance says the police should have been told "
    "about, the share handled in the setting instead",
    "over_escalation": "of incidents the guidance says staff could have handled, the share "
    "referred to the police",
}


def setting_funnel(frame: pd.DataFrame, measure: str, threshold: int = 0) -> pd.DataFrame:
    """One measure per setting with funnel-plot limits and the settings outside them.

    Where a setting's count is small (1 to threshold-1) or its total is below the
    threshold, its rate and its outlier flags rest on a hidden number: they are withheld,
    so neither a page nor a sentence can reveal it.
    """
    _, numerator, denominator = MEASURES[measure]
    consistency = _text(frame["consistency"])
    units = (
        pd.DataFrame(
            {
                "unit": frame["setting_id"].astype(str),
                "k": consistency.isin(numerator).to_numpy(),
                "n": consistency.isin(denominator).to_numpy(),
            }
        )
        .groupby("unit", sort=True)
        .sum()
        .reset_index()
    )
    table = funnel(units)
    if threshold:
        small = ((table["k"] > 0) & (table["k"] < threshold)) | (table["n"] < threshold)
        table = blank_units(table, small)
    return table


def blank_units(table: pd.DataFrame, blank: Any) -> pd.DataFrame:
    """A funnel table with the rate and outlier flags of the `blank` units withheld."""
    mask = np.asarray(blank, dtype=bool)
    out = table.copy()
    out["rate"] = out["rate"].mask(mask)
    for flag in ("outside_95", "outside_998"):
        out[flag] = out[flag].mask(mask, "")
    return out


def decisions_by_setting(frame: pd.DataFrame) -> pd.DataFrame:
    """Each setting's incidents split by how the decision compares with the guidance: one
    partition from which every per-setting rate of the page is worked out.

    Publishing the split once, protected with its row and column totals, is what keeps a
    small count hidden; separate tables per rate would each be safe alone and together
    give it away (referrals = guidance-refer incidents not kept + over-escalations).
    """
    consistency = _text(frame["consistency"])
    table = pd.crosstab(frame["setting_id"].astype(str).to_numpy(), consistency.to_numpy())
    table = table.reindex(columns=list(contract.CONSISTENCY), fill_value=0).astype("int64")
    table.columns = [f"n_{c}" for c in table.columns]
    table = table.rename_axis("setting").reset_index()
    table.insert(1, "n_incidents", table.iloc[:, 1:].sum(axis=1))
    return table


def withhold_by(funnel_table: pd.DataFrame, shown: pd.DataFrame, measure: str) -> pd.DataFrame:
    """A setting funnel as it may be published: the rate and flags blanked wherever a count
    they rest on is hidden in the published `decisions_by_setting` table (`shown`, hidden
    counts blank), and the target and limits worked out again from the settings shown.

    Limits widened for overdispersion, or drawn out to the largest setting, would
    otherwise carry the hidden settings' counts into the chart, where a patient reader
    can measure them back.
    """
    _, numerator, denominator = MEASURES[measure]
    resting = [f"n_{c}" for c in dict.fromkeys((*numerator, *denominator))]
    hidden = shown.set_index("setting")[resting].isna().any(axis=1)
    blank = funnel_table["unit"].map(hidden).fillna(False).astype(bool)
    visible = funnel_table.loc[(~blank & funnel_table["rate"].notna()).to_numpy()]
    again = funnel(visible[["unit", "k", "n"]].reset_index(drop=True))
    out = funnel_table[["unit", "k", "n"]].merge(
        again.drop(columns=["k", "n"]), on="unit", how="left"
    )
    for flag in ("outside_95", "outside_998"):
        out[flag] = out[flag].fillna("")
    out.attrs.update(again.attrs)
    return out


def agreement_table(frame: pd.DataFrame) -> dict[str, Any]:
    """Decisions against the guidance where both are known (the 2×2 and its measures)."""
    outcome = _text(frame["guidance_outcome"])
    decision = _text(frame["decision"])
    usable = outcome.isin(["refer_police", "handle_in_setting"]) & (decision != "")
    return agreement(
        (outcome[usable] == "refer_police").to_numpy(),
        (decision[usable] == "referred_police").to_numpy(),
    )


def factors_in(frame: pd.DataFrame, consistency: str, factor_ids: list[str]) -> pd.DataFrame:
    """How often each aggravating factor is present among incidents of one kind."""
    chosen = frame[(_text(frame["consistency"]) == consistency).to_numpy()]
    counts = _ids(chosen["aggravating_factors"]).value_counts()
    table = pd.DataFrame(
        {"factor": factor_ids, "n_incidents": [int(counts.get(f, 0)) for f in factor_ids]}
    )
    table["share"] = table["n_incidents"] / max(len(chosen), 1)
    return table


def police_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """What the police did after the setting referred (blank: not recorded yet)."""
    referred = frame[(_text(frame["decision"]) == "referred_police").to_numpy()]
    names = [*contract.BY_NAME["police_outcome"].codes, "not recorded"]
    outcome = _text(referred["police_outcome"]).replace("", "not recorded")
    counts = outcome.value_counts()
    table = pd.DataFrame(
        {"police_outcome": names, "n_incidents": [int(counts.get(n, 0)) for n in names]}
    )
    table["share"] = table["n_incidents"] / max(len(referred), 1)
    return table


def blank_rates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """For each factor input, how often it was left blank, overall and by setting."""
    blank = frame[columns].isna()
    blank.insert(0, "setting_id", frame["setting_id"].astype(str).to_numpy())
    by_setting = blank.groupby("setting_id", sort=True)
    table = by_setting.mean()
    table.insert(0, "n_incidents", by_setting.size())
    overall = pd.DataFrame(
        [[len(frame), *blank[columns].mean().tolist()]],
        columns=["n_incidents", *columns],
        index=["all settings"],
    )
    return pd.concat([overall, table]).rename_axis("setting_id").reset_index()


def undecidable_causes(frame: pd.DataFrame, factor_columns: dict[str, list[str]]) -> pd.DataFrame:
    """Among incidents the guidance cannot decide, which factor is open and which blank
    field leaves it open."""
    undecided = frame[(_text(frame["guidance_outcome"]) == "insufficient_information").to_numpy()]
    unknown = _ids(undecided["unknown_factors"])
    rows = []
    for factor, columns in factor_columns.items():
        open_rows = undecided.loc[unknown[unknown == factor].index.unique()]
        for column in columns:
            rows.append(
                {
                    "factor": factor,
                    "blank_field": column,
                    "n_incidents": int(open_rows[column].isna().sum()),
                }
            )
    table = pd.DataFrame(rows, columns=["factor", "blank_field", "n_incidents"])
    return (
        table[table["n_incidents"] > 0]
        .sort_values("n_incidents", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def share(part: int, whole: int) -> str:
    return "no" if whole == 0 else f"{part / whole:.0%}"


def outliers(table: pd.DataFrame, column: str = "outside_998") -> list[str]:
    flagged = table[table[column].astype(str) != ""]
    return [
        f"{u} ({'higher' if s == 'high' else 'lower'})"
        for u, s in zip(flagged["unit"], flagged[column], strict=True)
    ]


def counts_by(frame: pd.DataFrame, column: str) -> pd.Series:
    return _text(frame[column]).value_counts()


__all__ = [
    "MEASURES",
    "MEASURE_EXPLAINED",
    "agreement_table",
    "blank_rates",
    "blank_units",
    "counts_by",
    "decisions_by_setting",
    "factors_in",
    "outliers",
    "police_outcomes",
    "setting_funnel",
    "share",
    "trend",
    "undecidable_causes",
    "with_periods",
    "withhold_by",
]
