"""The escalation page's closer looks: decisions against the guidance as a 2x2 table,
the factors present when a setting did not refer, police outcomes, incidents outside the
guidance's scope, and the same incidents under the other policy.

Like the rest of the page, every number comes from a ledger table, and the agreement
statistics are worked out only from the published 2x2 (never from the rows).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ledger import TOTAL, CountTable, Figure, counted, none_shown, of_the, part_of, said
from ..measures import DECISION_SPLIT, REFERRAL_BY_DECISION, UNDER_ESCALATION
from ..page import Headline, Page
from ..words import (
    NOT_RECORDED,
    POLICE_OUTCOMES,
    empty_headline,
    no_incidents,
    outcome_labels,
    shown_larger,
    zero_caveat,
    zero_note,
)
from . import Context
from .escalation_figures import (
    OTHER_OUTCOME,
    OUTCOMES,
    allowed_always,
    cells_sum,
    rate,
    were,
)

BEYOND_CHANCE = 0.05  # a lean in the disagreements (McNemar) is stated only below this
OUTCOME_21 = (
    "Outcome 21 records that the police looked into the incident and decided that taking it "
    "further was not in the public interest. It is not a caution or a conviction, but the "
    "crime is still recorded on police systems, and in rare cases a later enhanced criminal "
    "record check may disclose it; the police decide that case by case. A formal sanction "
    "such as a caution or a charge can be the right outcome where an incident is aggravated, "
    "for example by coercion or an adult's involvement."
)


# ---------------------------------------------------------------------------- agreement


def agreement(ctx: Context, page: Page) -> None:
    route = ctx.route
    outcome = ctx.incidents["outcome"].astype(str).to_numpy()
    referred = ctx.incidents["referred"].astype(str).to_numpy()
    usable = ctx.current & np.isin(outcome, OUTCOMES[:2]) & np.isin(referred, ("yes", "no"))
    table = ctx.ledger.table(
        "agreement_2x2",
        caption=(
            "Incidents where both the guidance's answer and the decision are known: what "
            "the guidance says against whether the setting referred"
        ),
        rows="outcome",
        cols="referred",
        where=usable,
        row_order=OUTCOMES[:2],
        col_order=("yes", "no"),
    )
    section = page.section("agreement", "Decisions against the guidance")
    a, b = table.value("refer_police", "yes"), table.value("refer_police", "no")
    c, d = table.value("handle_in_setting", "yes"), table.value("handle_in_setting", "no")
    total = table.value(TOTAL, TOTAL)
    matched = Figure(None, "not shown", "rests on a number not shown")
    if a.shown and d.shown:
        both = a.value + d.value  # type: ignore[operator]
        matched = Figure(both, f"{round(both):,}")
    if total.shown and total.value == 0:
        section.say(
            "No incident is shown with both a guidance answer (refer, or the setting may deal "
            f"with it) and a recorded decision{zero_caveat(ctx.spec)}, so decisions are not "
            "set against the guidance here."
            if ctx.spec.publication
            else "No incident has both a guidance answer (refer, or the setting may deal with "
            "it) and a recorded decision, so decisions cannot be set against the guidance."
        )
    else:
        share = (
            f" ({matched.value / total.value:.0%})"  # type: ignore[operator]
            if matched.shown and total.shown
            else ""
        )
        section.say(
            f"In {part_of(matched, total, 'incidents')} where both are known, the "
            f"setting's decision matched the guidance{share}. {said(b)} {were(b)} not referred "
            f"though the guidance says refer to {route}; {said(c)} {were(c)} referred where the "
            f"guidance says the setting may deal with it{_referral_words(ctx)}"
            + zero_note(ctx.spec, [b, c])
        )
    labels = outcome_labels(route)
    rows = []
    for key, words in (
        ("refer_police", f"Guidance: {labels['refer_police']}"),
        ("handle_in_setting", f"Guidance: {labels['handle_in_setting']}"),
        (TOTAL, "All"),
    ):
        rows.append(
            {
                "guidance": words,
                "yes": table.value(key, "yes").text,
                "no": table.value(key, "no").text,
                "all": table.value(key, TOTAL).text,
            }
        )
    section.add(
        "table",
        caption="What the guidance says against whether the setting referred",
        columns=[
            {"key": "guidance", "label": "What the guidance says"},
            {"key": "yes", "label": f"Referred to {route}", "align": "right"},
            {"key": "no", "label": "Not referred", "align": "right"},
            {"key": "all", "label": "Total", "align": "right"},
        ],
        rows=rows,
        note=_how_to_read(ctx, table),
        name="agreement_2x2",
    )


def _referral_words(ctx: Context) -> str:
    """How the referrals the guidance does not require are to be read, by policy."""
    policy = ctx.log.policy
    allowed = allowed_always(policy)
    if allowed is True:
        return (
            ". Under this guidance such a referral is the safeguarding lead's choice, not a "
            "failing."
        )
    text = ". A referral is never wrong in itself."
    if allowed is None:
        text += " " + policy.referral.allowed_because
    return text


def _how_to_read(ctx: Context, table: CountTable) -> str:
    """Kappa, PABAK and McNemar's test from the published 2x2 only, in plain words."""
    cells = [table.value(r, c) for r in OUTCOMES[:2] for c in ("yes", "no")]
    if any(not f.shown for f in cells):
        return (
            "How to read this: the agreement measures are not given, because they would let "
            "a reader work out a number this table does not show."
        )
    a, b, c, d = (int(f.value) for f in cells)  # type: ignore[arg-type]
    if a + b + c + d == 0:
        return "How to read this: there is nothing to measure."
    if a + b == 0 or c + d == 0 or a + c == 0 or b + d == 0:
        same = "guidance answer" if (a + b == 0 or c + d == 0) else "decision"
        return (
            "How to read this: kappa, PABAK and McNemar's test are not worked out, because "
            f"every incident compared has the same {same}; they would say nothing beyond the "
            "plain agreement above."
        )
    from ...stats import agreement as measure

    guidance = np.repeat([True, True, False, False], [a, b, c, d])
    decided = np.repeat([True, False, True, False], [a, b, c, d])
    result = measure(guidance, decided)
    low, high = max(-1.0, result["kappa_low"]), min(1.0, result["kappa_high"])
    text = (
        f"How to read this: Cohen's kappa is {result['kappa']:.2f} (95% interval {low:.2f} to "
        f"{high:.2f}): how much better than chance decisions matched the guidance, where 0 is "
        "no better than chance and 1 is full agreement; it can look low when nearly every "
        f"incident has the same answer. PABAK, {result['pabak']:.2f}, is the agreement "
        "rescaled so that 0 is a coin toss and 1 full agreement, and is not pulled down when "
        "one answer dominates. McNemar's test asks whether the disagreements lean one way"
    )
    p = result["mcnemar_p"]
    if b + c == 0:
        return text + ": there are no disagreements."
    text += f" (p {'below 0.001' if p < 0.001 else f'= {p:.3f}'})"
    if p >= BEYOND_CHANCE or math.isnan(p):
        return text + ": they do not lean clearly either way."
    if b > c:
        return text + (
            f": they lean towards not referring incidents the guidance says refer to {ctx.route}."
        )
    if allowed_always(ctx.log.policy) is True:
        return text + ": they lean towards referrals the guidance leaves to the lead's choice."
    return text + (
        ": they lean towards referring where the guidance says the setting could resolve the "
        "incident, which is never wrong in itself."
    )


