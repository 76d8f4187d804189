"""The data contract as data: columns, kinds, codes and output columns.

Everything that reads, checks, assesses or generates an incident log takes its column
names and allowed values from here, so the contract is written down once. This module
imports nothing heavy: the CLI and the policy checker use it before pandas is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "category", "ordinal", "int", "bool", "date"]


@dataclass(frozen=True)
class Column:
    """One input column of the anonymised incident log."""

    name: str
    kind: Kind
    required: bool = False
    codes: tuple[str, ...] = ()  # allowed codes (category) or levels, lowest first (ordinal)
    low: int | None = None  # inclusive range for int columns
    high: int | None = None
    parent: str | None = None  # follow-up fields: blank or false when the parent is false
    protected: bool = False  # a child characteristic used only for the fairness report
    meaning: str = ""


def _bool(name: str, meaning: str, parent: str | None = None, protected: bool = False) -> Column:
    return Column(name, "bool", parent=parent, protected=protected, meaning=meaning)


COLUMNS: tuple[Column, ...] = (
    Column(
        "incident_id",
        "string",
        required=True,
        meaning="pseudonymous incident code: letters, digits, - and _, at most 32 characters",
    ),
    Column(
        "setting_id",
        "string",
        required=True,
        meaning="code of the school or setting (as incident_id), or a setting's name listed "
        "with its code in the mapping file's settings register",
    ),
    Column(
        "setting_phase",
        "category",
        codes=(
            "primary",
            "secondary",
            "all_through",
            "special",
            "alternative_provision",
            "college",
        ),
        meaning="phase of the setting",
    ),
    Column(
        "incident_type",
        "category",
        required=True,
        codes=("image_sharing", "online_sexual_contact"),
        meaning="kind of incident",
    ),
    Column(
        "reported_on", "date", required=True, meaning="date the incident came to staff attention"
    ),
    Column("decided_on", "date", meaning="date of the decision"),
    Column(
        "youngest_child_age", "int", low=4, high=17, meaning="age of the youngest child involved"
    ),
    Column("oldest_party_age", "int", low=4, high=99, meaning="age of the oldest person involved"),
    _bool("adult_involved", "a person aged 18 or over is involved"),
    _bool("multiple_victims", "more than one child targeted or had their image shared"),
    _bool("in_relationship", "the children were in or seeking a romantic relationship"),
    Column(
        "content_level",
        "ordinal",
        codes=("none", "suggestive", "semi_nude", "nude", "sexual_act"),
        meaning="sexual level of the image or content",
    ),
    _bool("content_violent_or_atypical", "content violent or atypical for the child's stage"),
    Column(
        "distribution",
        "ordinal",
        codes=("between_parties", "shared_with_others", "shared_widely"),
        meaning="how far the image travelled",
    ),
    _bool("threats_or_coercion", "threats, coercion, blackmail or sextortion"),
    _bool("harassment", "harassment present"),
    _bool("grooming_or_exploitation_suspected", "grooming or exploitation suspected"),
    _bool("capacity_to_consent_concern", "concern about a child's capacity to consent"),
    _bool("immediate_risk_of_harm", "a child is at immediate risk of harm"),
    _bool("high_risk_vulnerability", "victim or suspect at high risk of CSE or other abuse"),
    Column(
        "motivation",
        "category",
        codes=("romantic", "attention_seeking", "malicious", "reckless", "other"),
        meaning="apparent motivation",
    ),
    _bool("consensual", "images produced and exchanged consensually"),
    _bool("persistent_contact", "further or persistent contact from the suspect"),
    _bool("contact_age_appropriate", "contact and conversation appear age appropriate"),
    Column(
        "decision",
        "category",
        codes=("referred_police", "handled_in_setting"),
        meaning="the setting's decision",
    ),
    _bool("referred_social_care", "referred to children's social care"),
    _bool("rationale_recorded", "investigation, assessment and rationale recorded"),
    _bool("parents_informed", "parents or carers informed"),
    # Ours, beyond the shared contract: the national advice allows parents not to be told
    # when that would put the child at risk, and such a recorded decision is not a gap.
    _bool(
        "child_at_risk_if_parents_told",
        "a recorded decision that telling parents or carers would put the child at risk",
    ),
    _bool("image_viewed", "staff viewed the image or content"),
    _bool(
        "viewing_authorised",
        "viewing permitted under the setting's protocol",
        parent="image_viewed",
    ),
    _bool("viewing_witnessed", "viewing done with someone else present", parent="image_viewed"),
    _bool("viewing_recorded", "viewing recorded clearly", parent="image_viewed"),
    _bool("device_seized", "a child's device was seized"),
    _bool("device_returned", "the device was given back", parent="device_seized"),
    _bool(
        "parents_contacted_before_return",
        "parents contacted and agreed before the return",
        parent="device_returned",
    ),
    _bool(
        "images_deleted_before_return", "images deleted before the return", parent="device_returned"
    ),
    _bool("deletion_recorded", "the deletion was recorded", parent="device_returned"),
    _bool("image_sent_to_staff", "an image was sent to a member of staff"),
    _bool(
        "staff_copy_deleted", "the staff member deleted it at once", parent="image_sent_to_staff"
    ),
    _bool(
        "staff_reported_to_manager",
        "the staff member told their manager",
        parent="image_sent_to_staff",
    ),
    _bool(
        "staff_reported_to_police", "the staff member told the police", parent="image_sent_to_staff"
    ),
    _bool("parents_disagreed", "parents unhappy with a decision not to call the police"),
    _bool("parents_told_can_report", "those parents were told they may report themselves"),
    Column(
        "police_outcome",
        "category",
        codes=(
            "outcome_21",
            "outcome_22",
            "community_resolution",
            "caution",
            "charge",
            "no_further_action",
            "pending",
        ),
        meaning="what the police did after a referral",
    ),
    Column(
        "child_sex",
        "category",
        codes=("female", "male", "other"),
        protected=True,
        meaning="sex of the child at the centre of the concern",
    ),
    _bool("child_sen", "that child has special educational needs", protected=True),
    Column(
        "child_ethnicity_group",
        "category",
        codes=("white", "mixed", "asian", "black", "chinese", "other"),
        protected=True,
        meaning="ethnicity group of that child",
    ),
    _bool("child_looked_after", "that child is looked after", protected=True),
    _bool("child_disadvantaged", "that child is disadvantaged", protected=True),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)

OUTCOMES: tuple[str, ...] = ("refer_police", "handle_in_setting", "insufficient_information")
CONSISTENCY: tuple[str, ...] = (
    "consistent_referral",
    "consistent_in_setting",
    "under_escalation",
    "over_escalation",
    "discretionary_referral",
    "no_decision",
    "unassessable",
)
# Output columns of `assess`, in order. The first seven are the contract's; the last two
# are ours: how each gap was recorded, and which requirements the record cannot settle.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "policy",
    "guidance_outcome",
    "aggravating_factors",
    "unknown_factors",
    "experimental",
    "consistency",
    "recording_gaps",
    "recording_gap_status",
    "recording_unknown",
)
# Values the engine derives before recording requirements are checked; a recording
# requirement may refer to them like columns.
DERIVED: dict[str, Column] = {
    "guidance_outcome": Column("guidance_outcome", "category", codes=OUTCOMES),
    "experimental": Column("experimental", "bool"),
    # any factor present (known true), every factor absent (known false), else unknown
    "referral_criterion": Column("referral_criterion", "bool"),
    # the setting referred, as the policy defines a referral (three-valued)
    "referred": Column("referred", "bool"),
}

# Spellings accepted on input (after trimming and lower-casing).
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})
UNKNOWN_WORDS = frozenset({"", "unknown", "not recorded", "not_recorded", "n/k", "n/a"})
