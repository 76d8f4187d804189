"""The ledger: declared count tables, their cells and totals, and figures worked out from
the published counts only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ypsi_audit.protection import Exact, Form, Ledger, LedgerError
from ypsi_audit.protection.figures import POSITIONS, format_figure, rate
from ypsi_audit.stats import agreement, funnel_limits


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 200
    return pd.DataFrame(
        {
            "setting_id": rng.choice(["S01", "S02", "S03"], n, p=[0.6, 0.3, 0.1]),
            "consistency": pd.Categorical(
                rng.choice(["consistent_referral", "under_escalation"], n, p=[0.85, 0.15]),
                ["consistent_referral", "under_escalation", "no_decision"],
            ),
            "child_sen": pd.array(rng.choice([True, False], n), dtype="boolean"),
            "flag": rng.random(n) < 0.3,
        }
    )


class Given:
    """A method whose forms are given (what a test plants)."""

    name = "given"

    def __init__(self, forms: list[Form]) -> None:
        self.forms = forms

    def protect(self, ledger: Ledger) -> list[Form]:
        return self.forms

    def document(self) -> dict:
        return {"kind": "given", "promise": 1}

    def note(self) -> str:
        return "given"


def test_counts_are_the_crosstab_with_every_total_and_zero_cells() -> None:
    data = frame()
    ledger = Ledger(data)
    ledger.counts("split", ["setting_id", "consistency"])
    pack = ledger.publish(Exact())
    expected = pd.crosstab(data["setting_id"], data["consistency"].astype(str))
    for setting in ("S01", "S02", "S03"):
        for code in ("consistent_referral", "under_escalation"):
            got = pack.count("split", setting_id=setting, consistency=code).value
            assert got == expected.loc[setting, code]
        # a declared category nobody has is a zero cell, not a missing row
        assert pack.count("split", setting_id=setting, consistency="no_decision").value == 0
        assert pack.count("split", setting_id=setting).value == expected.loc[setting].sum()
    assert pack.count("split").value == len(data)
    table = pack.table("split")
    assert len(table) == 3 * 3 + 3 + 3 + 1  # cells, row totals, column totals, grand total


def test_a_column_that_may_be_blank_always_has_its_not_recorded_row() -> None:
    """The table's shape must not say whether anything is blank."""
    data = frame()
    data["child_sen"] = pd.array([True] * len(data), dtype="boolean")  # nothing blank
    ledger = Ledger(data)
    ledger.counts("sen", ["child_sen"])
    assert ledger.values("sen", "child_sen") == ("yes", "no", "not recorded")
    assert ledger.publish(Exact()).count("sen", child_sen="not recorded").value == 0


def test_undeclared_values_are_refused() -> None:
    ledger = Ledger(frame())
    with pytest.raises(LedgerError, match="declared values"):
        ledger.counts("split", ["setting_id"], values={"setting_id": ["S01", "S02"]})