# ---------------------------------------------------------------------------- factors


def factors(ctx: Context, page: Page) -> None:
    section = page.section("factors", "What was present when a setting did not refer")
    consistency = ctx.incidents["consistency"].astype(str).to_numpy()
    among = ctx.current & np.isin(consistency, ("under_escalation", "consistent_referral"))
    rows = []
    kept = None
    for rule in ctx.log.policy.factors:
        table = ctx.ledger.table(
            f"factor_{rule.id}_by_decision",
            caption=(
                f"“{rule.title}” in incidents not referred though the guidance says refer, "
                "and in those referred as it says"
            ),
            rows="consistency",
            cols=f"factor:{rule.id}",
            where=among,
            row_order=("under_escalation", "consistent_referral"),
            col_order=("present", "absent", "unknown"),
        )
        kept = table.value("under_escalation", TOTAL)
        present = table.value("under_escalation", "present")
        rows.append(
            {
                "factor": rule.title,
                "present": present.text,
                "share": table.share("present", TOTAL, row="under_escalation").text,
                "unknown": table.value("under_escalation", "unknown").text,
                "referred": table.share("present", TOTAL, row="consistent_referral").text,
                "_order": present.value if present.shown else -1.0,
            }
        )
    rows.sort(key=lambda r: -r["_order"])
    top = [r for r in rows if r["_order"] > 0][:3]
    if kept is not None and kept.shown and kept.value == 0:
        section.say(
            (
                "No incident is shown as kept in the setting where the guidance says refer"
                f"{zero_caveat(ctx.spec)}, so no factor is shown for such incidents."
            )
            if ctx.spec.publication
            else "No incident was kept in the setting where the guidance says refer, so no "
            "factor is shown for such incidents."
        )
    elif top:
        named = "; ".join(f"{r['factor'].lower()} ({r['present']}, {r['share']})" for r in top)
        section.say(
            f"{of_the(kept, 'incidents not referred though the guidance says refer', the=True)}"
            ", the "
            f"factors most often present were: {named}. An incident can have more than one."
        )
    section.add(
        "table",
        caption="Factors present in incidents not referred though the guidance says refer",
        columns=[
            {"key": "factor", "label": "Factor"},
            {"key": "present", "label": "Present (not referred)", "align": "right"},
            {"key": "share", "label": "Share of those not referred", "align": "right"},
            {"key": "unknown", "label": "Could not tell (not referred)", "align": "right"},
            {"key": "referred", "label": "Share of those referred as advised", "align": "right"},
        ],
        rows=[{k: v for k, v in r.items() if k != "_order"} for r in rows],
        note=(
            "“Could not tell” means a field the factor needs was left blank. The last column "
            "is for comparison: how often the factor was present where settings referred as "
            "the guidance says."
        ),
        name="factors_not_referred",
    )


