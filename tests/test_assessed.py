"""The assessed log a report is built from (ypsi_audit/reports/assessed.py)."""

from __future__ import annotations

import pandas as pd

from ypsi_audit import synth
from ypsi_audit.engine import assess
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.runner import absent_settings
from ypsi_audit.reports.spec import RunSpec


def _log(**options) -> AssessedLog:
    spec = RunSpec.build("report", input="log.csv", out="out", **options)
    frame = synth.generate(4, 1, seed=5, today=pd.Timestamp("2025-08-31").date())
    assessed = assess(frame, spec.policy.policy(), spec.policy.parameters, with_states=True)
    return AssessedLog.of(assessed, {}, spec)


def test_settings_asked_for_that_the_log_lacks_are_named() -> None:
    """A mistyped code (S99) gives an empty selection; the run names it so the person
    running it can tell a slip from a setting with nothing to report."""
    log = _log(settings="S01,S99")
    assert log.absent == ("S99",)
    assert set(log.frame["setting_id"].astype(str)) == {"S01"}
    assert absent_settings(log.absent, "log.csv") == (
        "Note: setting S99 has no assessed incident in log.csv; check the code given to "
        "--settings (the pages for it say there is nothing to review)."
    )
    assert "settings S98, S99 have" in absent_settings(("S98", "S99"), "log.csv")


def test_settings_all_present_or_not_chosen_name_nothing() -> None:
    assert _log(settings="S01,S02").absent == ()
    assert _log().absent == ()
