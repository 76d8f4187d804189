"""Plain-English sentences for the reports, written from the numbers.

Kept out of the notebooks so the wording is tested and the same on every run. Counts
pass through `Report.small`, so a sentence never reveals what a table hides.
"""

from __future__ import annotations

from typing import Any

from .analysis import MEASURE_EXPLAINED, MEASURES, outliers


def _pct(value: float) -> str:
    return "not known" if value != value else f"{value:.0%}"  # NaN check without numpy


def scope(report: Any) -> str:
    period = f"the academic year {report.period}" if report.period else "every academic year"
    return (
        f"This report covers {report.small(len(report.in_period))} incidents from "
        f"{report.input_name or 'the log'} in {period}, assessed against "
        f"{report.policy}."
    )


def escalation_summary(report: Any, agreement: dict[str, Any], funnels: dict[str, Any]) -> str:
    frame = report.in_period
    consistency = frame["consistency"].astype(str).value_counts()
    under = int(consistency.get("under_escalation", 0))
    over = int(consistency.get("over_escalation", 0))
    referred = int((frame["decision"].astype(str) == "referred_police").sum())
    guidance = int((frame["guidance_outcome"].astype(str) == "refer_police").sum())
    named = outliers(funnels["under_escalation"])
    lines = [
        "**Summary.** " + scope(report),
        f"Settings referred {report.small(referred)} incidents to the police; the guidance "
        f"recommends referral for {report.small(guidance)}.",
        f"Where both the decision and the guidance's answer are known, the decision matched "
        f"the guidance in {_pct(agreement['observed_agreement'])} of incidents. "
        f"{report.small(under)} incidents were handled in the setting although the guidance "
        f"says the police should have been told (under-escalation), and "
        f"{report.small(over)} were referred although staff could have dealt with them "
        "(over-escalation).",
    ]
    if named:
        lines.append(
            "Settings whose under-escalation rate lies outside the 99.8% funnel "
            "limits, and so is unlikely to be chance: " + ", ".join(named) + "."
        )
    else:
        lines.append(
            "No setting's under-escalation rate lies outside the 99.8% funnel "
            "limits: the differences between settings are within what chance "
            "would produce."
        )
    return " ".join(lines)


def funnel_sentence(report: Any, measure: str, table: Any) -> str:
    if not table["rate"].notna().any():
        return f"{MEASURES[measure][0].capitalize()}: {MEASURE_EXPLAINED[measure]}."
    named = outliers(table)
    watch = [u for u in outliers(table, "outside_95") if u not in named]
    text = (
        f"{MEASURES[measure][0].capitalize()}: {MEASURE_EXPLAINED[measure]}. The green "
        "line is the rate across the settings shown "
        f"({_pct(table.attrs.get('theta', float('nan')))})."
    )
    if table.attrs.get("overdispersed"):
        text += (
            " Settings differ more than chance alone would explain, so the limits are "
            "widened to allow for it."
        )
    if named:
        text += " Outside the 99.8% limits: " + ", ".join(named) + "."
    if watch:
        text += (
            " Outside the 95% limits only (worth watching, could be chance): "
            + ", ".join(watch)
            + "."
        )
    if not named and not watch:
        text += " Every setting lies within the limits."
    return text


def agreement_sentences(agreement: dict[str, Any]) -> str:
    explain = agreement["explain"]
    low, high = agreement["kappa_low"], agreement["kappa_high"]
    parts = [
        f"- **Observed agreement {_pct(agreement['observed_agreement'])}.** "
        f"{explain['observed_agreement']}",
        f"- **Cohen's kappa {agreement['kappa']:.2f} (95% interval {low:.2f} to {high:.2f}).** "
        f"{explain['kappa']}",
        f"- **PABAK {agreement['pabak']:.2f}.** {explain['pabak']}",
        f"- **McNemar's test p = {agreement['mcnemar_p']:.3g}.** {explain['mcnemar']} "
        f"Here: {agreement['direction']}.",
    ]
    return "\n".join(parts)


def quality_summary(report: Any) -> str:
    gate = report.gate
    frame = report.in_period
    outcome = frame["guidance_outcome"].astype(str)
    undecided = int((outcome == "insufficient_information").sum())
    decision_blank = int(frame["decision"].isna().sum())
    lines = ["**Summary.** " + scope(report)]
    if gate:
        lines.append(
            f"Of {gate.get('rows_read', 0):,} rows read, {gate.get('rows_valid', 0):,} passed "
            f"every check and {report.small(int(gate.get('rows_quarantined', 0)))} were held "
            "back for the reasons below."
        )
    lines.append(
        f"The guidance cannot decide {report.small(undecided)} incidents "
        f"({_pct(undecided / len(frame) if len(frame) else float('nan'))}) because a field it "
        f"needs was left blank, and {report.small(decision_blank)} incidents have no recorded "
        "decision."
    )
    return " ".join(lines)


def impact_summary(report: Any, comparison: Any, before: str, after: str) -> str:
    n = len(comparison)
    flipped = int(comparison["flipped"].sum())
    refer_before = int((comparison["guidance_outcome_before"] == "refer_police").sum())
    refer_after = int((comparison["guidance_outcome_after"] == "refer_police").sum())
    change = refer_after - refer_before
    direction = "more" if change > 0 else "fewer"
    text = (
        f"**Summary.** Of {report.small(n)} incidents from {report.input_name or 'the log'}, "
        f"{report.small(flipped)} would get a different answer under {after} than under "
        f"{before}. The guidance would send {report.small(refer_after)} incidents to the "
        f"police instead of {report.small(refer_before)}"
    )
    if change:
        text += f": {report.small(abs(change))} {direction}."
    else:
        text += ": the same number."
    under = [
        int((comparison[f"consistency_{s}"] == "under_escalation").sum())
        for s in ("before", "after")
    ]
    over = [
        int((comparison[f"consistency_{s}"] == "over_escalation").sum())
        for s in ("before", "after")
    ]
    text += (
        f" Judged against {after}, the settings' own decisions would count "
        f"{report.small(under[1])} under-escalations (now {report.small(under[0])}) and "
        f"{report.small(over[1])} over-escalations (now {report.small(over[0])})."
    )
    return text


def comparison_sentence(report: Any, comparison: Any, in_use: str, other: str) -> str:
    """One paragraph: how many answers would change under the other policy, and which way."""
    before = comparison["guidance_outcome_before"] == "refer_police"
    after = comparison["guidance_outcome_after"] == "refer_police"
    flipped = int(comparison["flipped"].sum())
    return (
        f"Under {other}, {report.small(flipped)} of these incidents would get a different "
        f"answer than under {in_use}: {report.small(int((before & ~after).sum()))} that "
        f"{in_use} refers would not be referred, and "
        f"{report.small(int((after & ~before).sum()))} would be referred that {in_use} "
        "leaves to the setting."
    )
