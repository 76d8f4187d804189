"""The attacker's audit finds planted leaks, names the table and the cell, and passes what
is safe."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ypsi_audit.protection import CellKey, Form, Ledger, audit, record_keys
from ypsi_audit.protection.figures import format_figure

SPLIT = {  # setting -> (referred, handled)
    "S1": (3, 20),
    "S2": (12, 30),
    "S3": (15, 25),
}


def frame() -> pd.DataFrame:
    rows = []
    for setting, (referred, handled) in SPLIT.items():
        rows += [(setting, "referred")] * referred + [(setting, "handled")] * handled
    data = pd.DataFrame(rows, columns=["setting_id", "decision"])
    data["incident_id"] = [f"INC-{i}" for i in range(len(data))]
    return data


class Given:
    name = "given"

    def __init__(self, forms: list[Form], promise: int = 1) -> None:
        self.forms, self.promise = forms, promise

    def protect(self, ledger: Ledger) -> list[Form]:
        return self.forms

    def document(self) -> dict:
        return {"kind": "given", "promise": self.promise}

    def note(self) -> str:
        return "given"


def exact_except(ledger: Ledger, hidden: dict) -> list[Form]:
    """Every cell exact but those in `hidden` (cell -> status)."""
    forms = [Form("exact", int(v)) for v in ledger.true_counts]
    for cell, status in hidden.items():
        forms[ledger.cell_id(cell)] = Form(status)
    return forms


def run(ledger: Ledger, forms: list[Form], promise: int = 1, view_change=None):
    pack = ledger.publish(Given(forms, promise))
    view = pack.for_audit()
    if view_change is not None:
        view = view_change(view)
    return audit(view, ledger.identities(), ledger.true_counts)


def split_ledger(extra: bool = False) -> Ledger:
    ledger = Ledger(frame())
    ledger.counts("split", ["setting_id", "decision"], values={"decision": ["referred", "handled"]})
    if extra:  # the planted total too many: handled incidents by setting, published apart
        handled = (ledger.frame["decision"] == "handled").to_numpy()
        ledger.counts("handled", ["setting_id"], handled)
    return ledger


def hidden_square(ledger: Ledger, status: str = "withheld") -> dict:
    cells = {}
    for setting in ("S1", "S2"):
        for decision in ("referred", "handled"):
            cells[ledger.cell("split", setting_id=setting, decision=decision)] = status
    return cells


def test_a_small_count_hidden_alone_is_pinned_by_its_row_total() -> None:
    ledger = split_ledger()
    report = run(
        ledger,
        exact_except(
            ledger, {ledger.cell("split", setting_id="S1", decision="referred"): "primary"}
        ),
    )
    assert not report.passed
    assert report.failures == [
        "split (setting_id S1, decision referred) can be worked out exactly."
    ]


def test_a_square_of_hidden_counts_protects_it() -> None:
    ledger = split_ledger()
    report = run(ledger, exact_except(ledger, hidden_square(ledger)))
    assert report.passed, report.failures
    low, high = report.ranges[int(ledger.identities().var_of_cell[ledger.cell_id(
        ledger.cell("split", setting_id="S1", decision="referred"))])]  # fmt: skip
    assert (low, high) == (0, 15)  # the referred total less S3's, S1's row allowing it all
    assert report.protected == 1 and report.narrowest == 16


def test_one_total_too_many_in_another_table_is_found() -> None:
    """The same square hidden, but another table publishes each setting's handled
    incidents: S1's referrals are its total less those."""
    ledger = split_ledger(extra=True)
    report = run(ledger, exact_except(ledger, hidden_square(ledger)))
    assert not report.passed
    assert "split (setting_id S1, decision referred) can be worked out exactly." in report.failures


def test_bounds_of_small_counts_carried_through_a_total_are_found() -> None:
    """Two counts shown as <5 whose total is shown as 2: both are 1."""
    data = pd.DataFrame({"g": ["a", "b"] + ["c"] * 20})
    ledger = Ledger(data)
    ledger.counts("t", ["g"], data["g"].isin(["a", "b"]).to_numpy(), values={"g": ["a", "b", "c"]})
    forms = exact_except(
        ledger, {ledger.cell("t", g="a"): "primary", ledger.cell("t", g="b"): "primary"}
    )
    report = run(ledger, forms)
    assert not report.passed
    assert {f.split(" can")[0] for f in report.failures} >= {"t (g a)", "t (g b)"}


def test_a_count_from_1_to_4_shown_fails_outright() -> None:
    ledger = split_ledger()
    report = run(ledger, [Form("exact", int(v)) for v in ledger.true_counts])
    assert "split (setting_id S1, decision referred) shows a count from 1 to 4." in report.failures