def test_a_where_mask_with_blanks_is_refused() -> None:
    data = frame()
    ledger = Ledger(data)
    mask = pd.Series(pd.array([True, None] * (len(data) // 2), dtype="boolean"))
    with pytest.raises(LedgerError, match="blanks"):
        ledger.counts("t", ["setting_id"], mask)


def test_nothing_may_be_declared_after_publishing() -> None:
    ledger = Ledger(frame())
    ledger.counts("split", ["setting_id"])
    ledger.publish(Exact())
    with pytest.raises(LedgerError, match="already published"):
        ledger.counts("late", ["setting_id"])


def test_flags_count_each_flag_beside_all() -> None:
    data = frame()
    ledger = Ledger(data)
    ledger.flags("flagged", {"f": data["flag"].to_numpy()}, by=["setting_id"])
    pack = ledger.publish(Exact())
    for setting in ("S01", "S02", "S03"):
        chosen = data["setting_id"] == setting
        assert (
            pack.count("flagged", flag="f", setting_id=setting).value
            == (chosen & data["flag"]).sum()
        )
        assert pack.count("flagged", flag="all", setting_id=setting).value == chosen.sum()
    assert set(pack.table("flagged")["flag"]) == {"all", "f"}


def test_figures_come_from_published_counts_not_true_ones() -> None:
    data = frame()
    ledger = Ledger(data)
    ledger.counts("split", ["setting_id", "consistency"])
    rates = ledger.rates(
        "under", "split", "setting_id",
        part={"consistency": ["under_escalation"]},
        whole={"consistency": ["under_escalation", "consistent_referral"]},
    )  # fmt: skip
    # Publish every count as 10 more than it is: each rate must follow the shown numbers.
    truth = ledger.true_counts
    pack = ledger.publish(Given([Form("perturbed", int(v) + 10) for v in truth]))
    for setting in ("S01", "S02", "S03"):
        under = pack.count("split", setting_id=setting, consistency="under_escalation").value
        referred = pack.count("split", setting_id=setting, consistency="consistent_referral").value
        figure = pack.value(rates[setting])
        assert figure.value == pytest.approx(under / (under + referred))
        assert figure.text == f"{100 * under / (under + referred):.1f}%"


def test_a_figure_resting_on_a_hidden_count_is_withheld() -> None:
    ledger = Ledger(frame())
    ledger.counts("split", ["setting_id"])
    share = ledger.rate("share", ledger.cell("split", setting_id="S03"), ledger.cell("split"))
    forms = [Form("exact", int(v)) for v in ledger.true_counts]
    forms[ledger.cell_id(ledger.cell("split", setting_id="S03"))] = Form("primary")
    pack = ledger.publish(Given(forms))
    assert pack.value(share).value is None
    assert pack.value(share).text == "not shown"
    assert pack.count("split", setting_id="S03").text == "<5"


def test_funnel_position_follows_the_limits_at_the_published_denominator() -> None:
    data = frame()
    ledger = Ledger(data)
    ledger.counts("split", ["setting_id", "consistency"])
    rates = ledger.rates(
        "under", "split", "setting_id",
        part={"consistency": ["under_escalation"]},
        whole={"consistency": ["under_escalation", "consistent_referral"]},
    )  # fmt: skip
    target = rates.pop("Total")
    positions = ledger.funnel("position", rates, target)
    pack = ledger.publish(Exact())
    theta = pack.value(target).value
    for setting, name in positions.items():
        k = pack.count("split", setting_id=setting, consistency="under_escalation").value
        n = k + pack.count("split", setting_id=setting, consistency="consistent_referral").value
        limits = funnel_limits(np.array([n]), theta).iloc[0]
        inside = limits["lower95"] <= k / n <= limits["upper95"]
        assert (pack.value(name).text == POSITIONS[0]) == inside


def test_agreement_statistics_match_the_stats_module() -> None:
    rng = np.random.default_rng(2)
    data = pd.DataFrame(
        {"g": rng.choice(["yes", "no"], 300), "d": rng.choice(["yes", "no"], 300, p=[0.7, 0.3])}
    )
    ledger = Ledger(data)
    ledger.counts("two", ["g", "d"], values={"g": ["yes", "no"], "d": ["yes", "no"]})
    quad = [ledger.cell("two", g=g, d=d) for g in ("yes", "no") for d in ("yes", "no")]
    names = {k: ledger.statistic(f"s_{k}", k, quad) for k in ("kappa", "pabak", "mcnemar_p")}
    pack = ledger.publish(Exact())
    expected = agreement((data["g"] == "yes").to_numpy(), (data["d"] == "yes").to_numpy())
    for kind, name in names.items():
        assert pack.value(name).value == pytest.approx(expected[kind])


def test_rates_print_as_declared() -> None:
    with pytest.raises(ValueError, match="part and whole"):
        rate("r", (), ())
    ledger = Ledger(frame())
    ledger.counts("split", ["setting_id"])
    name = ledger.rate(
        "r", ledger.cell("split", setting_id="S01"), ledger.cell("split"), decimals=0
    )
    value = ledger.publish(Exact()).value(name)
    assert value.text == format_figure(ledger.figures[name], value.value)
    assert value.text.endswith("%") and "." not in value.text