# ---------------------------------------------------------------------------- police


def police(ctx: Context, page: Page) -> None:
    section = page.section("police", "After a referral to the police")
    decision = ctx.incidents["decision"].astype(str).to_numpy()
    table = ctx.ledger.table(
        "police_outcomes",
        caption="Police outcomes after a referral to the police",
        cols="police_outcome",
        where=ctx.current & (decision == "referred_police"),
    )
    referrals = table.value(TOTAL, TOTAL)
    recorded = [c for c in table.col_order if c not in (NOT_RECORDED, "pending")]
    known = cells_sum(table, TOTAL, tuple(recorded))
    formal = cells_sum(table, TOTAL, ("caution", "charge"))
    section.say(
        f"{of_the(referrals, 'referrals to the police')}, {said(known)} have a final outcome "
        f"recorded; {said(table.value(TOTAL, 'outcome_21'))} ended with outcome 21 and "
        f"{said(formal)} with a caution or a charge."
        + zero_note(ctx.spec, [known, table.value(TOTAL, "outcome_21"), formal])
    )
    parts = [(f, referrals) for f in (known, table.value(TOTAL, "outcome_21"), formal)]
    if note := shown_larger(ctx.spec, parts):
        section.say(note)
    if ctx.route != "the police":
        section.say(
            f"Only referrals to the police have a police outcome: referrals to {ctx.route} "
            "that did not go to the police are not counted here."
        )
    section.say(OUTCOME_21)
    rows = [
        {
            "outcome": POLICE_OUTCOMES.get(code, code),
            "n": table.value(TOTAL, code).text,
            "share": table.share(code, TOTAL).text,
        }
        for code in table.col_order
    ]
    section.add(
        "table",
        caption="What the police did after a referral",
        columns=[
            {"key": "outcome", "label": "Police outcome"},
            {"key": "n", "label": "Referrals", "align": "right"},
            {"key": "share", "label": "Share of referrals", "align": "right"},
        ],
        rows=rows,
        note="“Not recorded yet” counts referrals whose outcome the log does not give.",
        name="police_outcomes",
    )


