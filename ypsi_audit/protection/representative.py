"""The tables the report pages publish, declared on one ledger: what the protection methods
are measured on, and a starting point for the pages' own declarations.

From the assessed incidents (`assess(..., with_states=True)`) it builds the incident
frame (one row per incident, categories only) and declares:

- incidents, police referrals and guidance-says-refer referrals by academic year × term,
  with the referral rates per term;
- each setting's incidents by consistency (all seven codes) and by decision, with each
  setting's referral, under- and over-escalation rates and funnel positions;
- the 2×2 of guidance against decision with observed agreement, kappa, PABAK and
  McNemar's p;
- the aggravating factors present in under-escalated incidents; police outcomes after a
  referral;
- for each recording requirement, the incidents it concerns by state (met, not done, not
  recorded, unsettled), trust-wide and by setting, with the share that fell short;
- each setting's incidents with at least one recording gap, with its funnel position;
- each child characteristic group (blank as "not recorded") by guidance outcome × decision;
- how often each fact the guidance reads was left blank, by setting;
- each setting's incidents by consistency and by decision this year and last year, with
  the rates, their positions and the change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import contract
from .ledger import NOT_RECORDED, TOTAL, Ledger

__all__ = ["CHARACTERISTICS", "FACTS", "declare", "incident_frame", "representative"]

CHARACTERISTICS = (
    "child_sex",
    "child_sen",
    "child_ethnicity_group",
    "child_looked_after",
    "child_disadvantaged",
)
# The facts the guidance reads (blank-field shares on the data-quality page).
FACTS = (
    "youngest_child_age",
    "oldest_party_age",
    "adult_involved",
    "multiple_victims",
    "in_relationship",
    "content_level",
    "content_violent_or_atypical",
    "distribution",
    "threats_or_coercion",
    "harassment",
    "grooming_or_exploitation_suspected",
    "capacity_to_consent_concern",
    "immediate_risk_of_harm",
    "high_risk_vulnerability",
    "motivation",
    "consensual",
    "persistent_contact",
    "contact_age_appropriate",
)
STATES = ("met", "not_done", "not_recorded", "unsettled")
DECIDED = ("referred_police", "handled_in_setting")


def incident_frame(assessed: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The categories every table is declared over, one row per incident; with the
    recording requirements' ids and the aggravating factors' ids of the policy."""
    from .. import states
    from ..engine import saved_policy
    from ..stats import academic_year, term

    policy = saved_policy(assessed)[0]
    requirements = [rule.id for rule in policy.recording]
    frame = pd.DataFrame(index=assessed.index)
    frame["setting_id"] = assessed["setting_id"].astype("string").astype(str)
    frame["academic_year"] = academic_year(assessed["reported_on"]).astype(str).to_numpy()
    frame["term"] = pd.Categorical(
        term(assessed["reported_on"]).astype(str), ("autumn", "spring", "summer")
    )
    frame["consistency"] = pd.Categorical(assessed["consistency"].astype(str), contract.CONSISTENCY)
    frame["guidance_outcome"] = pd.Categorical(
        assessed["guidance_outcome"].astype(str), contract.OUTCOMES
    )
    frame["decision"] = pd.Categorical(assessed["decision"].astype("string"), DECIDED)
    frame["police_outcome"] = assessed["police_outcome"]
    for column in CHARACTERISTICS:
        frame[column] = assessed[column]
    names = dict(enumerate(states.REQUIREMENT))  # not_applicable becomes blank: not counted
    short = np.zeros(len(assessed), dtype=bool)
    for rule in requirements:
        codes = assessed[states.column("recording", rule)].to_numpy(dtype=np.int64)
        labels = pd.Series(codes).map(names).where(codes != states.NOT_APPLICABLE)
        frame[f"recording:{rule}"] = pd.Categorical(labels.to_numpy(dtype=object), STATES)
        short |= np.isin(codes, states.SHORT)
    frame["any_gap"] = short
    factors = assessed["aggravating_factors"].astype("string").fillna("")
    factor_ids = [rule.id for rule in policy.factors]
    for factor in factor_ids:
        frame[f"factor:{factor}"] = factors.str.split(";").apply(lambda ids, f=factor: f in ids)
    for fact in FACTS:
        frame[f"blank:{fact}"] = assessed[fact].isna().to_numpy()
    return frame, requirements, factor_ids


