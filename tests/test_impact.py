"""Policy-change evaluations: a comparison matches each policy's own assessment row by
row and says which way each incident moves; a sweep matches assess value by value, uses
the measures' definitions and evaluates the rules that do not read the parameter once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ypsi_audit import contract, impact
from ypsi_audit.engine import assess
from ypsi_audit.errors import PolicyError, YpsiError
from ypsi_audit.reports.measures import GUIDANCE_REFER, RESOLVABLE_REFERRED, UNDER_ESCALATION
from ypsi_audit.synth import generate


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return generate(12, 3, seed=21)


def test_comparison_matches_each_policys_own_assessment(log: pd.DataFrame) -> None:
    pair = impact.compare(log, "cheshire-quick-guide", "ukcis-2024")
    cheshire = assess(log, "cheshire-quick-guide")
    national = assess(log, "ukcis-2024")
    outcomes = np.asarray(contract.OUTCOMES)
    judged = np.asarray(contract.CONSISTENCY)
    assert (outcomes[pair.current.outcome] == cheshire["guidance_outcome"].astype(str)).all()
    assert (outcomes[pair.proposed.outcome] == national["guidance_outcome"].astype(str)).all()
    assert (judged[pair.proposed.consistency] == national["consistency"].astype(str)).all()
    before = cheshire["guidance_outcome"].astype(str).to_numpy()
    after = national["guidance_outcome"].astype(str).to_numpy()
    assert pair.changed().sum() == (before != after).sum() > 0
    moves = np.asarray(impact.CHANGES)[pair.change()]
    short = {"refer_police": "refer", "handle_in_setting": "handle",
             "insufficient_information": "undecided"}  # fmt: skip
    expected = np.where(
        before == after,
        "unchanged",
        [f"{short[b]}_to_{short[a]}" for b, a in zip(before, after, strict=True)],
    )
    assert (moves == expected).all()
    assert set(moves) >= {"unchanged", "refer_to_handle", "handle_to_refer"}


def test_same_policy_with_other_parameters_moves_one_way(log: pd.DataFrame) -> None:
    pair = impact.compare(
        log, "cheshire-quick-guide", "cheshire-quick-guide", None, {"wide_age_gap_years": 1}
    )
    moves = set(np.asarray(impact.CHANGES)[pair.change()])
    # a lower threshold only adds referrals, or leaves a blank relationship field undecided
    assert "handle_to_refer" in moves
    assert moves <= {"unchanged", "handle_to_refer", "undecided_to_refer", "handle_to_undecided"}
    gap = [r.id for r in pair.proposed.policy.factors].index("wide_age_gap")
    newly = pair.changed() & (pair.proposed.outcome == 0)
    assert pair.proposed.factors[gap].t[newly].all()


def test_sweep_matches_assess_for_every_value(log: pd.DataFrame) -> None:
    table = impact.sweep(log, "cheshire-quick-guide", "wide_age_gap_years", range(1, 11))
    assert table["default"].tolist() == [v == 3 for v in range(1, 11)]
    for value in (1, 2, 3, 6):
        assessed = assess(log, params={"wide_age_gap_years": value})
        row = table.set_index("value").loc[value]
        outcome = assessed["guidance_outcome"]
        assert row["n_refer"] == (outcome == "refer_police").sum()
        assert row["n_insufficient"] == (outcome == "insufficient_information").sum()
        for judgement in contract.CONSISTENCY:
            assert row[f"n_{judgement}"] == (assessed["consistency"] == judgement).sum()
        judged = assessed["consistency"].astype(str)
        for measure in (UNDER_ESCALATION, RESOLVABLE_REFERRED):
            top = judged.isin(measure.numerator).sum()
            assert row[f"rate_{measure.name}"] == pytest.approx(
                top / judged.isin(measure.denominator).sum()
            )
        assert row[f"rate_{GUIDANCE_REFER.name}"] == pytest.approx(
            (outcome == "refer_police").mean()
        )
    levels = impact.sweep(
        log, "cheshire-quick-guide", "sexual_content_from", ["nude", "sexual_act"]
    )
    assert levels["n_refer"].is_monotonic_decreasing


def test_sweep_points_keep_the_other_parameters(log: pd.DataFrame) -> None:
    points = list(
        impact.sweep_points(
            log, "cheshire-quick-guide", "under_age", [12, 14], {"wide_age_gap_years": 1}
        )
    )
    for point in points:
        assessed = assess(log, params={"wide_age_gap_years": 1, "under_age": point.value})
        outcomes = np.asarray(contract.OUTCOMES)[point.outcome]
        assert (outcomes == assessed["guidance_outcome"].astype(str).to_numpy()).all()
        judged = np.asarray(contract.CONSISTENCY)[point.consistency]
        assert (judged == assessed["consistency"].astype(str).to_numpy()).all()


def test_sweep_evaluates_unaffected_rules_once(log: pd.DataFrame, monkeypatch) -> None:
    from ypsi_audit.conditions import Branch, Leaf

    calls: list[str] = []
    for kind in (Leaf, Branch):
        real = kind.evaluate
        monkeypatch.setattr(
            kind,
            "evaluate",
            lambda self, ctx, lenient=False, real=real: (
                calls.append(type(self).__name__) or real(self, ctx, lenient)
            ),
        )
    impact.sweep(log, "cheshire-quick-guide", "under_age", range(10, 16))
    once = len(calls)
    calls.clear()
    impact.sweep(log, "cheshire-quick-guide", "under_age", range(10, 11))
    # six values cost the one-value work plus five re-evaluations of the single under_13 leaf
    assert once == len(calls) + 5


def test_sweep_arguments_are_checked(log: pd.DataFrame) -> None:
    assert impact.parse_sweep("wide_age_gap_years=1..4") == (
        "wide_age_gap_years",
        ["1", "2", "3", "4"],
    )
    assert impact.parse_sweep("sexual_content_from=nude, sexual_act,nude") == (
        "sexual_content_from",
        ["nude", "sexual_act"],
    )
    assert len(impact.parse_sweep("x=1..20")[1]) == impact.MAX_SWEEP_VALUES
    for bad in ("wide_age_gap_years", "x=5..1", "x=a..b", "x=1..21", "x= , ", "x=1..1000000000"):
        with pytest.raises(YpsiError):
            impact.parse_sweep(bad)
    many = ",".join(str(v) for v in range(impact.MAX_SWEEP_VALUES + 1))
    with pytest.raises(YpsiError, match="at most 20 values"):
        impact.parse_sweep(f"x={many}")
    with pytest.raises(PolicyError, match="did you mean 'wide_age_gap_years'"):
        impact.sweep(log, "cheshire-quick-guide", "wide_gap_years", [1, 2])
    with pytest.raises(PolicyError, match="between 1 and 10"):
        impact.sweep(log, "cheshire-quick-guide", "wide_age_gap_years", [0, 1])
    with pytest.raises(PolicyError, match="fixes adult_age"):
        impact.sweep(log, "ukcis-2024", "adult_age", [18, 21])
