"""The case list for follow-up: which incidents a designated safeguarding lead should
look at again, and why. Incident-level, so it goes to CSV/XLSX only, never into a page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# Most urgent first: a child who may have needed the police comes before everything else.
PRIORITY = {
    "under_escalation": 0,
    "over_escalation": 1,
    "unassessable": 2,
    "no_decision": 3,
    "consistent_referral": 4,
    "consistent_in_setting": 4,
}
WHY = {
    "under_escalation": "Guidance says refer to the police, but it was handled in the setting",
    "over_escalation": "Guidance says it could be handled in the setting, but it was referred",
    "unassessable": "The record is too incomplete to say whether the decision followed guidance",
    "no_decision": "No decision is recorded",
}
COLUMNS = (
    "incident_id",
    "setting_id",
    "reported_on",
    "consistency",
    "why",
    "guidance_outcome",
    "decision",
    "aggravating_factors",
    "unknown_factors",
    "recording_gaps",
    "recording_gap_status",
)


def cases_for_review(assessed: pd.DataFrame, settings: Sequence[str] | None = None) -> pd.DataFrame:
    """Incidents whose decision disagrees with, or cannot be checked against, the guidance,
    or whose record has gaps; under-escalations first, then by setting and date."""
    frame = assessed
    if settings:
        frame = frame[frame["setting_id"].isin(list(settings))]
    consistency = frame["consistency"].astype(str)
    gaps = frame["recording_gaps"].astype(str)
    needs = ~consistency.isin(["consistent_referral", "consistent_in_setting"]) | (gaps != "")
    chosen = frame[needs.to_numpy()]
    why = chosen["consistency"].astype(str).map(WHY).fillna("")
    gap_note = np.where(
        chosen["recording_gaps"].astype(str) != "",
        "Recording gaps: " + chosen["recording_gaps"].astype(str),
        "",
    )
    reasons = [". ".join(p for p in pair if p) for pair in zip(why, gap_note, strict=True)]
    out = chosen.assign(why=reasons, _order=chosen["consistency"].astype(str).map(PRIORITY))
    out = out.sort_values(["_order", "setting_id", "reported_on", "incident_id"], kind="stable")
    return out.loc[:, list(COLUMNS)].reset_index(drop=True)


def write_case_lists(log, spec, folder) -> None:
    """The follow-up list for the trust's safeguarding lead (internal audience only)."""
    from ..writing import write_table

    frame = log.frame[log.in_period(spec.period)]
    cases = cases_for_review(frame)
    write_table(cases, folder / "cases_for_review.csv")
    write_table(cases, folder / "cases_for_review.xlsx")
