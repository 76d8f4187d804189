"""The codes of every rule state the engine produces, and the names of their columns.

`evaluate` settles each rule of a policy once per incident; reports, the case list and
the impact analysis read these small integer columns instead of parsing the `;`-joined
text the assess output spells for people. One place says what each code means.
"""

from __future__ import annotations

# Factors, experimental criteria, the referral and the policy's scope: three-valued.
ABSENT, PRESENT, UNKNOWN = 0, 1, 2
TRI = ("absent", "present", "unknown")

# A recording requirement on one incident.
NOT_APPLICABLE, MET, NOT_DONE, NOT_RECORDED, UNSETTLED = range(5)
REQUIREMENT = ("not_applicable", "met", "not_done", "not_recorded", "unsettled")
SHORT = (NOT_DONE, NOT_RECORDED)  # the requirement was not met

PREFIX = {"factors": "factor:", "experimental": "criterion:", "recording": "requirement:"}
REFERRED = "state:referred"  # the setting referred, as the policy counts a referral
ALLOWED = "state:referral_allowed"  # a referral no factor requires is the guidance's choice
IN_SCOPE = "state:in_scope"  # the incident is of the kind the guidance is written for
EXPERIMENTAL = "state:experimental"
POLICY_ATTR = "ypsi_policy"  # frame.attrs key: the resolved policy (document + parameters)


def column(section: str, rule_id: str) -> str:
    """The state column of one rule: `factor:under_13`, `requirement:viewing_safeguards`."""
    return PREFIX[section] + rule_id


def is_state(name: str) -> bool:
    return name.startswith(("state:", *PREFIX.values()))