def test_a_range_narrower_than_the_method_promises_fails() -> None:
    """S1 and S2 referrals shown as <5, their column total exact (5): each is 1 to 4, four
    values, fewer than a promise of five."""
    data = frame()
    data.loc[
        data.index[(data["setting_id"] == "S2") & (data["decision"] == "referred")][2:], "decision"
    ] = "handled"
    ledger = Ledger(data)
    ledger.counts("split", ["setting_id", "decision"], values={"decision": ["referred", "handled"]})
    hidden = {
        ledger.cell("split", setting_id="S1", decision="referred"): "primary",
        ledger.cell("split", setting_id="S2", decision="referred"): "primary",
        ledger.cell("split", setting_id="S1", decision="handled"): "secondary",
        ledger.cell("split", setting_id="S2", decision="handled"): "secondary",
    }
    assert run(ledger, exact_except(ledger, hidden), promise=3).passed
    report = run(ledger, exact_except(ledger, hidden), promise=4)
    assert (
        "split (setting_id S1, decision referred) can be narrowed to 4 values, "
        "fewer than the method promises." in report.failures
    )


def test_a_percentage_of_a_small_count_worked_out_from_the_truth_is_found() -> None:
    """Counts perturbed, but S1's referral share printed from the true counts: 13.0% of a
    total shown within 4 of 23 fits only 3 of 23 (or of 24)."""
    data = frame()
    ledger = split_ledger()
    share = ledger.rate("s1_share", ledger.cell("split", setting_id="S1", decision="referred"),
                        ledger.cell("split", setting_id="S1"))  # fmt: skip
    keys = record_keys(data["incident_id"], b"a test secret of enough length")
    pack = ledger.publish(CellKey(keys))
    honest = audit(pack.for_audit(), ledger.identities(), ledger.true_counts)
    assert honest.passed, honest.failures

    def truthful(view):
        true = 3 / 23
        return dataclasses.replace(
            view,
            figure_values={**view.figure_values, share: true},
            figure_texts={**view.figure_texts, share: format_figure(ledger.figures[share], true)},
        )

    report = audit(truthful(pack.for_audit()), ledger.identities(), ledger.true_counts)
    assert "figure s1_share does not follow from the published counts." in report.failures
    assert "split (setting_id S1, decision referred) can be worked out exactly." in report.failures


def test_a_statistic_from_the_true_counts_fails_outright() -> None:
    ledger = split_ledger()
    quad = [
        ledger.cell("split", setting_id=s, decision=d)
        for s in ("S1", "S2")
        for d in ("referred", "handled")
    ]
    kappa = ledger.statistic("kappa", "kappa", quad)
    pack = ledger.publish(CellKey(np.zeros(ledger.n, dtype=np.int64)))
    view = pack.for_audit()
    view = dataclasses.replace(view, figure_texts={**view.figure_texts, kappa: "0.12"})
    report = audit(view, ledger.identities(), ledger.true_counts)
    assert report.failures == ["figure kappa does not follow from the published counts."]


def test_manifest_and_foot_state_the_guarantee_and_the_exact_figures_stay_private() -> None:
    """How many small counts there are and how narrow the narrowest is come from the true
    counts, so a publication states only the checked guarantee."""
    ledger = split_ledger()
    report = run(ledger, exact_except(ledger, hidden_square(ledger)), promise=3)
    manifest = report.manifest()
    assert manifest == {
        "passed": True,
        "cells_published": len(ledger.cell_list),
        "small_counts_could_each_be_at_least": 4,
        "failures": 0,
    }
    assert report.foot().endswith("(each could still be any of at least 4 values).")
    assert "16" not in report.foot()
    assert report.private()["small_counts_protected"] == 1
    assert report.private()["narrowest_range_values"] == 16
    assert "1 true count from 1 to 4 tested" in report.operator_line()
    assert "16 values" in report.operator_line()
    failing = run(
        ledger,
        exact_except(
            ledger, {ledger.cell("split", setting_id="S1", decision="referred"): "primary"}
        ),
    )
    assert failing.manifest()["passed"] is False
    assert "must not be published" in failing.foot()


@pytest.mark.parametrize("status", ["perturbed", "rounded"])
def test_a_shown_value_outside_its_documented_range_is_reported(status: str) -> None:
    """A method whose documentation does not cover what it did cannot be trusted."""
    ledger = split_ledger()
    forms = [Form(status, int(v) + 40) for v in ledger.true_counts]
    pack = ledger.publish(Given(forms))
    document = {"kind": "x", "promise": 1, "base": 5}
    if status == "perturbed":
        document |= CellKey(np.zeros(ledger.n, dtype=np.int64)).document()
    view = dataclasses.replace(pack.for_audit(), document=document)
    report = audit(view, ledger.identities(), ledger.true_counts)
    assert any("does not allow" in f for f in report.failures)


class Perturbed(Given):
    """Given numbers read under the cell-key method's documentation (its ptable)."""

    def document(self) -> dict:
        return CellKey(np.zeros(1, dtype=np.uint64)).document()


