"""The numbers behind the fairness report: do children of one group get different
decisions from the rest when the guidance says the same thing about their incidents?

For each child characteristic (sex, special educational needs, ethnic group, looked
after, disadvantaged) every group, including "not recorded" where the field is blank, is
compared with all other children on three measures:

- police referral: among incidents with a recorded decision, referred to the police;
- under-escalation: among incidents the guidance says the police should be told about,
  kept in the setting instead;
- over-escalation: among incidents the guidance says staff could handle, referred.

The comparison is a Mantel–Haenszel odds ratio holding the guidance outcome fixed, and
the setting too where comparing within settings keeps at least half of the incidents
(otherwise the guidance outcome alone), so a group is not made to look different merely
because its incidents were more serious or came from a setting with different habits.

A group is named plainly only when even a strict 99.8% interval, like the outer limits
of the funnel plots, excludes 1: with dozens of comparisons, some 95% intervals exclude 1
by chance alone, so those are only "worth watching".

Disclosure control: the counts behind every comparison are published as partitions
(each group's incidents split by what the guidance said and what was decided), so the
publishing rules withhold small numbers and, from the row and column totals, any number
that would let a small one be worked out. An odds ratio is withheld when any of its four
cells is small, and its counts are never printed beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from .. import contract
from ..stats import mantel_haenszel

NOT_RECORDED = "not recorded"
TOTAL = "Total"  # the label of a published table's column-total row
CHARACTERISTICS: dict[str, str] = {
    "child_sex": "Sex",
    "child_sen": "Special educational needs",
    "child_ethnicity_group": "Ethnic group",
    "child_looked_after": "Looked after",
    "child_disadvantaged": "Disadvantaged",
}


@dataclass(frozen=True)
class Measure:
    label: str
    explained: str
    guidance: tuple[str, ...]  # guidance outcomes of the incidents compared
    event: str  # the decision counted as the outcome


MEASURES: dict[str, Measure] = {
    "referral": Measure(
        "police referral",
        "of incidents with a recorded decision and a clear guidance answer, the share "
        "referred to the police",
        ("refer_police", "handle_in_setting"),
        "referred_police",
    ),
    "under_escalation": Measure(
        "under-escalation",
        "of incidents the guidance says the police should have been told about, the share "
        "kept in the setting instead",
        ("refer_police",),
        "handled_in_setting",
    ),
    "over_escalation": Measure(
        "over-escalation",
        "of incidents the guidance says staff could have handled themselves, the share "
        "referred to the police",
        ("handle_in_setting",),
        "referred_police",
    ),
}

Z95 = NormalDist().inv_cdf(0.975)
Z_STRICT = 3.090232  # 99.8%, as the funnel plots' outer limits
MIN_KEPT = 0.5  # share of incidents comparing within settings must keep

FINDINGS = {
    "flag_higher": "higher: unlikely to be chance",
    "flag_lower": "lower: unlikely to be chance",
    "watch_higher": "higher: worth watching, could be chance",
    "watch_lower": "lower: worth watching, could be chance",
    "none": "no clear difference",
    "cannot": "cannot be estimated",
}


# --------------------------------------------------------------------------- groups


def group_labels(frame: pd.DataFrame, column: str) -> pd.Series:
    """Each incident's group for one characteristic: the code, yes/no for a yes/no field,
    and "not recorded" where the field is blank (never dropped)."""
    spec = contract.BY_NAME[column]
    values = frame[column]
    if spec.kind == "bool":
        flags = values.astype("boolean")
        text = pd.Series(np.where(flags.fillna(False), "yes", "no"), index=frame.index)
        return text.where(flags.notna().to_numpy(), NOT_RECORDED).astype(str)
    return values.astype("string").fillna(NOT_RECORDED).astype(str)


def group_order(column: str) -> list[str]:
    spec = contract.BY_NAME[column]
    codes = ["yes", "no"] if spec.kind == "bool" else list(spec.codes)
    return [*codes, NOT_RECORDED]


def _decided(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    guidance = frame["guidance_outcome"].astype("string").fillna("").to_numpy(dtype=object)
    decision = frame["decision"].astype("string").fillna("").to_numpy(dtype=object)
    return guidance, decision


# The published counts: for each guidance answer, each group's incidents with a recorded
# decision split by that decision (a partition with its row total, column totals below),
# one table per characteristic and answer. Two narrow tables hide far fewer cells to
# protect a small group than one wide one would.
TABLES: dict[str, dict[str, str]] = {
    "under_escalation": {
        "guidance": "refer_police",
        "total": "n_guidance_says_refer",
        "other": "n_referred",
        "event": "n_kept_in_setting",
        "share": "share_kept_in_setting",
    },
    "over_escalation": {
        "guidance": "handle_in_setting",
        "total": "n_guidance_says_handle",
        "other": "n_handled_in_setting",
        "event": "n_referred",
        "share": "share_referred",
    },
}


def group_counts(frame: pd.DataFrame, column: str, table: str) -> pd.DataFrame:
    """For one characteristic and guidance answer (`table`: under_escalation or
    over_escalation), every group (zeros where it has none) with its decided incidents
    split by the decision, and the share decided against the guidance: the plain numbers
    behind the odds ratios."""
    spec = TABLES[table]
    counted = cells(frame, column)
    chosen = counted[(counted["guidance"] == spec["guidance"]).to_numpy()]
    event = "handled_in_setting" if table == "under_escalation" else "referred_police"
    is_event = (chosen["decision"] == event).to_numpy()
    out = pd.DataFrame(
        {
            spec["other"]: chosen[~is_event].groupby("group")["n"].sum(),
            spec["event"]: chosen[is_event].groupby("group")["n"].sum(),
        }
    )
    out = out.reindex(group_order(column)).fillna(0).astype(np.int64)
    out = out.rename_axis("group").reset_index()
    out.insert(1, spec["total"], out[spec["other"]] + out[spec["event"]])
    total = out[spec["total"]]
    out[spec["share"]] = (out[spec["event"]] / total.where(total > 0)).astype(float)
    return out


def publish_args(table: str) -> dict[str, Any]:
    """How a `group_counts` table is published: a partition with its row total and
    column totals, its share withheld whenever a count it rests on is hidden."""
    spec = TABLES[table]
    return {
        "row_total": spec["total"],
        "col_totals": True,
        "rates": {spec["share"]: (spec["other"], spec["event"])},
    }


# --------------------------------------------------------------------------- odds ratios


def _strict_interval(result: dict[str, Any]) -> tuple[float, float]:
    """The 99.8% interval from the 95% one (statsmodels' interval is log OR ± z·se)."""
    log_or = math.log(result["odds_ratio"])
    se = (math.log(result["ci_high"]) - math.log(result["ci_low"])) / (2 * Z95)
    return math.exp(log_or - Z_STRICT * se), math.exp(log_or + Z_STRICT * se)


def _finding(row: dict[str, Any]) -> str:
    if not row["usable"]:
        return "cannot"
    side = "higher" if row["odds_ratio"] > 1 else "lower"
    if row["strict_low"] > 1 or row["strict_high"] < 1:
        return f"flag_{side}"
    if row["ci_low"] > 1 or row["ci_high"] < 1:
        return f"watch_{side}"
    return "none"


def cells(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Incidents with a recorded decision counted by group, guidance outcome, setting and
    decision: every comparison of one characteristic is worked out from this small frame,
    so a million incidents are grouped once, not once per comparison."""
    guidance, decision = _decided(frame)
    chosen = decision != ""
    data = pd.DataFrame(
        {
            "group": group_labels(frame, column).to_numpy()[chosen],
            "guidance": guidance[chosen],
            "setting": frame["setting_id"].astype(str).to_numpy()[chosen],
            "decision": decision[chosen],
        }
    )
    return data.groupby(list(data.columns), sort=True).size().rename("n").reset_index()


def compare(
    counted: pd.DataFrame,
    column: str,
    group: str,
    measure: str,
    threshold: int = 5,
    min_kept: float = MIN_KEPT,
) -> dict[str, Any]:
    """One group against all other children on one measure, holding the guidance outcome
    fixed, and the setting too where the numbers allow: comparing within settings keeps
    at least `min_kept` of the incidents and no cell of a setting it uses is from 1 to
    threshold − 1 (Mantel–Haenszel). `counted` is `cells(...)`."""
    spec = MEASURES[measure]
    chosen = counted[counted["guidance"].isin(spec.guidance).to_numpy()]
    data = pd.DataFrame(
        {
            "in_group": (chosen["group"] == group).to_numpy(),
            "outcome": (chosen["decision"] == spec.event).to_numpy(),
            "guidance": chosen["guidance"].to_numpy(),
            "setting": chosen["setting"].to_numpy(),
            "n": chosen["n"].to_numpy(dtype=np.int64),
        }
    )
    outcome_only = mantel_haenszel(data, "in_group", "outcome", ["guidance"], "n")
    within = mantel_haenszel(data, "in_group", "outcome", ["guidance", "setting"], "n")
    use_setting = bool(
        within["usable"]
        and outcome_only["usable"]
        and within["n"] >= min_kept * outcome_only["n"]
        and not (threshold and 0 < within["min_cell"] < threshold)
    )
    result = within if use_setting else outcome_only
    grp = data["in_group"].to_numpy()
    events = data["outcome"].to_numpy()
    weight = data["n"].to_numpy()
    row: dict[str, Any] = {
        "characteristic": column,
        "group": group,
        "measure": measure,
        "held_fixed": "guidance outcome and the setting" if use_setting else "guidance outcome",
        "n_group": int(weight[grp].sum()),
        "n_group_events": int(weight[grp & events].sum()),
        "n_rest": int(weight[~grp].sum()),
        "n_rest_events": int(weight[~grp & events].sum()),
        "usable": bool(result["usable"]),
        "reason": result["reason"],
        "odds_ratio": result["odds_ratio"],
        "ci_low": result["ci_low"],
        "ci_high": result["ci_high"],
        "strict_low": math.nan,
        "strict_high": math.nan,
        "p_value": result["p_value"],
        "homogeneity_p": result["homogeneity_p"],
        "strata_used": result["strata_used"],
        "n_used": result["n"],
        "min_cell": result["min_cell"],
    }
    finite = all(np.isfinite(row[k]) and row[k] > 0 for k in ("odds_ratio", "ci_low", "ci_high"))
    if row["usable"] and not finite:
        row["usable"] = False
        row["reason"] = "The interval cannot be worked out from so few incidents."
    if row["usable"]:
        row["strict_low"], row["strict_high"] = _strict_interval(result)
    row["finding"] = _finding(row)
    return row


WITHHELD_KEYS = ("odds_ratio", "ci_low", "ci_high", "strict_low", "strict_high", "p_value",
                 "homogeneity_p")  # fmt: skip


# The group tables each measure rests on.
RESTS_ON: dict[str, tuple[str, ...]] = {
    "referral": ("under_escalation", "over_escalation"),
    "under_escalation": ("under_escalation",),
    "over_escalation": ("over_escalation",),
}


def protected_counts(frame: pd.DataFrame, column: str, table: str, threshold: int) -> pd.DataFrame:
    """`group_counts` as the page publishes it: hidden counts blank, with its Total row."""
    from .context import protect_table

    counts = group_counts(frame, column, table)
    return protect_table(counts, threshold, **publish_args(table))[0] if threshold else counts


def odds_ratios(
    frame: pd.DataFrame,
    threshold: int = 5,
    characteristics: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Every group against the rest on every measure, and whether it may be published.

    A comparison is withheld (`withheld` True, figures blank, finding "withheld") when
    a count of the group tables it rests on is hidden there (the group's own, or the
    Total row's): an odds ratio and its interval, with the published totals, can give
    those counts back. It is also withheld when any cell of a stratum it uses (the group
    and the rest, with and without the outcome, in one guidance outcome or setting) is
    from 1 to threshold − 1: an estimate resting on one or two children could point at
    them.
    """
    rows = []
    for column in characteristics or CHARACTERISTICS:
        counted = cells(frame, column)
        shown = {
            table: protected_counts(frame, column, table, threshold).set_index("group")
            for table in TABLES
        }
        present = set(counted["group"])
        for group in group_order(column):
            if group not in present:
                continue
            for measure in MEASURES:
                row = compare(counted, column, group, measure, threshold)
                hidden = bool(threshold) and any(
                    bool(shown[t].loc[[group, TOTAL], [TABLES[t]["other"], TABLES[t]["event"]]]
                         .isna().to_numpy().any())
                    for t in RESTS_ON[measure]
                )  # fmt: skip
                small = bool(threshold) and 0 < row["min_cell"] < threshold
                row["withheld"] = bool(threshold) and (hidden or small)
                if row["withheld"]:
                    row.update(dict.fromkeys(WITHHELD_KEYS, math.nan))
                    row["finding"] = "withheld"
                rows.append(row)
    return pd.DataFrame(rows)


def published_odds(results: pd.DataFrame) -> pd.DataFrame:
    """The comparisons that may be published, in plain words and without counts: the
    counts are in the group tables, protected there (a count printed here, such as the
    incidents a comparison rests on, could undo a cell hidden there). Withheld ones are
    left out."""
    kept = results[~results["withheld"].astype(bool)]
    return pd.DataFrame(
        {
            "characteristic": kept["characteristic"].map(CHARACTERISTICS).to_numpy(),
            "group": kept["group"].to_numpy(),
            "measure": kept["measure"].map(lambda m: MEASURES[m].label).to_numpy(),
            # two decimals, as on the page: more digits only help to work counts back
            "odds_ratio": kept["odds_ratio"].to_numpy(dtype=float).round(2),
            "interval_from": kept["ci_low"].to_numpy(dtype=float).round(2),
            "interval_to": kept["ci_high"].to_numpy(dtype=float).round(2),
            "held_fixed": kept["held_fixed"].to_numpy(),
            "finding": kept["finding"].map(FINDINGS).to_numpy(),
        }
    )


def flagged(results: pd.DataFrame, level: str = "flag") -> pd.DataFrame:
    """Comparisons whose strict 99.8% (`flag`) or only their 95% (`watch`) interval
    excludes 1."""
    return results[results["finding"].astype(str).str.startswith(level)]


# --------------------------------------------------------------------------- words


def _group_words(row: Any) -> str:
    name = CHARACTERISTICS[row["characteristic"]].lower()
    group = row["group"]
    if group == NOT_RECORDED:
        return f"children whose {name} was not recorded"
    if group in ("yes", "no"):
        phrase = {
            "child_sen": "with special educational needs",
            "child_looked_after": "who are looked after",
            "child_disadvantaged": "who are disadvantaged",
        }[row["characteristic"]]
        if group == "no":
            phrase = {
                "child_sen": "without special educational needs",
                "child_looked_after": "who are not looked after",
                "child_disadvantaged": "who are not disadvantaged",
            }[row["characteristic"]]
        return f"children {phrase}"
    if row["characteristic"] == "child_sex":
        return {"female": "girls", "male": "boys"}.get(group, f"children of sex '{group}'")
    return f"children of the {group} ethnic group"


def _others(row: Any) -> str:
    """Who a group is compared with, in words: for a yes/no characteristic, the other
    answer and the blanks."""
    if row["group"] not in ("yes", "no"):
        return "all other children"
    opposite = {**row, "group": "no" if row["group"] == "yes" else "yes"}
    return f"{_group_words(opposite)}, or whose record does not say"


def finding_sentence(row: Any) -> str:
    """One comparison in plain words: which way, how much, how sure."""
    spec = MEASURES[row["measure"]]
    direction = "more" if row["odds_ratio"] > 1 else "less"
    return (
        f"{_group_words(row).capitalize()}: {spec.label} {direction} likely than for "
        f"{_others(row)}, in the same circumstances (odds ratio {row['odds_ratio']:.2f}, "
        f"95% interval {row['ci_low']:.2f} to {row['ci_high']:.2f}; holding the "
        f"{row['held_fixed']} fixed)"
    )


def _without_mirrors(found: pd.DataFrame) -> pd.DataFrame:
    """For a yes/no characteristic, "no" against the rest mirrors "yes" against the rest;
    say it once, for "yes", when both are found on the same measure."""
    keys = list(zip(found["characteristic"], found["group"], found["measure"], strict=True))
    mirror = [group == "no" and (column, "yes", m) in keys for column, group, m in keys]
    return found[~np.array(mirror, dtype=bool)] if keys else found


def summary(report: Any, results: pd.DataFrame) -> str:
    """The page's opening paragraph, from the comparisons."""
    from .narrative import scope

    withheld = results["withheld"].astype(bool)
    published = results[~withheld & results["usable"].astype(bool)]
    cannot = results[~withheld & ~results["usable"].astype(bool)]
    flags = _without_mirrors(flagged(results))
    watch = _without_mirrors(flagged(results, "watch"))
    lines = [
        "**Summary.** " + scope(report),
        f"Each group of children (by sex, special educational needs, ethnic group, "
        "looked-after status and disadvantage, with 'not recorded' as a group of its own) "
        "was compared with the other children whose incidents the guidance judged the same "
        f"way, on three measures: {len(results)} comparisons in all. {len(published)} could "
        f"be estimated and shown; {int(withheld.sum())} are withheld because they rest on "
        "numbers too small to publish, or would let one be worked out; "
        f"{len(cannot)} cannot be estimated because an outcome never occurs in the group, "
        "or never among the other children.",
    ]
    if len(flags):
        lines.append(
            "The difference is large enough that chance is an unlikely explanation for: "
            + "; ".join(finding_sentence(r) for _, r in flags.iterrows())
            + ". This is a reason to look at these decisions closely, not proof of bias."
        )
    else:
        lines.append(
            "Among the comparisons shown, no group's decisions differ from other children's "
            "by more than chance could explain, once the guidance outcome is held fixed. "
            "That is not proof of fair treatment, above all for the groups that could not "
            "be compared (listed below)."
        )
    if len(watch):
        lines.append(
            f"{len(watch)} further difference(s) pass the usual 95% level only; with "
            f"{len(published)} comparisons shown, one or two of those are expected by chance "
            "alone, so they are worth watching rather than acting on."
        )
    return " ".join(lines)


def not_compared(results: pd.DataFrame) -> str:
    """Which groups and measures the page cannot speak to, grouped by characteristic."""
    missing = results[results["withheld"].astype(bool) | ~results["usable"].astype(bool)]
    if not len(missing):
        return "Every group could be compared on every measure."
    parts = []
    for column, rows in missing.groupby("characteristic", sort=False):
        by_group = rows.groupby("group", sort=False)["measure"].apply(list)
        described = [
            f"{group} ({', '.join(MEASURES[m].label for m in measures)})"
            for group, measures in by_group.items()
        ]
        parts.append(f"{CHARACTERISTICS[column].lower()}: " + "; ".join(described))
    return (
        "**Not compared here**, because the numbers are too small to publish or to "
        "estimate from: " + ". ".join(parts) + ". A larger period or the whole trust "
        "over several years may allow these comparisons."
    )


# --------------------------------------------------------------------------- chart


def forest_chart(table: pd.DataFrame, measure_label: str) -> Any:
    """Odds ratios with 95% intervals on a log scale, one row per group, a line at 1."""
    import altair as alt

    from .charts import OKABE_ITO, _base

    data = table.dropna(subset=["odds_ratio", "interval_from", "interval_to"]).copy()
    data["row"] = data["characteristic"] + ": " + data["group"]
    data["finding"] = data["finding"].astype(str)
    order = list(dict.fromkeys(data["row"]))
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    scale = alt.Scale(type="log")
    colour = alt.Color(
        "finding:N",
        title=None,
        scale=alt.Scale(
            domain=list(FINDINGS.values()),
            range=[OKABE_ITO[3], OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[5], "#777777", "#BBBBBB"],
        ),
        legend=alt.Legend(orient="bottom", columns=2, labelLimit=360),
    )
    bars = (
        alt.Chart(data)
        .mark_rule(strokeWidth=2)
        .encode(
            y=y,
            x=alt.X("interval_from:Q", scale=scale, title="Odds ratio (log scale)"),
            x2="interval_to:Q",
            color=colour,
        )
    )
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=60)
        .encode(y=y, x=alt.X("odds_ratio:Q", scale=scale), color=colour)
    )
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(color="#000000").encode(x="x:Q")
    return _base(
        alt.layer(bars, points, one),
        f"{measure_label.capitalize()}: each group against all other children",
        height=max(120, 18 * len(order)),
    )


__all__ = [
    "CHARACTERISTICS",
    "FINDINGS",
    "MEASURES",
    "NOT_RECORDED",
    "TABLES",
    "cells",
    "compare",
    "finding_sentence",
    "flagged",
    "forest_chart",
    "group_counts",
    "group_labels",
    "not_compared",
    "odds_ratios",
    "publish_args",
    "published_odds",
    "summary",
]
