"""Small, well-known statistics for the audit report, each chosen because it is honest
with the small numbers a trust or a school produces.

- Wilson intervals: a share of 0 out of 3 is not "certainly 0%"; the Wilson interval stays
  inside 0–100% and behaves well for small counts, unlike the textbook ± 1.96·se.
- Funnel plots (Spiegelhalter 2005, Stat Med 24:1185): compare settings with very different
  numbers of incidents without ranking them; limits at 95% and 99.8% around the overall rate,
  widened when settings genuinely differ more than chance allows (overdispersion).
- Agreement between the guidance and the setting's decision: observed agreement, Cohen's
  kappa (with its CI), PABAK (because kappa misleads when nearly every incident has the same
  answer, the "kappa paradox") and McNemar's test for which way the disagreements lean.
- Mantel–Haenszel: compare a group with the rest while holding e.g. incident type fixed.
- Academic year and term labels (September to August).

scipy and statsmodels are imported inside the functions that need them so that the
command-line tool starts quickly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "academic_year",
    "agreement",
    "compare_proportions",
    "exact_limits",
    "funnel",
    "funnel_curve",
    "funnel_limits",
    "mantel_haenszel",
    "term",
    "wilson_interval",
]

# Two-sided normal quantiles used by Spiegelhalter and FunnelPlotR.
Z95 = 1.959964
Z998 = 3.090232


# --------------------------------------------------------------------------- helpers


def _as_float_array(values: Any) -> np.ndarray:
    """Floats with NaN for missing, from scalars, lists, numpy or nullable pandas arrays."""
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        return pd.to_numeric(pd.Series(values), errors="raise").to_numpy(
            dtype=float, na_value=np.nan
        )
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return values.astype(float)
    array = np.asarray(values, dtype=object)
    flat = [np.nan if (v is None or v is pd.NA) else v for v in array.ravel()]
    return np.asarray(flat, dtype=float).reshape(array.shape)


def _z_for(level: float, *, funnel: bool = False) -> float:
    """The two-sided normal quantile for a level; funnels use the published 1.959964/3.090232."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    if funnel and level in (0.95, 0.998):
        return Z95 if level == 0.95 else Z998  # the rounded values published limits use
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def _level_label(level: float) -> str:
    """Column suffix for a level: 0.95 -> '95', 0.998 -> '998'."""
    return f"{level * 100:.6g}".replace(".", "")


def _shape_like(template: Any, result: np.ndarray) -> Any:
    """Return a float for scalar input, a Series for Series input, else an array."""
    if isinstance(template, pd.Series):
        return pd.Series(result, index=template.index, dtype=float)
    if result.ndim == 0:
        return float(result)
    return result


# --------------------------------------------------------------------------- Wilson


