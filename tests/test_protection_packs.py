"""Whole publication packs attacked: the representative ledger (every table the pages
publish) on the sample and on small and large synthetic trusts, with and without the
generator's plants, protected by cell-key perturbation and passed by the audit; a leak
planted in a whole pack is found; suppression and the pages' own ledger are covered too."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pandas as pd
import pytest

from ypsi_audit import assess, load_incidents, synth
from ypsi_audit.protection import Exact, audit
from ypsi_audit.protection.adapter import protector
from ypsi_audit.protection.cellkey import record_keys
from ypsi_audit.protection.figures import format_figure
from ypsi_audit.protection.publish import DisclosureError, protect, protect_with
from ypsi_audit.protection.representative import representative
from ypsi_audit.protection.suppression import Suppression
from ypsi_audit.resources import sample_log

SECRET = b"the test suite's cell-key secret"
PLANTS = {
    "bias": synth.BiasPlan("child_sen", "true", 0.2),
    "poor_recording": synth.RecordingPlan(("S01", "S02"), 0.6),
}
TRUSTS = {  # name -> (settings, years, plants)
    "3x1": (3, 1, False),
    "3x1+plants": (3, 1, True),
    "8x2+plants": (8, 2, True),
    "20x3": (20, 3, False),
    "40x3+plants": (40, 3, True),
}


@cache
def assessed(name: str) -> pd.DataFrame:
    if name == "sample":
        return assess(load_incidents(sample_log()), with_states=True)
    settings, years, plants = TRUSTS[name]
    log = synth.generate(settings, years, seed=settings * 7 + years, **(PLANTS if plants else {}))
    return assess(log, with_states=True)


@pytest.mark.parametrize("name", ["sample", *TRUSTS])
def test_every_pack_passes_the_audit_and_shows_every_setting(name: str) -> None:
    frame = assessed(name)
    ledger = representative(frame)
    done = protect(ledger, frame["incident_id"].to_numpy(), SECRET)
    pack, report = done.pack, done.report
    assert report.passed, report.failures
    assert report.protected > 0 and report.narrowest >= 2
    shown = [f.value for f in pack.forms if f.value is not None]
    assert len(shown) == len(pack.forms)  # nothing is blanked
    assert not any(1 <= v <= 4 for v in shown)
    # Every setting stands somewhere on the under-escalation funnel, or has no
    # incident the guidance sends to the police (a rate of nothing).
    settings = ledger.values("decisions_by_setting", "setting_id")
    positions = [pack.value(f"under_escalation_position[{s}]") for s in settings]
    rates = [pack.value(f"under_escalation_rate[{s}]") for s in settings]
    for position, rate in zip(positions, rates, strict=True):
        assert position.shown == rate.shown
    assert sum(p.shown for p in positions) >= len(settings) - 1


def test_the_audit_attacks_the_pack_it_is_given_not_the_method() -> None:
    """The same whole pack with one setting's under-escalation rate printed from the true
    counts: the audit names the figure."""
    frame = assessed("8x2+plants")
    ledger = representative(frame)
    pack = protect(ledger, frame["incident_id"].to_numpy(), SECRET).pack
    exact = ledger.publish(Exact())
    settings = ledger.values("decisions_by_setting", "setting_id")
    planted = next(
        f"under_escalation_rate[{s}]" for s in settings
        if exact.figure_texts[f"under_escalation_rate[{s}]"]
        != pack.figure_texts[f"under_escalation_rate[{s}]"]
    )  # fmt: skip
    view = pack.for_audit()
    true = exact.figure_values[planted]
    view = dataclasses.replace(
        view,
        figure_values={**view.figure_values, planted: true},
        figure_texts={**view.figure_texts, planted: format_figure(ledger.figures[planted], true)},
    )
    report = audit(view, ledger.identities(), ledger.true_counts)
    assert f"figure {planted} does not follow from the published counts." in report.failures


def test_a_pack_no_draw_can_make_safe_is_refused_naming_the_cell() -> None:
    """A method that forgot to protect anything: every draw fails, and the refusal names
    a table and a cell and carries the publication check's own exit code."""
    ledger = representative(assessed("3x1"))

    class Forgetful(Exact):
        def document(self) -> dict:
            return {"kind": "none", "promise": 1}

    with pytest.raises(DisclosureError) as caught:
        protect_with(ledger, lambda draw: Forgetful(), max_draws=2)
    assert caught.value.exit_code == 4
    assert "after 2 draw(s)" in str(caught.value)
    assert "shows a count from 1 to 4" in str(caught.value)
    assert caught.value.failures[0].split(" (")[0] in ledger.tables
    with pytest.raises(DisclosureError, match="cannot be drawn again"):
        protect_with(ledger, lambda draw: Forgetful(), max_draws=1)