# ---------------------------------------------------------------------------- scope


def scope(ctx: Context, page: Page) -> None:
    policy = ctx.log.policy
    section = page.section("scope", "Incidents the guidance is not written for")
    if policy.scope is None:
        section.say(
            f"The guidance in use ({policy.title}) does not set any kind of incident apart, "
            "so every incident is counted in the sections above."
        )
        return
    order = ("yes", "no", NOT_RECORDED)
    decisions = ctx.ledger.table(
        "decisions_by_scope",
        caption=f"Incidents by whether they are {policy.scope.title}, and the decision "
        "against the guidance",
        rows="in_scope",
        cols=DECISION_SPLIT,
        where=ctx.current,
        row_order=order,
    )
    outcomes = ctx.ledger.table(
        "outcomes_by_scope",
        caption=f"Incidents by whether they are {policy.scope.title}, and what the guidance says",
        rows="in_scope",
        cols="outcome",
        where=ctx.current,
        row_order=order,
    )
    names = {
        "yes": policy.scope.title[0].upper() + policy.scope.title[1:],
        "no": policy.scope.outside[0].upper() + policy.scope.outside[1:],
        NOT_RECORDED: "The record does not say",
    }
    section.say(policy.scope.description)
    section.say(
        f"{of_the(outcomes.value(TOTAL, TOTAL), 'incidents')}, "
        f"{said(outcomes.value('yes', TOTAL))} are {policy.scope.title} and "
        f"{said(outcomes.value('no', TOTAL))} are {policy.scope.outside}; for "
        f"{said(outcomes.value(NOT_RECORDED, TOTAL))} the record does not say."
    )
    rows = []
    for key in (*order, TOTAL):
        rows.append(
            {
                "group": "All incidents" if key == TOTAL else names[key],
                "incidents": outcomes.value(key, TOTAL).text,
                "refer": outcomes.value(key, "refer_police").text,
                "referral": rate(decisions, REFERRAL_BY_DECISION, key).pct(),
                "under": rate(decisions, UNDER_ESCALATION, key).text(),
            }
        )
    section.add(
        "table",
        caption=f"{names['yes']} and {policy.scope.outside}, shown apart",
        columns=[
            {"key": "group", "label": "Incidents"},
            {"key": "incidents", "label": "Number", "align": "right"},
            {"key": "refer", "label": "Guidance says refer", "align": "right"},
            {"key": "referral", "label": "Referral rate", "align": "right"},
            {"key": "under", "label": "Not referred though advised", "align": "right"},
        ],
        rows=rows,
        note=(
            f"Referral rate: {REFERRAL_BY_DECISION.explained(ctx.route)}. Not referred though "
            f"advised: {UNDER_ESCALATION.explained(ctx.route)}."
        ),
        name="incidents_by_scope",
    )


# ---------------------------------------------------------------------------- comparison


def titles(this: Any, other: Any) -> tuple[str, str]:
    """The two policies' titles, told apart when a trust's own file keeps the title."""
    if this.title != other.title:
        return this.title, other.title
    return f"{this.title} (the policy file in use)", f"{other.title} (the other policy file)"