def wilson_interval(k: Any, n: Any, level: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for k out of n: stays inside [0, 1] and is honest for small n."""
    z = _z_for(level)
    k_arr = _as_float_array(k)
    n_arr = _as_float_array(n)
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    bad = (k_arr < 0) | (n_arr < 0) | (k_arr > n_arr)
    if np.any(bad):
        raise ValueError("wilson_interval needs 0 <= k <= n for every pair")
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = n_arr > 0
        safe_n = np.where(valid, n_arr, 1.0)
        p = k_arr / safe_n
        z2 = z * z
        denom = 1 + z2 / safe_n
        centre = (p + z2 / (2 * safe_n)) / denom
        half = (z / denom) * np.sqrt(p * (1 - p) / safe_n + z2 / (4 * safe_n * safe_n))
        low = np.where(valid, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(valid, np.clip(centre + half, 0.0, 1.0), np.nan)
    # Exact ends: 0 successes has lower limit 0, all successes has upper limit 1.
    low = np.where(valid & (k_arr == 0), 0.0, low)
    high = np.where(valid & (k_arr == n_arr), 1.0, high)
    template = k if isinstance(k, pd.Series) else n
    return _shape_like(template, low), _shape_like(template, high)


# --------------------------------------------------------------------------- funnels


def funnel_limits(
    n: Any,
    target: float,
    levels: Sequence[float] = (0.95, 0.998),
    phi: float = 1.0,
    tau2: float = 0.0,
) -> pd.DataFrame:
    """Funnel-plot control limits for a proportion at each n, so small units are not over-read.

    Limits are θ ± z·se with se = sqrt(θ(1−θ)/n). With overdispersion, either the additive
    random-effects adjustment sqrt(se² + τ²) is used (when tau2 > 0, as FunnelPlotR does;
    phi is then ignored, so passing both values from ``funnel(...).attrs`` is safe) or the
    multiplicative one se·sqrt(φ). Columns: n, then lower/upper per level (lower95,
    upper95, lower998, upper998 for the default levels), clipped to [0, 1]; n <= 0 gives NaN.
    """
    if not 0 <= target <= 1:
        raise ValueError(f"target must be a proportion between 0 and 1, got {target!r}")
    if phi <= 0 or tau2 < 0:
        raise ValueError("phi must be positive and tau2 must not be negative")
    n_arr = np.atleast_1d(_as_float_array(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = n_arr > 0
        variance = np.where(valid, target * (1 - target) / np.where(valid, n_arr, 1.0), np.nan)
        variance = variance + tau2 if tau2 > 0 else variance * phi
        se = np.sqrt(variance)
    out: dict[str, Any] = {"n": n_arr}
    for level in levels:
        z = _z_for(level, funnel=True)
        label = _level_label(level)
        out[f"lower{label}"] = np.clip(target - z * se, 0.0, 1.0)
        out[f"upper{label}"] = np.clip(target + z * se, 0.0, 1.0)
    index = n.index if isinstance(n, pd.Series) else None
    return pd.DataFrame(out, index=index)


def funnel(
    frame_of_units: pd.DataFrame, *, overdispersion: bool = True, theta: float | None = None
) -> pd.DataFrame:
    """Place each unit (e.g. setting) on a funnel plot and flag those outside the limits.

    Input columns: unit, k (events), n (incidents). Units with n = 0 or missing are left out.
    The target θ is Σk/Σn; z = (rate − θ)/sqrt(θ(1−θ)/n). Overdispersion follows Spiegelhalter
    (2005) as in NHS-R FunnelPlotR: φ is the mean of the squared z-scores winsorised at the
    10th/90th percentiles; the units are overdispersed when n_units·φ exceeds the 95% point of
    chi-square on n_units − 1 df, and then τ² = max(0, (n_units·φ − (n_units − 1)) /
    (Σw − Σw²/Σw)) with w = 1/se² widens the limits additively (otherwise φ = 1 and τ² = 0).

    `overdispersion=False` keeps the plain binomial limits: for a standard every unit is
    meant to meet (a recording requirement), differences between units are the finding,
    not noise to be absorbed. `theta` sets the target (the trust's own rate over all its
    incidents) when the units given are not all of them.

    Returns one row per unit with unit, k, n, rate, z, z_adjusted, outside_95, outside_998
    ("high", "low" or "") and lower95/upper95/lower998/upper998 at the unit's n; ``attrs``
    holds theta, phi, phi_estimate, tau2, overdispersed, n_units.
    """
    missing = {"unit", "k", "n"} - set(frame_of_units.columns)
    if missing:
        raise KeyError(f"funnel needs columns unit, k and n; missing: {sorted(missing)}")
    k_all = _as_float_array(frame_of_units["k"])
    n_all = _as_float_array(frame_of_units["n"])
    keep = np.isfinite(n_all) & (n_all > 0)
    if np.any(keep & ~np.isfinite(k_all)):
        raise ValueError("funnel: every unit with incidents needs a count k")
    if np.any(keep & ((k_all < 0) | (k_all > n_all))):
        raise ValueError("funnel needs 0 <= k <= n for every unit")
    units = frame_of_units.loc[keep, "unit"].reset_index(drop=True)
    k = k_all[keep]
    n = n_all[keep]
    n_units = int(keep.sum())

    columns = [
        "unit", "k", "n", "rate", "z", "z_adjusted", "outside_95", "outside_998",
        "lower95", "upper95", "lower998", "upper998",
    ]  # fmt: skip
    if n_units == 0:
        empty = pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
        empty["unit"] = pd.Series(dtype=frame_of_units["unit"].dtype)
        empty.attrs.update(
            theta=math.nan, phi=1.0, phi_estimate=math.nan, tau2=0.0, overdispersed=False,
            n_units=0,
        )  # fmt: skip
        return empty

    theta = float(k.sum() / n.sum()) if theta is None else float(theta)
    rate = k / n
    se = np.sqrt(theta * (1 - theta) / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        # θ of 0 or 1 means every unit sits exactly on the target: z is 0, not 0/0.
        z = np.where(se > 0, (rate - theta) / np.where(se > 0, se, 1.0), 0.0)

    phi_estimate = math.nan
    overdispersed = False
    tau2 = 0.0
    if overdispersion and n_units >= 2 and np.all(se > 0):
        lz, uz = np.quantile(z, [0.1, 0.9])
        z_w = np.clip(z, lz, uz)
        phi_estimate = float(np.mean(z_w**2))
        from scipy.stats import chi2

        overdispersed = bool(n_units * phi_estimate > chi2.ppf(0.95, n_units - 1))
        if overdispersed:
            w = 1.0 / se**2
            denom = w.sum() - (w**2).sum() / w.sum()
            if denom > 0:
                tau2 = max(0.0, (n_units * phi_estimate - (n_units - 1)) / float(denom))
    phi = phi_estimate if overdispersed else 1.0

    limits = funnel_limits(n, theta, tau2=tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        total_se = np.sqrt(se**2 + tau2)
        z_adj = np.where(total_se > 0, (rate - theta) / np.where(total_se > 0, total_se, 1), 0.0)

    def side(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        return np.where(rate > upper, "high", np.where(rate < lower, "low", ""))

    out = pd.DataFrame(
        {
            "unit": units,
            "k": k.astype(np.int64) if np.all(k == np.round(k)) else k,
            "n": n.astype(np.int64) if np.all(n == np.round(n)) else n,
            "rate": rate,
            "z": z,
            "z_adjusted": z_adj,
            "outside_95": side(limits["lower95"].to_numpy(), limits["upper95"].to_numpy()),
            "outside_998": side(limits["lower998"].to_numpy(), limits["upper998"].to_numpy()),
            "lower95": limits["lower95"].to_numpy(),
            "upper95": limits["upper95"].to_numpy(),
            "lower998": limits["lower998"].to_numpy(),
            "upper998": limits["upper998"].to_numpy(),
        }
    )
    out.attrs.update(
        theta=theta,
        phi=float(phi),
        phi_estimate=phi_estimate,
        tau2=float(tau2),
        overdispersed=overdispersed,
        n_units=n_units,
    )
    return out


def funnel_curve(
    theta: float, n_max: float, phi: float = 1.0, tau2: float = 0.0, points: int = 100
) -> pd.DataFrame:
    """Smooth funnel limits from n = 1 to n_max (log-spaced) for drawing the funnel's outline."""
    if not n_max >= 1:
        raise ValueError(f"n_max must be at least 1, got {n_max!r}")
    if points < 2:
        raise ValueError("points must be at least 2")
    grid = np.unique(np.geomspace(1.0, float(n_max), int(points)))
    return funnel_limits(grid, theta, phi=phi, tau2=tau2)


# --------------------------------------------------------------------------- agreement

AGREEMENT_EXPLAIN: dict[str, str] = {
    "observed_agreement": (
        "Observed agreement: the share of incidents where the setting's decision matched the "
        "guidance."
    ),
    "kappa": (
        "Cohen's kappa: how much better than chance the decisions matched the guidance "
        "(0 = no better than chance, 1 = perfect), which can look low when nearly every "
        "incident has the same answer even if agreement is high."
    ),
    "pabak": (
        "PABAK: agreement rescaled so that 0 means a coin toss and 1 means perfect, which is "
        "not pulled down when one answer dominates."
    ),
    "mcnemar": (
        "McNemar's test: whether disagreements lean one way, that is whether incidents the "
        "guidance said to refer but were not referred (under-escalation) are more or less "
        "common than incidents referred when the guidance did not require it "
        "(over-escalation)."
    ),
}


def _to_bool_pairs(
    guidance_refer: Iterable[Any], decided_refer: Iterable[Any]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Paired booleans with pairs where either side is missing dropped (and counted)."""
    g = pd.Series(pd.array(list(guidance_refer), dtype="boolean"))
    d = pd.Series(pd.array(list(decided_refer), dtype="boolean"))
    if len(g) != len(d):
        raise ValueError(
            f"agreement needs the same number of guidance and decision values "
            f"({len(g)} and {len(d)})"
        )
    known = g.notna() & d.notna()
    dropped = int((~known).sum())
    return (
        g[known].to_numpy(dtype=bool),
        d[known].to_numpy(dtype=bool),
        dropped,
    )


def _kappa_2x2(table: np.ndarray, z: float) -> tuple[float, float, float, float, float]:
    """Cohen's kappa, its asymptotic SE (Fleiss, Cohen & Everitt 1969) and CI, and p_e."""
    nobs = table.sum()
    probs = table / nobs
    row = probs.sum(axis=1)
    col = probs.sum(axis=0)
    p_o = float(np.trace(probs))
    p_e = float((row * col).sum())
    if p_e >= 1:
        return math.nan, math.nan, math.nan, math.nan, p_e
    kappa = (p_o - p_e) / (1 - p_e)
    term_a = float((np.diag(probs) * (1 - (row + col) * (1 - kappa)) ** 2).sum())
    off = probs * (col[:, None] + row[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    term_b = (1 - kappa) ** 2 * float(off.sum())
    term_c = (kappa - p_e * (1 - kappa)) ** 2
    var = (term_a + term_b - term_c) / (1 - p_e) ** 2 / nobs
    se = math.sqrt(var) if var > 0 else 0.0
    return kappa, se, kappa - z * se, kappa + z * se, p_e


def agreement(guidance_refer: Iterable[Any], decided_refer: Iterable[Any]) -> dict[str, Any]:
    """How often settings' referral decisions matched the guidance, and which way they differ.

    Pairs where either value is missing are left out (``n_excluded``). Counts: ``both_refer``,
    ``guidance_only`` (guidance said refer, setting did not: under-escalation),
    ``decision_only`` (setting referred, guidance did not: over-escalation), ``neither``; the
    2×2 ``table`` has rows guidance refer yes/no and columns decision refer yes/no.
    McNemar's test is exact binomial when there are fewer than 25 disagreements, otherwise
    chi-square with continuity correction. ``explain`` gives one plain sentence per measure.
    """
    g, d, dropped = _to_bool_pairs(guidance_refer, decided_refer)
    a = int(np.sum(g & d))
    b = int(np.sum(g & ~d))
    c = int(np.sum(~g & d))
    dd = int(np.sum(~g & ~d))
    n = a + b + c + dd
    table = np.array([[a, b], [c, dd]], dtype=float)
    z = _z_for(0.95)

    result: dict[str, Any] = {
        "n": n,
        "n_excluded": dropped,
        "both_refer": a,
        "guidance_only": b,
        "decision_only": c,
        "neither": dd,
        "table": [[a, b], [c, dd]],
        "observed_agreement": math.nan,
        "expected_agreement": math.nan,
        "kappa": math.nan,
        "kappa_se": math.nan,
        "kappa_low": math.nan,
        "kappa_high": math.nan,
        "pabak": math.nan,
        "under_escalation": b,
        "over_escalation": c,
        "mcnemar_statistic": math.nan,
        "mcnemar_p": math.nan,
        "mcnemar_method": "",
        "direction": "no incidents to compare",
        "explain": dict(AGREEMENT_EXPLAIN),
    }
    if n == 0:
        return result

    p_o = (a + dd) / n
    kappa, se, low, high, p_e = _kappa_2x2(table, z)
    result.update(
        observed_agreement=p_o,
        expected_agreement=p_e,
        kappa=kappa,
        kappa_se=se,
        kappa_low=low,
        kappa_high=high,
        pabak=2 * p_o - 1,
    )

    discordant = b + c
    if discordant == 0:
        result.update(
            mcnemar_statistic=0.0,
            mcnemar_p=1.0,
            mcnemar_method="none needed (no disagreements)",
            direction="no disagreements",
        )
        return result
    from statsmodels.stats.contingency_tables import mcnemar

    exact = discordant < 25
    test = mcnemar(table, exact=exact, correction=True)
    if b > c:
        direction = "more under-escalation than over-escalation"
    elif c > b:
        direction = "more over-escalation than under-escalation"
    else:
        direction = "under-escalation and over-escalation equally common"
    result.update(
        mcnemar_statistic=float(test.statistic),
        mcnemar_p=float(min(1.0, test.pvalue)),
        mcnemar_method="exact binomial" if exact else "chi-square with continuity correction",
        direction=direction,
    )
    return result


# --------------------------------------------------------------------------- Mantel–Haenszel


def _mh_unusable(reason: str, **extra: Any) -> dict[str, Any]:
    """The Mantel–Haenszel result when the data cannot support an estimate."""
    out: dict[str, Any] = {
        "usable": False,
        "reason": reason,
        "odds_ratio": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "p_value": math.nan,
        "homogeneity_p": math.nan,
        "min_cell": 0,
        "strata_used": 0,
        "strata_dropped": 0,
        "n": 0,
        "n_dropped": 0,
        "counts": {
            "group_n": 0,
            "group_outcome": 0,
            "other_n": 0,
            "other_outcome": 0,
        },
    }
    out.update(extra)
    return out


def mantel_haenszel(
    frame: pd.DataFrame,
    group_col: str,
    outcome_col: str,
    strata_cols: str | Sequence[str],
    weight_col: str | None = None,
) -> dict[str, Any]:
    """Odds ratio for the outcome in a group versus the rest, holding the strata fixed.

    Rows are incidents, or with `weight_col` already-aggregated cells each standing for
    that many incidents (how the fairness report keeps a million incidents cheap).

    Uses statsmodels' StratifiedTable. A stratum is used only when both groups and both
    outcomes occur in it; rows with a missing group, outcome or stratum are dropped. Returns
    odds_ratio with ci_low/ci_high (95%), p_value (Mantel–Haenszel test of OR = 1 with
    continuity correction), homogeneity_p (Breslow–Day, NaN if not computable), strata_used,
    strata_dropped, n (rows used), n_dropped and counts; when nothing usable remains, NaNs with
    ``usable`` False and a ``reason`` sentence instead of an error.
    """
    strata = [strata_cols] if isinstance(strata_cols, str) else list(strata_cols)
    needed = [group_col, outcome_col, *strata, *([weight_col] if weight_col else [])]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise KeyError(f"mantel_haenszel: missing columns {missing}")

    data = frame[needed].copy()
    for col in (group_col, outcome_col):
        try:
            data[col] = data[col].astype("boolean")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"mantel_haenszel: column {col!r} must be true/false") from exc
    complete = data.notna().all(axis=1)
    data = data[complete]
    dropped = ~complete.to_numpy()
    n_missing = int(frame[weight_col].to_numpy()[dropped].sum() if weight_col else dropped.sum())
    if data.empty:
        return _mh_unusable(
            "There are no incidents with the group, the outcome and the strata all recorded.",
            n_dropped=n_missing,
        )

    grp = data[group_col].to_numpy(dtype=bool)
    out = data[outcome_col].to_numpy(dtype=bool)
    weight = data[weight_col].to_numpy(dtype=np.int64) if weight_col else 1
    data = data.assign(
        _a=(grp & out).astype(np.int64) * weight,
        _b=(grp & ~out).astype(np.int64) * weight,
        _c=(~grp & out).astype(np.int64) * weight,
        _d=(~grp & ~out).astype(np.int64) * weight,
    )
    if strata:
        cells = data.groupby(strata, observed=True, dropna=True)[["_a", "_b", "_c", "_d"]].sum()
    else:
        cells = data[["_a", "_b", "_c", "_d"]].sum().to_frame().T
    a, b, c, d = (cells[x].to_numpy() for x in ("_a", "_b", "_c", "_d"))
    usable_stratum = ((a + b) > 0) & ((c + d) > 0) & ((a + c) > 0) & ((b + d) > 0)
    used = cells[usable_stratum]
    n_used = int(used.to_numpy().sum())
    counts = {
        "group_n": int((used["_a"] + used["_b"]).sum()),
        "group_outcome": int(used["_a"].sum()),
        "other_n": int((used["_c"] + used["_d"]).sum()),
        "other_outcome": int(used["_c"].sum()),
    }
    used_cells = used[["_a", "_b", "_c", "_d"]].to_numpy()
    base = {
        # the smallest non-zero cell of any stratum used: an estimate resting on a cell
        # of one or two children could point at them
        "min_cell": int(used_cells[used_cells > 0].min()) if (used_cells > 0).any() else 0,
        "strata_used": int(usable_stratum.sum()),
        "strata_dropped": int((~usable_stratum).sum()),
        "n": n_used,
        "n_dropped": n_missing + int(cells[~usable_stratum].to_numpy().sum()),
        "counts": counts,
    }
    if not usable_stratum.any():
        return _mh_unusable(
            "No stratum contains both groups and both outcomes, so the groups cannot be "
            "compared like for like.",
            **base,
        )

    tables = [
        np.array([[row["_a"], row["_b"]], [row["_c"], row["_d"]]], dtype=float)
        for _, row in used.iterrows()
    ]
    from statsmodels.stats.contingency_tables import StratifiedTable

    st = StratifiedTable(tables)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds_ratio = float(st.oddsratio_pooled)
    if not (np.isfinite(odds_ratio) and odds_ratio > 0):
        return _mh_unusable(
            "In every usable stratum one combination of group and outcome never occurs, so "
            "the odds ratio cannot be estimated.",
            **base,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = (float(x) for x in st.oddsratio_pooled_confint(alpha=0.05))
        p_value = float(st.test_null_odds(correction=True).pvalue)
        homogeneity = math.nan
        if len(tables) >= 2:
            try:
                homogeneity = float(st.test_equal_odds().pvalue)
            except (ValueError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError):
                homogeneity = math.nan
            if not np.isfinite(homogeneity):
                homogeneity = math.nan
    return {
        "usable": True,
        "reason": "",
        "odds_ratio": odds_ratio,
        "ci_low": low,
        "ci_high": high,
        "p_value": p_value,
        "homogeneity_p": homogeneity,
        **base,
    }


# --------------------------------------------------------------------------- school calendar


def _as_datetimes(dates: Any) -> pd.Series:
    """A datetime Series (keeping a Series' index); unparseable or missing values are NaT."""
    if isinstance(dates, pd.Series):
        return pd.to_datetime(dates, errors="coerce")
    return pd.Series(pd.to_datetime(pd.Series(list(np.atleast_1d(dates))), errors="coerce"))


def academic_year(dates: Any) -> pd.Series:
    """Academic year label such as "2024-25" (1 September to 31 August), as schools report."""
    when = _as_datetimes(dates)
    start = (when.dt.year - (when.dt.month < 9).astype("Int64")).astype("Int64")
    label = start.astype("string") + "-" + ((start + 1) % 100).astype("string").str.zfill(2)
    return label.astype("string")


def term(dates: Any) -> pd.Series:
    """School term: "autumn" (Sep–Dec), "spring" (Jan–Apr) or "summer" (May–Aug)."""
    when = _as_datetimes(dates)
    month = when.dt.month.to_numpy(dtype=float, na_value=np.nan)
    names = np.select(
        [month >= 9, month >= 5, month >= 1], ["autumn", "summer", "spring"], default=""
    )
    result = pd.Series(names, index=when.index, dtype="string")
    return result.mask(when.isna())


# --------------------------------------------------------------------------- exact limits


def exact_limits(theta: float, n: Any, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial funnel limits for a proportion (Spiegelhalter 2005, with his
    interpolation between the discrete quantiles), so small settings are judged by the
    binomial itself rather than a normal approximation."""
    from scipy.stats import binom

    if not 0 <= theta <= 1:
        raise ValueError(f"theta must be a proportion, got {theta!r}")
    n_arr = np.atleast_1d(_as_float_array(n))
    tail = (1 - level) / 2
    out = []
    for p in (tail, 1 - tail):
        limits = np.full(n_arr.shape, np.nan)
        for i, size in enumerate(n_arr):
            if not np.isfinite(size) or size <= 0:
                continue
            size = int(size)
            r = binom.ppf(p, size, theta)
            below = binom.cdf(r - 1, size, theta) if r > 0 else 0.0
            at = binom.cdf(r, size, theta)
            alpha = (at - p) / (at - below) if at > below else 0.0
            limits[i] = min(max((r - alpha) / size, 0.0), 1.0)
        out.append(limits)
    return out[0], out[1]


def compare_proportions(k1: int, n1: int, k0: int, n0: int) -> dict[str, Any]:
    """This year's share against last year's: the change in points, and Fisher's exact
    test of whether it is more than chance (two-sided)."""
    from scipy.stats import fisher_exact

    if n1 <= 0 or n0 <= 0:
        return {"change": math.nan, "p_value": math.nan, "beyond_chance": False}
    table = [[k1, n1 - k1], [k0, n0 - k0]]
    p_value = float(fisher_exact(table, alternative="two-sided")[1])
    return {
        "change": k1 / n1 - k0 / n0,
        "p_value": p_value,
        "beyond_chance": p_value < 0.05,
    }
