"""Tests for ypsi_audit.stats: intervals, funnels, agreement, Mantel–Haenszel, calendar."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from statsmodels.stats.inter_rater import cohens_kappa

from ypsi_audit import stats

# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize(("k", "n"), [(0, 10), (5, 10), (10, 10), (1, 3), (17, 250)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    low, high = stats.wilson_interval(k, n)
    ci = binomtest(k, n).proportion_ci(method="wilson")
    assert low == pytest.approx(ci.low, abs=1e-12)
    assert high == pytest.approx(ci.high, abs=1e-12)


def test_wilson_known_values_and_level() -> None:
    low, high = stats.wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775328, abs=1e-7)
    low, high = stats.wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2365931, 0.7634069), abs=1e-7)
    ci90 = binomtest(3, 20).proportion_ci(confidence_level=0.9, method="wilson")
    assert stats.wilson_interval(3, 20, level=0.9) == pytest.approx((ci90.low, ci90.high))


def test_wilson_vectorised_with_zero_denominator_and_missing() -> None:
    low, high = stats.wilson_interval(np.array([0, 5, 0]), np.array([10, 10, 0]))
    assert isinstance(low, np.ndarray)
    assert low[:2] == pytest.approx([0.0, 0.2365931], abs=1e-7)
    assert math.isnan(low[2]) and math.isnan(high[2])

    k = pd.Series([1, pd.NA, 4], dtype="Int64", index=["a", "b", "c"])
    n = pd.Series([4, 4, 4], index=["a", "b", "c"])
    low, high = stats.wilson_interval(k, n)
    assert list(low.index) == ["a", "b", "c"]
    assert math.isnan(low["b"])
    assert high["c"] == 1.0
    assert low["a"] == pytest.approx(binomtest(1, 4).proportion_ci(method="wilson").low)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        stats.wilson_interval(11, 10)


# --------------------------------------------------------------------------- funnels


def test_funnel_limits_at_known_n() -> None:
    limits = stats.funnel_limits([100, 400], 0.2)
    assert list(limits.columns) == ["n", "lower95", "upper95", "lower998", "upper998"]
    # se = sqrt(0.2 * 0.8 / 100) = 0.04
    assert limits.loc[0, "lower95"] == pytest.approx(0.2 - 1.959964 * 0.04)
    assert limits.loc[0, "upper95"] == pytest.approx(0.2 + 1.959964 * 0.04)
    assert limits.loc[0, "upper998"] == pytest.approx(0.2 + 3.090232 * 0.04)
    assert limits.loc[1, "lower998"] == pytest.approx(0.2 - 3.090232 * 0.02)


def test_funnel_limits_overdispersion_and_clipping() -> None:
    multiplicative = stats.funnel_limits([100], 0.2, phi=4.0)
    assert multiplicative.loc[0, "upper95"] == pytest.approx(0.2 + 1.959964 * 0.08)
    additive = stats.funnel_limits([100], 0.2, tau2=0.0009)
    assert additive.loc[0, "upper95"] == pytest.approx(0.2 + 1.959964 * 0.05)
    small = stats.funnel_limits([1, 0], 0.5)
    assert small.loc[0, "lower998"] == 0.0
    assert small.loc[0, "upper998"] == 1.0
    assert small.loc[1, ["lower95", "upper95"]].isna().all()


def test_funnel_flags_a_high_outlier_without_overdispersion() -> None:
    rng = np.random.default_rng(7)
    n = np.full(30, 100)
    k = rng.binomial(n, 0.3)
    k[0] = 70
    units = pd.DataFrame({"unit": [f"S{i:02d}" for i in range(30)], "k": k, "n": n})
    result = stats.funnel(units)

    assert result.attrs["theta"] == pytest.approx(k.sum() / n.sum())
    assert result.attrs["overdispersed"] is False
    assert result.attrs["phi"] == 1.0
    assert result.attrs["tau2"] == 0.0
    top = result.set_index("unit").loc["S00"]
    assert top["outside_998"] == "high"
    assert top["outside_95"] == "high"
    assert top["z"] > 3.090232
    assert set(result["outside_998"]) <= {"high", "low", ""}
    assert (result.set_index("unit").drop("S00")["outside_998"] == "").all()


def test_funnel_detects_overdispersion_and_widens_limits() -> None:
    rng = np.random.default_rng(11)
    n = rng.integers(80, 400, 40)
    p = rng.beta(6, 14, 40)  # settings genuinely differ around 30%
    k = rng.binomial(n, p)
    units = pd.DataFrame({"unit": range(40), "k": k, "n": n})
    result = stats.funnel(units)

    assert result.attrs["overdispersed"] is True
    assert result.attrs["phi"] > 1
    assert result.attrs["tau2"] > 0
    plain = stats.funnel_limits(result["n"], result.attrs["theta"])
    assert (result["upper998"] - result["lower998"] > plain["upper998"] - plain["lower998"]).all()
    # Fewer settings flagged than an unadjusted funnel would flag.
    naive = (result["rate"] > plain["upper998"]) | (result["rate"] < plain["lower998"])
    assert (result["outside_998"] != "").sum() < naive.sum()


def test_funnel_tau2_formula() -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(50, 300, 25)
    k = rng.binomial(n, rng.beta(3, 7, 25))
    result = stats.funnel(pd.DataFrame({"unit": range(25), "k": k, "n": n}))
    assert result.attrs["overdispersed"]
    theta = k.sum() / n.sum()
    se = np.sqrt(theta * (1 - theta) / n)
    z = (k / n - theta) / se
    lo, hi = np.quantile(z, [0.1, 0.9])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    w = 1 / se**2
    tau2 = (25 * phi - 24) / (w.sum() - (w**2).sum() / w.sum())
    assert result.attrs["phi"] == pytest.approx(phi)
    assert result.attrs["tau2"] == pytest.approx(tau2)
    expected_upper = theta + 1.959964 * np.sqrt(se**2 + tau2)
    assert result["upper95"].to_numpy() == pytest.approx(np.clip(expected_upper, 0, 1))


def test_funnel_excludes_empty_units_and_handles_no_units() -> None:
    units = pd.DataFrame({"unit": ["A", "B", "C"], "k": [2, 0, 5], "n": [10, 0, 20]})
    result = stats.funnel(units)
    assert list(result["unit"]) == ["A", "C"]
    assert result.attrs["theta"] == pytest.approx(7 / 30)
    empty = stats.funnel(pd.DataFrame({"unit": ["A"], "k": [0], "n": [0]}))
    assert empty.empty
    assert math.isnan(empty.attrs["theta"])


def test_funnel_curve_matches_limits_and_spans_range() -> None:
    curve = stats.funnel_curve(0.3, 500, phi=1.0, tau2=0.0, points=50)
    assert curve["n"].iloc[0] == pytest.approx(1)
    assert curve["n"].iloc[-1] == pytest.approx(500)
    assert curve["n"].is_monotonic_increasing
    assert list(curve.columns) == ["n", "lower95", "upper95", "lower998", "upper998"]
    at_500 = stats.funnel_limits([500], 0.3)
    assert curve.iloc[-1]["upper95"] == pytest.approx(at_500.loc[0, "upper95"])
    # Limits narrow as n grows.
    assert curve["upper998"].is_monotonic_decreasing


# --------------------------------------------------------------------------- agreement


def _pairs(a: int, b: int, c: int, d: int) -> tuple[list[bool], list[bool]]:
    guidance = [True] * a + [True] * b + [False] * c + [False] * d
    decided = [True] * a + [False] * b + [True] * c + [False] * d
    return guidance, decided


def test_agreement_matches_statsmodels_kappa() -> None:
    result = stats.agreement(*_pairs(20, 5, 10, 65))
    expected = cohens_kappa(np.array([[20, 5], [10, 65]]))
    assert (result["both_refer"], result["guidance_only"]) == (20, 5)
    assert (result["decision_only"], result["neither"]) == (10, 65)
    assert result["n"] == 100
    assert result["observed_agreement"] == pytest.approx(0.85)
    assert result["kappa"] == pytest.approx(expected.kappa)
    assert result["kappa_se"] == pytest.approx(expected.std_kappa)
    assert result["kappa_low"] == pytest.approx(expected.kappa_low)
    assert result["kappa_high"] == pytest.approx(expected.kappa_upp)
    assert result["pabak"] == pytest.approx(0.7)


def test_kappa_paradox_high_agreement_low_kappa() -> None:
    result = stats.agreement(*_pairs(90, 5, 5, 0))
    assert result["observed_agreement"] == pytest.approx(0.9)
    assert result["kappa"] < 0.1  # about -0.05
    assert result["kappa"] == pytest.approx(cohens_kappa(np.array([[90, 5], [5, 0]])).kappa)
    assert result["pabak"] == pytest.approx(0.8)


def test_mcnemar_direction_and_exact_test() -> None:
    result = stats.agreement(*_pairs(30, 10, 2, 58))
    assert result["direction"] == "more under-escalation than over-escalation"
    assert result["mcnemar_method"] == "exact binomial"
    assert result["mcnemar_p"] == pytest.approx(binomtest(2, 12).pvalue)

    reverse = stats.agreement(*_pairs(30, 2, 10, 58))
    assert reverse["direction"] == "more over-escalation than under-escalation"


def test_mcnemar_chi_square_for_many_disagreements() -> None:
    result = stats.agreement(*_pairs(40, 30, 10, 20))
    assert result["mcnemar_method"] == "chi-square with continuity correction"
    assert result["mcnemar_statistic"] == pytest.approx((abs(30 - 10) - 1) ** 2 / 40)
    assert result["under_escalation"] == 30
    assert result["over_escalation"] == 10


def test_agreement_edge_cases_and_explanations() -> None:
    perfect = stats.agreement(*_pairs(3, 0, 0, 7))
    assert perfect["kappa"] == pytest.approx(1.0)
    assert perfect["mcnemar_p"] == 1.0
    assert perfect["direction"] == "no disagreements"

    single_answer = stats.agreement([False] * 5, [False] * 5)
    assert single_answer["observed_agreement"] == 1.0
    assert math.isnan(single_answer["kappa"])  # chance agreement is already 100%
    assert single_answer["pabak"] == 1.0

    with_missing = stats.agreement([True, None, False, True], [True, True, pd.NA, False])
    assert with_missing["n"] == 2
    assert with_missing["n_excluded"] == 2

    empty = stats.agreement([], [])
    assert empty["n"] == 0
    assert math.isnan(empty["kappa"])

    explain = perfect["explain"]
    assert set(explain) == {"observed_agreement", "kappa", "pabak", "mcnemar"}
    assert explain["observed_agreement"].startswith("Observed agreement: the share")
    assert all(text.endswith(".") for text in explain.values())

    with pytest.raises(ValueError):
        stats.agreement([True], [True, False])


# --------------------------------------------------------------------------- Mantel–Haenszel


def _incidents(rng: np.random.Generator, size: int, group_effect: float) -> pd.DataFrame:
    group = rng.random(size) < 0.4
    kind = rng.choice(["image_sharing", "coercion", "self_generated"], size)
    base = np.where(kind == "coercion", 0.6, 0.25)
    odds = base / (1 - base) * np.where(group, group_effect, 1.0)
    outcome = rng.random(size) < odds / (1 + odds)
    return pd.DataFrame({"in_group": group, "referred": outcome, "kind": kind})


def test_mantel_haenszel_balanced_data_gives_odds_ratio_near_one() -> None:
    frame = _incidents(np.random.default_rng(5), 4000, 1.0)
    result = stats.mantel_haenszel(frame, "in_group", "referred", ["kind"])
    assert result["usable"] is True
    assert result["strata_used"] == 3
    assert result["n"] == 4000
    assert 0.85 < result["odds_ratio"] < 1.15
    assert result["ci_low"] < 1 < result["ci_high"]


def test_mantel_haenszel_detects_planted_group_effect() -> None:
    frame = _incidents(np.random.default_rng(6), 4000, 2.0)
    result = stats.mantel_haenszel(frame, "in_group", "referred", "kind")
    assert result["odds_ratio"] > 1.5
    assert result["ci_low"] > 1
    assert result["p_value"] < 0.001
    # The pooled odds ratio is the Mantel–Haenszel estimator.
    num = den = 0.0
    for _, part in frame.groupby("kind"):
        g, o = part["in_group"], part["referred"]
        a, b = (g & o).sum(), (g & ~o).sum()
        c, d = (~g & o).sum(), (~g & ~o).sum()
        num += a * d / len(part)
        den += b * c / len(part)
    assert result["odds_ratio"] == pytest.approx(num / den)
    counts = result["counts"]
    assert counts["group_n"] + counts["other_n"] == 4000
    assert counts["group_outcome"] == int((frame["in_group"] & frame["referred"]).sum())


def test_mantel_haenszel_drops_one_sided_strata() -> None:
    rng = np.random.default_rng(8)
    frame = _incidents(rng, 600, 1.0)
    lonely = pd.DataFrame({"in_group": [True] * 4, "referred": [True, False] * 2, "kind": "x"})
    result = stats.mantel_haenszel(pd.concat([frame, lonely]), "in_group", "referred", "kind")
    assert result["strata_used"] == 3
    assert result["strata_dropped"] == 1
    assert result["n"] == 600
    assert result["n_dropped"] == 4


def test_mantel_haenszel_sparse_input_is_not_usable() -> None:
    empty = pd.DataFrame({"g": pd.Series(dtype=bool), "o": pd.Series(dtype=bool), "s": []})
    result = stats.mantel_haenszel(empty, "g", "o", ["s"])
    assert result["usable"] is False
    assert math.isnan(result["odds_ratio"])
    assert result["reason"].endswith(".")

    one_sided = pd.DataFrame({"g": [True, False], "o": [True, False], "s": ["a", "b"]})
    result = stats.mantel_haenszel(one_sided, "g", "o", ["s"])
    assert result["usable"] is False
    assert result["strata_dropped"] == 2

    separated = pd.DataFrame({"g": [True, False] * 2, "o": [True, False] * 2, "s": list("aabb")})
    result = stats.mantel_haenszel(separated, "g", "o", ["s"])
    assert result["usable"] is False
    assert math.isnan(result["ci_low"])

    missing = pd.DataFrame(
        {
            "g": pd.array([True, None], dtype="boolean"),
            "o": pd.array([None, False], dtype="boolean"),
            "s": ["a", "a"],
        }
    )
    assert stats.mantel_haenszel(missing, "g", "o", ["s"])["usable"] is False


# --------------------------------------------------------------------------- calendar


def test_academic_year_and_term_boundaries() -> None:
    dates = pd.Series(
        pd.to_datetime(
            [
                "2024-08-31",
                "2024-09-01",
                "2024-12-31",
                "2025-01-01",
                "2025-04-30",
                "2025-05-01",
                "2025-08-31",
                None,
            ]
        ),
        index=list("abcdefgh"),
    )
    years = stats.academic_year(dates)
    terms = stats.term(dates)
    assert list(years.index) == list("abcdefgh")
    assert years.iloc[:7].tolist() == [
        "2023-24",
        "2024-25",
        "2024-25",
        "2024-25",
        "2024-25",
        "2024-25",
        "2024-25",
    ]
    assert terms.iloc[:7].tolist() == [
        "summer",
        "autumn",
        "autumn",
        "spring",
        "spring",
        "summer",
        "summer",
    ]
    assert years.iloc[7] is pd.NA
    assert terms.iloc[7] is pd.NA


def test_academic_year_century_and_plain_inputs() -> None:
    assert stats.academic_year(["1999-10-01"]).tolist() == ["1999-00"]
    assert stats.academic_year(["2009-09-01"]).tolist() == ["2009-10"]
    assert stats.term(["2025-03-01"]).tolist() == ["spring"]