def comparison(ctx: Context, page: Page) -> Headline | None:
    section = page.section("comparison", "The same incidents under another policy")
    ref = ctx.spec.compare_with
    if ref is None:
        section.say("No other policy was given to compare with.")
        return None
    policy, other = ctx.log.policy, ref.policy()
    this_title, other_title = titles(policy, other)
    table = ctx.ledger.table(
        "outcomes_compared",
        caption=f"Incidents by what {this_title} says and what {other_title} says",
        rows="outcome",
        cols=OTHER_OUTCOME,
        where=ctx.current,
        row_order=OUTCOMES,
        col_order=OUTCOMES,
    )
    refer, handle, unsure = OUTCOMES
    this_refer, other_refer = table.value(refer, TOTAL), table.value(TOTAL, refer)
    other_route = other.referral.route
    other_unsure = table.value(TOTAL, unsure)
    empty = none_shown(table.value(TOTAL, TOTAL), other_refer, this_refer, other_unsure)
    if empty:
        section.say(no_incidents(ctx.spec, where="in this comparison"))
    else:
        say_comparison(section, table, this_title, other_title, ctx.route, other_route, ctx.spec)
    short = {refer: "Refer", handle: "May deal with it", unsure: "Cannot tell"}
    rows = [
        {
            "this": short[key] if key != TOTAL else "All incidents",
            **{col: table.value(key, col).text for col in (*OUTCOMES, TOTAL)},
        }
        for key in (*OUTCOMES, TOTAL)
    ]
    section.add(
        "table",
        caption=f"Rows: what {this_title} says. Columns: what {other_title} says.",
        columns=[
            {"key": "this", "label": "Guidance in use"},
            *(
                {"key": k, "label": f"Other: {short[k].lower()}", "align": "right"}
                for k in OUTCOMES
            ),
            {"key": TOTAL, "label": "Total", "align": "right"},
        ],
        rows=rows,
        note=(
            f"Refer means refer to {ctx.route} under the guidance in use, and to {other_route} "
            "under the other. “Cannot tell”: a field the guidance needs was left blank."
        ),
        name="outcomes_compared",
    )
    if empty:
        return empty_headline(
            f"Comparison with {other_title}", ctx.spec, where="in this comparison",
            section="comparison",
        )  # fmt: skip
    return Headline(
        area=f"Comparison with {other_title}",
        status=(
            f"{other_title} would refer {said(other_refer)} of these incidents to "
            f"{other_route}, against {said(this_refer)} that {this_title} refers; it cannot "
            f"decide {said(other_unsure)}."
            + zero_note(ctx.spec, [other_refer, this_refer, other_unsure])
        ),
        section="comparison",
    )


def say_comparison(
    section: Any,
    table: Any,
    this_title: str,
    other_title: str,
    route: str,
    other_route: str,
    spec: Any,
) -> None:
    """The comparison's three sentences, all read from the one cross-table (and, in a
    publication, what a 0 among them stands for)."""
    refer, handle, unsure = OUTCOMES
    this_refer, other_refer = table.value(refer, TOTAL), table.value(TOTAL, refer)
    section.say(
        f"The guidance in use, {this_title}, says refer to {route} for "
        f"{part_of(this_refer, table.value(TOTAL, TOTAL), 'incidents')}. The other "
        f"guidance, {other_title}, would refer {said(other_refer)} of them to {other_route}."
    )
    section.say(
        f"{of_the(other_refer, 'incidents the other guidance would refer', the=True)}, "
        f"{said(table.value(refer, refer))} are referred under the guidance in use too, "
        f"{said(table.value(handle, refer))} are ones it leaves to the setting and "
        f"{said(table.value(unsure, refer))} are ones it cannot decide. "
        f"{of_the(this_refer, 'incidents the guidance in use refers', the=True)}, the other "
        "guidance would "
        f"leave {said(table.value(refer, handle))} to the setting and cannot decide "
        f"{said(table.value(refer, unsure))}."
    )
    section.say(
        "Neither guidance decides an incident when a field it needs is blank: "
        f"{counted(table.value(unsure, TOTAL), 'incidents')} under the guidance in use and "
        f"{said(table.value(TOTAL, unsure))} under the other. They are counted apart, "
        "neither as referred nor as left to the setting."
        + zero_note(
            spec, [table.value(r, c) for r in (*OUTCOMES, TOTAL) for c in (*OUTCOMES, TOTAL)]
        )
    )