def test_suppression_over_linked_tables_always_publishes_what_passes_the_audit() -> None:
    """Converged or not (then it hides every count it may), what suppression publishes
    passes the audit and hides every small count."""
    frame = assessed("3x1")
    ledger = representative(frame)
    method = Suppression()
    pack = ledger.publish(method)
    assert method.rounds >= 1
    report = audit(pack.for_audit(), ledger.identities(), ledger.true_counts)
    assert report.passed, report.failures
    truth = ledger.true_counts
    statuses = np.array([f.status for f in pack.forms])
    assert np.all(statuses[(truth >= 1) & (truth <= 4)] == "withheld")
    assert not method.converged or (statuses == "exact").sum() > 0


def test_suppression_hides_the_fewest_counts_on_one_table() -> None:
    """A setting-by-decision table with one small count: it is hidden with enough of its
    row and column to be safe, and most of the table stays shown."""
    rows = [("S1", "referred")] * 3 + [("S1", "handled")] * 20
    rows += [("S2", "referred")] * 12 + [("S2", "handled")] * 30
    rows += [("S3", "referred")] * 15 + [("S3", "handled")] * 25
    from ypsi_audit.protection import Ledger

    ledger = Ledger(pd.DataFrame(rows, columns=["setting_id", "decision"]))
    ledger.counts("split", ["setting_id", "decision"], values={"decision": ["referred", "handled"]})
    method = Suppression()
    pack = ledger.publish(method)
    assert method.converged
    table = pack.table("split")
    hidden = table.query("status == 'withheld'")
    assert 4 <= len(hidden) < len(table) / 2
    small = (hidden["setting_id"] == "S1") & (hidden["decision"] == "referred")
    assert small.sum() == 1
    assert (hidden["setting_id"] == "S1").sum() >= 2 and (
        hidden["decision"] == "referred"
    ).sum() >= 2
    assert audit(pack.for_audit(), ledger.identities(), ledger.true_counts).passed


def test_the_pages_ledger_is_protected_and_audited_through_the_adapter() -> None:
    from ypsi_audit.reports.ledger import Ledger as PagesLedger

    frame = assessed("8x2+plants")
    incidents = pd.DataFrame(
        {
            "setting_id": pd.Categorical(frame["setting_id"].astype(str)),
            "consistency": pd.Categorical(frame["consistency"].astype(str)),
        }
    )
    pages = PagesLedger(incidents, audience="publication")
    split = pages.table("split", caption="by setting", rows="setting_id", cols="consistency")
    true = split.true.copy()
    ids = frame["incident_id"].to_numpy()
    pages.publish_with(protector(lambda draw: record_keys(ids, SECRET, draw)))
    assert pages.audit["passed"] is True and pages.audit["cells_published"] > 0
    assert "true counts from 1 to 4 tested" in pages.audit_line
    assert "Disclosure check" in pages.audit["foot"]
    shown = split.shown.to_numpy()
    assert not np.any((shown >= 1) & (shown <= 4))
    assert np.all(np.abs(shown - true.to_numpy())[true.to_numpy() >= 5] <= 2)
    total = split.value()
    assert total.shown and abs(total.value - len(incidents)) <= 2