def four_single_referrals(totals_shown: int) -> tuple[Ledger, list[Form]]:
    """Four settings, each with 1 referral and 20 handled. Every referral and the referral
    total (4) are shown as 0, each setting's handled as 20, and each setting's total (21)
    as `totals_shown`; the other cells as they are."""
    data = pd.DataFrame(
        [(s, "referred") for s in ("S1", "S2", "S3", "S4")]
        + [(s, "handled") for s in ("S1", "S2", "S3", "S4") for _ in range(20)],
        columns=["setting_id", "decision"],
    )
    ledger = Ledger(data)
    ledger.counts("split", ["setting_id", "decision"], values={"decision": ["referred", "handled"]})
    forms = [Form("perturbed", int(v)) for v in ledger.true_counts]
    forms[ledger.cell_id(ledger.cell("split", decision="referred"))] = Form("perturbed", 0)
    for s in ("S1", "S2", "S3", "S4"):
        forms[ledger.cell_id(ledger.cell("split", setting_id=s, decision="referred"))] = Form(
            "perturbed", 0
        )
        forms[ledger.cell_id(ledger.cell("split", setting_id=s))] = Form("perturbed", totals_shown)
    return ledger, forms


def test_a_whole_shown_apart_from_its_part_is_known_to_hold_more_incidents() -> None:
    """Each setting's total (21) shown as 22 beside its handled shown as 20: the same
    incidents would show the same number, so each setting has a referral (1 or more);
    the four fit in a referral total shown as 0 (4 or fewer), so each is exactly 1."""
    ledger, forms = four_single_referrals(totals_shown=22)
    report = audit(ledger.publish(Perturbed(forms)).for_audit(), ledger.identities(),
                   ledger.true_counts)  # fmt: skip
    for s in ("S1", "S2", "S3", "S4"):
        assert f"split (setting_id {s}, decision referred) can be worked out exactly." in (
            report.failures
        )


def test_a_whole_shown_as_its_part_says_nothing_more() -> None:
    """The same pack with each setting's total shown as 20, like its handled incidents:
    as far as a reader can tell the referral may be absent, so each is 0 to 4."""
    ledger, forms = four_single_referrals(totals_shown=20)
    report = audit(ledger.publish(Perturbed(forms)).for_audit(), ledger.identities(),
                   ledger.true_counts)  # fmt: skip
    assert report.passed, report.failures


def test_a_pack_without_small_counts_tells_the_operator_so() -> None:
    data = pd.DataFrame({"g": ["a"] * 10 + ["b"] * 12})
    ledger = Ledger(data)
    ledger.counts("t", ["g"])
    report = run(ledger, [Form("exact", int(v)) for v in ledger.true_counts])
    assert report.passed and report.protected == 0
    assert report.operator_line().startswith("Disclosure check passed: no true count from 1 to 4")
    assert "None" not in report.operator_line()


def test_two_years_inside_all_years_are_summed_together() -> None:
    """The sixth outside attack's pin, in small. A setting's undated decisions over all
    years are shown as 0 (so 0 to 4). In 2023-24 the year's undated are shown as 5 and
    each term's as 0, so no term holds them all: at least 2. In 2022-23 the year's are
    shown as 0 and autumn's as 5, so the year holds more than autumn: at least 2. The two
    years never meet, so all years hold at least 4: exactly 4, and autumn 2022-23 exactly
    1. Each year's table lies inside the all-years one; only the two together pin it."""
    rows = []
    for year, undated in (("2022-23", ("autumn", "spring")), ("2023-24", ("autumn", "spring"))):
        for term in ("autumn", "spring", "summer"):
            rows += [("S01", year, term, "dated")] * 20
            rows += [("S01", year, term, "undated")] * undated.count(term)
    data = pd.DataFrame(rows, columns=["setting_id", "year", "term", "days"])
    ledger = Ledger(data)
    ledger.counts("by_setting", ["setting_id", "days"])
    for year in ("2022-23", "2023-24"):
        ledger.counts(f"terms_{year}", ["term", "days"], (data["year"] == year).to_numpy())
    forms = [Form("perturbed", int(v)) for v in ledger.true_counts]

    def show(value: int, table: str, **at: str) -> None:
        forms[ledger.cell_id(ledger.cell(table, **at))] = Form("perturbed", value)

    show(0, "by_setting", setting_id="S01", days="undated")
    show(0, "by_setting", days="undated")
    for term in ("autumn", "spring", "summer"):
        show(0, "terms_2023-24", term=term, days="undated")
    show(5, "terms_2023-24", days="undated")
    show(5, "terms_2022-23", term="autumn", days="undated")
    show(0, "terms_2022-23", term="spring", days="undated")
    show(0, "terms_2022-23", days="undated")
    report = audit(ledger.publish(Perturbed(forms)).for_audit(), ledger.identities(),
                   ledger.true_counts)  # fmt: skip
    assert not report.passed
    assert any(f.startswith("by_setting (setting_id S01, days undated)") for f in report.failures)