def declare(ledger: Ledger, requirements: Sequence[str], factors: Sequence[str]) -> None:
    """Declare the representative tables and figures on `ledger` (see the module docstring)."""
    frame = ledger.frame
    decided = frame["decision"].notna().to_numpy()
    referred = (frame["decision"] == "referred_police").to_numpy()
    guidance_refer = (frame["guidance_outcome"] == "refer_police").to_numpy()
    clear = frame["guidance_outcome"].isin(["refer_police", "handle_in_setting"]).to_numpy()

    # Trend by academic year and term.
    ledger.counts("trend", ["academic_year", "term"])
    ledger.counts("trend_referred", ["academic_year", "term"], referred)
    ledger.counts("trend_guidance_refer", ["academic_year", "term"], guidance_refer)
    for year in ledger.values("trend", "academic_year"):
        for season in (*ledger.values("trend", "term"), TOTAL):
            key = {"academic_year": year} | ({} if season == TOTAL else {"term": season})
            whole = ledger.cell("trend", **key)
            for what in ("referred", "guidance_refer"):
                ledger.rate(
                    f"trend_{what}_rate[{year} {season}]",
                    ledger.cell(f"trend_{what}", **key),
                    whole,
                )

    # Each setting by consistency and by decision, with the three rates and funnels.
    _setting_measures(ledger, "all", None)
    years = ledger.values("trend", "academic_year")
    chosen = {"this_year": years[-1]} | ({"last_year": years[-2]} if len(years) >= 2 else {})
    for label, year in chosen.items():
        in_year = (frame["academic_year"] == year).to_numpy()
        _setting_measures(ledger, label, in_year)
    if len(years) >= 2:
        for measure in ("referral", "under_escalation", "over_escalation"):
            for unit in (*ledger.values("decisions_by_setting", "setting_id"), TOTAL):
                ledger.difference(
                    f"{measure}_change[{unit}]",
                    f"{measure}_rate_this_year[{unit}]",
                    f"{measure}_rate_last_year[{unit}]",
                )

    # Agreement between guidance and decision.
    ledger.counts(
        "agreement",
        ["guidance_outcome", "decision"],
        clear & decided,
        values={
            "guidance_outcome": ["refer_police", "handle_in_setting"],
            "decision": list(DECIDED),
        },
    )
    quad = [
        ledger.cell("agreement", guidance_outcome=g, decision=d)
        for g in ("refer_police", "handle_in_setting")
        for d in DECIDED
    ]
    for kind in ("observed_agreement", "kappa", "pabak", "mcnemar_p"):
        ledger.statistic(f"agreement_{kind}", kind, quad)

    # Factors present in under-escalated incidents; police outcomes after a referral.
    under = (frame["consistency"] == "under_escalation").to_numpy()
    ledger.flags(
        "factors_under_escalated",
        {f: frame[f"factor:{f}"].to_numpy(dtype=bool) for f in factors},
        where=under,
    )
    for f in factors:
        ledger.rate(
            f"factor_share[{f}]",
            ledger.cell("factors_under_escalated", flag=f),
            ledger.cell("factors_under_escalated", flag="all"),
        )
    ledger.counts("police_outcomes", ["police_outcome"], referred)
    for outcome in ledger.values("police_outcomes", "police_outcome"):
        ledger.rate(
            f"police_outcome_share[{outcome}]",
            ledger.cell("police_outcomes", police_outcome=outcome),
            ledger.cell("police_outcomes"),
        )

    # Recording requirements, trust-wide and by setting (shares only by setting).
    for rule in requirements:
        column = f"recording:{rule}"
        applies = frame[column].notna().to_numpy()
        ledger.counts(f"recording[{rule}]", [column], applies)
        ledger.counts(f"recording_by_setting[{rule}]", ["setting_id", column], applies)
        ledger.rates(
            f"recording_fell_short[{rule}]",
            f"recording_by_setting[{rule}]",
            "setting_id",
            part={column: ["not_done", "not_recorded"]},
            whole={column: ["met", "not_done", "not_recorded"]},
        )

    # Settings' incidents with a recording gap, on a funnel with plain limits.
    ledger.counts("gaps_by_setting", ["setting_id", "any_gap"])
    gap = ledger.rates(
        "gap_rate", "gaps_by_setting", "setting_id", part={"any_gap": ["yes"]},
        whole={"any_gap": ["yes", "no"]},
    )  # fmt: skip
    target = gap.pop(TOTAL)
    ledger.funnel("gap_position", gap, target)

    # Child characteristics by guidance outcome and decision.
    for column in CHARACTERISTICS:
        ledger.counts(
            f"characteristic[{column}]",
            [column, "guidance_outcome", "decision"],
            values={"decision": [*DECIDED, NOT_RECORDED]},
        )

    # Blank facts by setting.
    ledger.flags(
        "blank_facts",
        {fact: frame[f"blank:{fact}"].to_numpy(dtype=bool) for fact in FACTS},
        by=["setting_id"],
    )
    for fact in FACTS:
        ledger.rates(
            f"blank_share[{fact}]", "blank_facts", "setting_id",
            part={"flag": [fact]}, whole={"flag": ["all"]},
        )  # fmt: skip


def _setting_measures(ledger: Ledger, label: str, where: np.ndarray | None) -> None:
    """Each setting's split by consistency and by decision (among `where`), the three
    rates per setting and for the trust, and each setting's funnel positions."""
    suffix = "" if label == "all" else f"_{label}"
    by_consistency = ledger.counts(
        f"decisions_by_setting{suffix}", ["setting_id", "consistency"], where
    )
    by_decision = ledger.counts(
        f"decision_by_setting{suffix}", ["setting_id", "decision"], where,
        values={"decision": [*DECIDED, NOT_RECORDED]},
    )  # fmt: skip
    measures = {
        "referral": (by_decision, "decision", ["referred_police"], list(DECIDED)),
        "under_escalation": (
            by_consistency, "consistency", ["under_escalation"],
            ["under_escalation", "consistent_referral"],
        ),
        "over_escalation": (
            by_consistency, "consistency", ["over_escalation"],
            ["over_escalation", "consistent_in_setting", "discretionary_referral"],
        ),
    }  # fmt: skip
    for measure, (table, dim, part, whole) in measures.items():
        rates = ledger.rates(
            f"{measure}_rate{'' if label == 'all' else '_' + label}", table, "setting_id",
            part={dim: part}, whole={dim: whole},
        )  # fmt: skip
        target = rates.pop(TOTAL)
        ledger.funnel(f"{measure}_position{suffix}", rates, target, overdispersion=True)


def representative(assessed: pd.DataFrame) -> Ledger:
    """A ledger with the representative tables declared over `assessed`."""
    frame, requirements, factors = incident_frame(assessed)
    ledger = Ledger(frame)
    declare(ledger, requirements, factors)
    return ledger
