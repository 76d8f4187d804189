"""Settings compared from published figures (`reports/compare.py`): what a publication may
say when its counts stand for ranges of true counts, and a selection of one setting."""

from __future__ import annotations

import pandas as pd

from ypsi_audit.protection.cellkey import true_range
from ypsi_audit.reports.compare import compared, could_be_above, positions, year_on_year
from ypsi_audit.reports.ledger import TOTAL, CountTable
from ypsi_audit.reports.measures import ANY_GAP

COLS = ["yes", "no"]


def gaps_table(counts: dict[str, tuple[int, int]], shown: dict | None = None) -> CountTable:
    """A table of settings by whether a requirement was not met, with margins; `shown`
    replaces the published (adjusted) counts of some settings."""
    true = pd.DataFrame.from_dict(counts, orient="index", columns=COLS)
    true[TOTAL] = true.sum(axis=1)
    true.loc[TOTAL] = true.sum(axis=0)
    published = true.astype(float)
    for setting, (yes, no, total) in (shown or {}).items():
        published.loc[setting] = [yes, no, total]
    return CountTable(
        name="gaps", caption="gaps", rows="setting", cols="any_gap",
        row_order=list(counts), col_order=COLS, true=true, margins=True, shown=published,
    )  # fmt: skip


# Ten settings recording alike (20% of 40).
ALIKE = {f"S{i:02d}": (8, 32) for i in range(1, 11)}


def test_a_setting_shown_within_the_limits_that_could_be_above_them_is_marked() -> None:
    """S11 shown as 5 of 15: within the inner limit as shown (exact binomial limits around
    the trust's 20%), but a shown 5 can be 9 and a shown 10 can be 6, so 9 of 15 is
    allowed and lies far above. Internal figures (no threshold) are exact: no mark."""
    table = gaps_table({**ALIKE, "S11": (5, 10)})
    internal = positions(table, ANY_GAP, exact=True)
    published = positions(table, ANY_GAP, exact=True, threshold=5)
    s11 = published.set_index("unit").loc["S11"]
    assert s11["position"] == "inside"  # as shown, the setting is within the limits
    assert could_be_above(published) == ["S11"]
    assert could_be_above(internal) == []
    # The others, shown as 8 of 40, cannot reach the inner limit with 4 more each way.
    assert not published.set_index("unit").loc["S01", "could_be_above"]


def test_a_setting_that_no_allowed_true_count_puts_above_is_not_marked() -> None:
    """A large setting shown well within the limits stays so for every count within 4."""
    table = gaps_table({**ALIKE, "S11": (40, 160)})
    published = positions(table, ANY_GAP, exact=True, threshold=5)
    assert could_be_above(published) == []


def test_a_setting_shown_above_the_limits_that_could_be_within_them_is_marked() -> None:
    """The mirror: S11 shown as 8 of 15 lies above the trust's 20%, but a shown 8 can be 6
    and a shown 7 can be 9, so 6 of 15, within the inner limit, is allowed: the
    publication marks it (and keeps it named above the limits); a large setting far
    above, or the internal figures, are not marked."""
    from ypsi_audit.reports.compare import doubts

    def within(table: CountTable, threshold: int | None = 5) -> list[str]:
        placed = positions(table, ANY_GAP, exact=True, threshold=threshold)
        return placed.loc[placed["could_be_within"], "unit"].astype(str).tolist()

    small = gaps_table({**ALIKE, "S11": (8, 7)})
    placed = positions(small, ANY_GAP, exact=True, threshold=5).set_index("unit")
    assert placed.loc["S11", "position"].startswith("above")
    assert within(small) == ["S11"] and within(small, None) == []
    said = doubts(positions(small, ANY_GAP, exact=True, threshold=5), "gaps")
    assert said == [
        "Setting S11 is shown above the limits for gaps, but the counts shown are adjusted "
        "for publication and the true ones could put it within the limits; the safeguarding "
        "team's own report shows where it stands."
    ]
    assert within(gaps_table({**ALIKE, "S11": (120, 80)})) == []


def test_one_setting_is_not_placed_against_its_own_rate() -> None:
    placed = positions(gaps_table({"S04": (3, 9)}), ANY_GAP, exact=True)
    assert placed["position"].tolist() == ["alone"]
    assert compared(placed) == (0, 1)


def test_a_change_beyond_chance_only_as_shown_is_unsure_in_a_publication() -> None:
    """Shown 5 of 15 then 0 of 18: Fisher's test finds a fall as shown (p < 0.05), but a
    shown 0 can be 4 and a shown 5 can be 1, and 1 of 11 against 4 of 22 is no change at
    all. The internal figures (exact) keep the finding; a publication says it can't tell."""
    before = gaps_table({"S01": (5, 10), "S02": (10, 30)})
    now = gaps_table({"S01": (0, 18), "S02": (10, 30)})
    exact = year_on_year(now, before, ANY_GAP).set_index("setting").loc["S01"]
    assert exact["beyond_chance"] and not exact["unsure"]
    published = year_on_year(now, before, ANY_GAP, threshold=5).set_index("setting").loc["S01"]
    assert not published["beyond_chance"] and published["unsure"]


def test_a_change_that_holds_for_every_allowed_count_stays_beyond_chance() -> None:
    """80 of 100 against 10 of 100: no move of 4 each way brings the two years together."""
    before = gaps_table({"S01": (10, 90), "S02": (10, 30)})
    now = gaps_table({"S01": (80, 20), "S02": (10, 30)})
    row = year_on_year(now, before, ANY_GAP, threshold=5).set_index("setting").loc["S01"]
    assert row["beyond_chance"] and not row["unsure"]


def test_no_change_as_shown_that_the_true_counts_could_make_one_is_marked() -> None:
    """Trust F of the eighth outside attack: S01 shown as 0 of 5, then 5 of 12, is within
    chance as shown (p = 0.24), but the shown 0 and 5 beside it can be 0 of 9, and the
    shown 5 can be 9, so 9 of 16 (p = 0.008). The page may not say plainly that nothing
    changed; the internal figures, and a steady large setting, are not marked."""
    from ypsi_audit.reports.compare import could_change_sentence

    before = gaps_table({"S01": (0, 5), "S02": (10, 30)})
    now = gaps_table({"S01": (5, 7), "S02": (10, 30)})
    published = year_on_year(now, before, ANY_GAP, threshold=5).set_index("setting")
    assert not published.loc["S01", "beyond_chance"] and not published.loc["S01", "unsure"]
    assert published.loc["S01", "could_change"] and not published.loc["S02", "could_change"]
    exact = year_on_year(now, before, ANY_GAP).set_index("setting")
    assert not exact["could_change"].any()
    wide = gaps_table({"S01": (200, 300), "S02": (10, 30)})
    same = year_on_year(wide, wide, ANY_GAP, threshold=5).set_index("setting")
    assert not same.loc["S01", "could_change"]  # 200 of 500 twice: 4 each way changes nothing
    assert "could show a change beyond chance for S01 and S03;" in could_change_sentence(
        ["S01", "S03"], 12
    )
    many = could_change_sentence([f"S{i:02d}" for i in range(1, 8)], 12, trust=True)
    assert "for 7 of the 12 settings compared, and for all settings together;" in many


def test_true_range_is_what_a_reader_of_the_method_learns() -> None:
    assert true_range(0) == (0, 4)
    assert true_range(5) == (1, 9)
    assert true_range(6) == (5, 10)
    assert true_range(40) == (36, 44)
    assert true_range(0, 10) == (0, 9) and true_range(10, 10) == (1, 14)
