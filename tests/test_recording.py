"""Poor recording is found where it is planted and nowhere else: the recording page's
settings comparison (exact binomial limits around the trust's own share) on synthetic
trusts, over several seeds, with and without a `RecordingPlan`."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from ypsi_audit.engine import assess
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.compare import critical_limits
from ypsi_audit.reports.pages import Context, build_pages
from ypsi_audit.reports.spec import RunSpec
from ypsi_audit.synth import RecordingPlan, _make_trust, generate

TODAY = date(2026, 11, 24)
SEEDS = [1, 2, 7, 2024]


@pytest.fixture(autouse=True)
def no_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charts are checked elsewhere; here only the words and tables matter."""
    monkeypatch.setattr(Context, "chart", lambda self, chart: "<svg></svg>")


def compared(frame: pd.DataFrame, settings: list[str] | None = None) -> tuple[dict, dict, str]:
    """The page's verdict on each setting, its incidents, and the summary's words."""
    spec = RunSpec.build("report", input="synthetic", out="unused", settings=settings)
    log = AssessedLog.of(assess(frame, with_states=True), {}, spec)
    page = build_pages(log, spec, ["recording"])[0]["recording"]
    block = next(
        b
        for b in page.section("settings").blocks
        if b.kind == "table" and b.caption.startswith("Each setting's incidents")
    )
    rows = [r for r in block.rows if r["setting"] != "All settings"]
    summary = " ".join(b.text for b in page.section("summary").blocks if b.kind == "text")
    return (
        {r["setting"]: r["position"] for r in rows},
        {r["setting"]: int(r["incidents"].replace(",", "")) for r in rows},
        summary,
    )


def outer(positions: dict[str, str]) -> set[str]:
    """Settings above the outer limit: named as recording worse than chance explains."""
    return {s for s, p in positions.items() if p.startswith("above the outer")}


def careless(seed: int) -> set[str]:
    """The generator's own poor recorders (drawn first from the seed): they really do
    record worse, so the page may name them."""
    trust = _make_trust(np.random.default_rng(seed), 12, None)
    return set(np.asarray(trust.ids)[trust.poor])


@pytest.mark.parametrize("seed", SEEDS)
def test_planted_poor_recording_is_found_and_nothing_else_is_invented(seed: int) -> None:
    poor = careless(seed)
    clean, sizes, _ = compared(generate(12, 3, seed=seed, today=TODAY))
    assert outer(clean) <= poor
    # Plant in the two largest careful settings (a small one cannot show a difference).
    careful = [s for s in sizes if s not in poor and not clean[s].startswith("above")]
    targets = sorted(careful, key=lambda s: -sizes[s])[:2]
    plan = RecordingPlan(tuple(targets), 0.7)
    planted, _, summary = compared(generate(12, 3, seed=seed, poor_recording=plan, today=TODAY))
    assert set(targets) <= outer(planted)
    assert outer(planted) - set(targets) <= poor
    assert all(t in summary for t in targets)
    assert "by more than chance would explain" in summary


@pytest.mark.parametrize("seed", SEEDS)
def test_a_careful_trust_is_not_accused(seed: int) -> None:
    frame = generate(12, 3, seed=seed, today=TODAY)
    ids = sorted(frame["setting_id"].astype(str).unique())
    careful = [s for s in ids if s not in careless(seed)]
    positions, _, summary = compared(frame, settings=careful)
    assert set(positions) == set(careful)
    assert not outer(positions)
    assert "by more than chance would explain" not in summary
    assert "not compared" not in positions.values()  # every setting was placed


def test_a_small_setting_is_not_flagged_more_often_than_the_limits_say() -> None:
    """Under the trust's own rate, a setting of any size lands above each limit no more
    often than the limit allows (interpolated limits did not: 3 of 3 against 47%)."""
    for theta in (0.05, 0.2, 0.47, 0.8):
        for n in range(1, 61):
            k = np.arange(n + 1)
            chance = binom.pmf(k, n, theta)
            for level in (0.95, 0.998):
                lower, upper = critical_limits(theta, [n], level)
                tail = (1 - level) / 2
                assert chance[k / n > upper[0]].sum() <= tail + 1e-12, (theta, n, level)
                assert chance[k / n < lower[0]].sum() <= tail + 1e-12, (theta, n, level)
    lower, upper = critical_limits(0.47, [3], 0.998)
    assert upper[0] == 1.0  # 3 of 3 is not above it: chance gives that one time in ten
