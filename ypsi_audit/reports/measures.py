"""Every rate a report shows, defined once: what it counts, out of what, and its words.

Each measure is a share of the cells of one kind of ledger table (by setting, by year,
by group): its numerator and denominator name the table's columns. Every page and the
impact sweep take their rates from here, so the same measure has the same number
wherever it appears. Wording follows the policy's own name for a referral, and no measure
is ever presented as something a setting should do less of: only the direction that can
leave a child unprotected is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .words import consistency_labels


@dataclass(frozen=True)
class Measure:
    name: str
    dimension: str  # the incident category the table is split by (columns)
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    flag_high: bool  # a setting above the funnel's limits is named (a child may be at risk)
    label_template: str  # "{route}" is filled with the policy's referral route
    explained_template: str

    def label(self, route: str) -> str:
        return self.label_template.format(route=route)

    def explained(self, route: str) -> str:
        return self.explained_template.format(route=route)


REFERRAL = Measure(
    name="referral",
    dimension="referred",
    numerator=("yes",),
    denominator=("yes", "no"),
    flag_high=False,
    label_template="referral rate",
    explained_template=(
        "of incidents where the record shows whether the setting referred, the share "
        "referred to {route}"
    ),
)
GUIDANCE_REFER = Measure(
    name="guidance_refer",
    dimension="outcome",
    numerator=("refer_police",),
    denominator=("refer_police", "handle_in_setting", "insufficient_information"),
    flag_high=False,
    label_template="share the guidance sends to {route}",
    explained_template="of all incidents, the share for which the guidance says refer to {route}",
)
UNDER_ESCALATION = Measure(
    name="under_escalation",
    dimension="consistency",
    numerator=("under_escalation",),
    denominator=("under_escalation", "consistent_referral"),
    flag_high=True,
    label_template="share not referred though the guidance says refer",
    explained_template=(
        "of incidents the guidance says should go to {route} and whose decision is recorded, "
        "the share the setting kept instead"
    ),
)
# Descriptive only (the Cheshire guide): never flagged, never a rate to bring down.
RESOLVABLE_REFERRED = Measure(
    name="resolvable_referred",
    dimension="consistency",
    numerator=("over_escalation",),
    denominator=("over_escalation", "consistent_in_setting", "discretionary_referral"),
    flag_high=False,
    label_template="share referred where the guidance says the setting could have resolved it",
    explained_template=(
        "of incidents the guidance says the setting could resolve itself and whose decision "
        "is recorded, the share referred to {route} all the same; a referral is never wrong "
        "in itself, and this is shown only to describe practice"
    ),
)
ANY_GAP = Measure(
    name="any_gap",
    dimension="any_gap",
    numerator=("yes",),
    denominator=("yes", "no"),
    flag_high=True,
    label_template="share of incidents with a recording gap",
    explained_template=(
        "of all incidents, the share where at least one step the guidance asks for was not "
        "shown to be done"
    ),
)

# The partition the escalation page publishes once per setting (`decisions_by_setting`):
# each incident's consistency, with those that cannot be judged split by whether the
# setting referred, so the referral rate too is worked out from that one table.
DECISION_SPLIT = "decision_against_guidance"
REFERRED_SPLIT = ("consistent_referral", "over_escalation", "discretionary_referral",
                  "unassessable_referred")  # fmt: skip
NOT_REFERRED_SPLIT = ("consistent_in_setting", "under_escalation", "unassessable_not_referred")
# REFERRAL counted from that partition: the same numerator and denominator, the same words.
REFERRAL_BY_DECISION = replace(
    REFERRAL,
    name="referral_by_decision",
    dimension=DECISION_SPLIT,
    numerator=REFERRED_SPLIT,
    denominator=REFERRED_SPLIT + NOT_REFERRED_SPLIT,
)

MEASURES = {m.name: m for m in (REFERRAL, GUIDANCE_REFER, UNDER_ESCALATION,
                                RESOLVABLE_REFERRED, ANY_GAP, REFERRAL_BY_DECISION)}  # fmt: skip


def consistency_words(route: str, code: str) -> str:
    return consistency_labels(route)[code]
