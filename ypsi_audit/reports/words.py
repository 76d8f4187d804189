"""Plain English for every code a reader could meet, so no internal id reaches a page.

Labels that depend on the policy (how it names a referral, whether a referral with no
factor is the guidance's own choice) are functions of the policy's route; the rest are
fixed. Rule ids become the titles their policy file gives them (`AssessedLog.rule_title`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import contract

NOT_RECORDED = "not recorded"


def and_list(items: Sequence[str]) -> str:
    """ "S01", "S01 and S02", "S01, S02 and S03"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def outcome_labels(route: str) -> dict[str, str]:
    return {
        "refer_police": f"refer to {route}",
        "handle_in_setting": "the setting may deal with it",
        "insufficient_information": "cannot tell: a field the guidance needs is blank",
    }


def consistency_labels(route: str) -> dict[str, str]:
    """Each consistency code as a reader should read it. Neither kind of referral the
    guidance does not require is described as a mistake."""
    return {
        "consistent_referral": f"referred to {route}, as the guidance says",
        "consistent_in_setting": "dealt with in the setting, as the guidance allows",
        "under_escalation": f"not referred, though the guidance says refer to {route}",
        "over_escalation": "referred where the guidance says the setting could have resolved it",
        "discretionary_referral": (
            "referred by the safeguarding lead's choice, which the guidance allows"
        ),
        "no_decision": "no decision recorded",
        "unassessable": "cannot be judged: the record is incomplete",
    }


# Short column headings for the same codes (tables).
CONSISTENCY_HEADINGS = {
    "consistent_referral": "Referred as advised",
    "consistent_in_setting": "Dealt with in setting as allowed",
    "under_escalation": "Not referred though advised",
    "over_escalation": "Referred where setting could resolve",
    "discretionary_referral": "Referred by the lead's choice",
    "no_decision": "No decision recorded",
    "unassessable": "Cannot be judged",
}

POLICE_OUTCOMES = {
    "outcome_21": "Outcome 21: further investigation not in the public interest",
    "outcome_22": "Outcome 22: diversionary, educational or intervention activity",
    "community_resolution": "Community resolution",
    "caution": "Caution",
    "charge": "Charge",
    "no_further_action": "No further action",
    "pending": "Pending",
    NOT_RECORDED: "Not recorded yet",
}

CHARACTERISTICS = {
    "child_sex": "Sex",
    "child_sen": "Special educational needs",
    "child_ethnicity_group": "Ethnic group",
    "child_looked_after": "Looked after by the local authority",
    "child_disadvantaged": "Disadvantaged (pupil premium or free school meals)",
}

# How a group of children is named in a sentence.
GROUPS = {
    ("child_sex", "female"): "girls",
    ("child_sex", "male"): "boys",
    ("child_sex", "other"): "children of another sex",
    ("child_sen", "yes"): "children with special educational needs",
    ("child_sen", "no"): "children without special educational needs",
    ("child_looked_after", "yes"): "looked-after children",
    ("child_looked_after", "no"): "children who are not looked after",
    ("child_disadvantaged", "yes"): "disadvantaged children",
    ("child_disadvantaged", "no"): "children who are not disadvantaged",
    ("child_ethnicity_group", "white"): "White children",
    ("child_ethnicity_group", "mixed"): "children of mixed ethnicity",
    ("child_ethnicity_group", "asian"): "Asian children",
    ("child_ethnicity_group", "black"): "Black children",
    ("child_ethnicity_group", "chinese"): "Chinese children",
    ("child_ethnicity_group", "other"): "children of another ethnic group",
}


def group_words(column: str, group: str) -> str:
    if group == NOT_RECORDED:
        return f"children whose record leaves {CHARACTERISTICS[column].lower()} blank"
    return GROUPS.get((column, group), f"{CHARACTERISTICS[column].lower()}: {group}")


def group_heading(column: str, group: str) -> str:
    """A short label for a table row."""
    if group == NOT_RECORDED:
        return "Not recorded"
    spec = contract.BY_NAME[column]
    if spec.kind == "bool":
        return "Yes" if group == "yes" else "No"
    return group.replace("_", " ").capitalize()


def field_words(column: str) -> str:
    """A contract column as a reader would name it: its meaning, not its name."""
    spec = contract.BY_NAME.get(column)
    if spec is None or not spec.meaning:
        return column.replace("_", " ")
    meaning = spec.meaning
    return meaning[0].upper() + meaning[1:]


REQUIREMENT_STATES = {
    "met": "Met",
    "not_done": "Recorded as not done",
    "not_recorded": "Not recorded",
    "unsettled": "Cannot tell from the record",
}

TERMS = ("autumn", "spring", "summer")


def shown_as_0(threshold: int) -> str:
    """The bracket every publication sentence built on a shown 0 carries: one wording."""
    return f"(a count from 1 to {threshold - 1} is shown as 0 or {threshold})"


def zero_caveat(spec: Any) -> str:
    """What a publication adds after a statement built on a count shown as 0, which can
    stand for a few incidents there; "" for the internal audience, whose 0 is none."""
    return f" {shown_as_0(spec.threshold)}" if spec.publication else ""


def zero_note(spec: Any, figures: Any) -> str:
    """A publication's closing sentence for a statement that rests on counts shown as 0
    (`figures`, each with `shown` and `value`), which there can each be a few; "" when none
    is, and always for the internal audience."""
    if not spec.publication or not any(f.shown and f.value == 0 for f in figures):
        return ""
    t = spec.threshold
    return f" A count shown as 0 here can be anything from 0 to {t - 1}."


def no_incidents(spec: Any, *, where: str = "on this page") -> str:
    """What a page says, in place of its summary, when the chosen settings and period hold
    no incidents: plainly, instead of "0 of 0". A publication says what its figures show
    (a count from 1 to t − 1 is published as 0 or t, so a 0 there is not a promise of
    none); pages say it only when every figure beside the sentence is shown as 0."""
    scope = selection_words(spec)
    if spec.publication:
        return (
            f"No incidents are shown {scope} {shown_as_0(spec.threshold)}, so there is nothing "
            f"to review {where}."
        )
    return f"There are no incidents {scope}, so there is nothing to review {where}."


def shown_larger(spec: Any, pairs: Any) -> str:
    """A publication's sentence for a page whose adjusted figures show a part larger than
    its whole (`pairs` of (part, whole) figures), which in a tiny selection reads as an
    error; "" when none is, and always for the internal audience, whose figures add up."""
    if not spec.publication or not any(
        part.shown and whole.shown and part.value > whole.value for part, whole in pairs
    ):
        return ""
    t = spec.threshold
    return (
        "Some of these figures are shown larger than the figure they are part of. That is "
        f"the adjustment made for publication: a count from 1 to {t - 1} is shown as 0 or "
        f"{t} and other counts are moved a little, so in a selection this small the figures "
        "do not add up, and each of them stands for only a handful of incidents."
    )


def empty_headline(
    area: str, spec: Any, *, where: str = "in this area", section: str = "summary"
) -> Any:
    """The front page's block for an area with no incidents in the selection."""
    from .page import Headline

    return Headline(area=area, status=no_incidents(spec, where=where), section=section, empty=True)


def selection_words(spec: Any) -> str:
    """'for this selection' when settings or a period were chosen, else 'in the log'."""
    return "for this selection" if spec.period or spec.settings else "in the log"


CONTEXT_ONLY = "Figures below from other academic years, if any, are there only as context."
