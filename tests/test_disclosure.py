"""Tests for ypsi_audit.disclosure: small-number suppression for published tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ypsi_audit import disclosure


def _with_total(rows: dict[str, list[int]]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    table["total"] = table[[c for c in rows if c != "setting"]].sum(axis=1)
    return table


def test_one_small_cell_in_a_row_gets_a_second_cell_suppressed() -> None:
    table = _with_total({"setting": ["A", "B"], "referred": [3, 12], "not_referred": [40, 7]})
    result = disclosure.suppress(table, ["referred", "not_referred"], row_total="total")
    row_a = result.mask.iloc[0]
    assert row_a["referred"] and row_a["not_referred"]
    assert not row_a["total"]
    assert result.table.loc[0, "total"] == 43  # the total stays, but 43 - ? cannot be solved
    assert result.table.loc[0, ["referred", "not_referred"]].isna().all()
    assert not result.mask.iloc[1].any()
    assert result.table.loc[1, "referred"] == 12
    assert result.withheld == 2
    assert str(result.table["referred"].dtype) == "Int64"


def test_secondary_picks_the_smallest_other_non_zero_count() -> None:
    table = _with_total({"setting": ["A"], "a": [2], "b": [0], "c": [30], "d": [9]})
    result = disclosure.suppress(table, ["a", "b", "c", "d"], row_total="total")
    assert result.mask.iloc[0].to_dict() == {
        "a": True,
        "b": False,  # zero is shown, never used as the second cell
        "c": False,
        "d": True,
        "total": False,
    }
    assert result.table.loc[0, "b"] == 0


def test_column_totals_trigger_column_wise_suppression() -> None:
    # Each small cell has a partner in its row, so rows are safe; but each is alone in its
    # column, so a published total row would give it away by subtraction.
    table = _with_total(
        {"setting": ["A", "B", "C"], "x": [3, 10, 8], "y": [4, 12, 9], "z": [20, 30, 15]}
    )
    rows_only = disclosure.suppress(table, ["x", "y", "z"], row_total="total")
    assert rows_only.withheld == 2
    assert rows_only.mask[["x", "y"]].sum().tolist() == [1, 1]

    both = disclosure.suppress(table, ["x", "y", "z"], row_total="total", col_totals=True)
    assert len(both.table) == 4
    assert both.table.loc[3, "setting"] == "Total"
    assert both.table.loc[3, ["x", "y", "z", "total"]].tolist() == [21, 25, 65, 111]
    assert both.withheld > rows_only.withheld
    for col in ["x", "y", "z", "total"]:
        assert both.mask[col].sum() != 1
    for row in range(4):
        assert both.mask.iloc[row].sum() != 1


def test_zero_is_never_suppressed_and_small_totals_are() -> None:
    table = _with_total({"setting": ["A", "B"], "referred": [0, 2], "not_referred": [0, 0]})
    result = disclosure.suppress(table, ["referred", "not_referred"], row_total="total")
    assert result.table.loc[0, ["referred", "not_referred", "total"]].tolist() == [0, 0, 0]
    assert not result.mask.iloc[0].any()
    # 2 of 2: the row total is itself a published count from 1 to 4.
    assert result.mask.loc[1, "referred"]
    assert result.mask.loc[1, "total"]
    assert not result.mask.loc[1, "not_referred"]


@pytest.mark.parametrize("threshold", [None, 0])
def test_no_threshold_leaves_everything(threshold: int | None) -> None:
    table = _with_total({"setting": ["A", "B"], "referred": [1, 2], "not_referred": [3, 40]})
    result = disclosure.suppress(
        table, ["referred", "not_referred"], threshold, row_total="total", col_totals=True
    )
    assert result.withheld == 0
    assert not result.mask.to_numpy().any()
    assert result.table.loc[:1, "referred"].tolist() == [1, 2]
    rendered = disclosure.render_counts(result.table, result.mask, for_page=True)
    assert rendered.loc[0, "referred"] == "1"


def test_threshold_is_configurable() -> None:
    table = pd.DataFrame({"n": [7, 12, 0]})
    result = disclosure.suppress(table, ["n"], threshold=10)
    assert result.mask["n"].tolist() == [True, False, False]
    page = disclosure.render_counts(result.table, result.mask, for_page=True)
    assert page["n"].tolist() == ["<10", "12", "0"]


def test_render_counts_page_and_tables() -> None:
    table = _with_total({"setting": ["A", "B"], "referred": [3, 12], "not_referred": [40, 7]})
    table.loc[1, "not_referred"] = pd.NA
    table["referred"] = table["referred"].astype("Int64")
    table["not_referred"] = table["not_referred"].astype("Int64")
    result = disclosure.suppress(table, ["referred", "not_referred"], row_total="total")
    page = disclosure.render_counts(result.table, result.mask, for_page=True)
    csv = disclosure.render_counts(result.table, result.mask, for_page=False)
    assert page.loc[0, "referred"] == "<5"
    assert page.loc[0, "not_referred"] == "c"  # 40 withheld as a partner: "<5" would be false
    assert csv.loc[0, "referred"] == "c"
    assert csv.loc[0, "not_referred"] == "c"
    assert csv.loc[1, "not_referred"] == "x"  # missing in the data, not withheld
    assert csv.loc[1, "referred"] == "12"
    assert csv.loc[0, "setting"] == "A"
    assert set(disclosure.SYMBOL_NOTES) == {"<5", "c", "x"}


def test_non_default_index_and_categorical_labels() -> None:
    table = pd.DataFrame(
        {
            "kind": pd.Categorical(["coercion", "sharing"]),
            "n": [3, 9],
        },
        index=pd.Index(["r1", "r2"]),
    )
    result = disclosure.suppress(table, ["n"], col_totals=True)
    assert list(result.table.index) == ["r1", "r2", "Total"]
    assert result.table.loc["Total", "kind"] == "Total"
    assert result.mask["n"].tolist() == [True, True, False]  # 9 withheld: total 12 is shown


def test_suppress_rejects_bad_counts() -> None:
    with pytest.raises(ValueError):
        disclosure.suppress(pd.DataFrame({"n": [1.5]}), ["n"])
    with pytest.raises(ValueError):
        disclosure.suppress(pd.DataFrame({"n": [-1]}), ["n"])
    with pytest.raises(KeyError):
        disclosure.suppress(pd.DataFrame({"n": [1]}), ["m"])


def test_suppress_rate() -> None:
    assert disclosure.suppress_rate(6, 10) == pytest.approx(0.6)
    assert disclosure.suppress_rate(0, 10) == 0.0
    assert disclosure.suppress_rate(3, 10) is pd.NA  # numerator suppressed
    assert disclosure.suppress_rate(6, 4) is pd.NA  # denominator below threshold
    assert disclosure.suppress_rate(pd.NA, 10) is pd.NA  # numerator withheld upstream
    assert disclosure.suppress_rate(0, 0) is pd.NA
    assert disclosure.suppress_rate(3, 10, None) == pytest.approx(0.3)

    k = pd.Series([3, 6, pd.NA], dtype="Int64", index=["a", "b", "c"])
    n = pd.Series([10, 10, 10], index=["a", "b", "c"])
    rates = disclosure.suppress_rate(k, n)
    assert list(rates.index) == ["a", "b", "c"]
    assert rates.isna().tolist() == [True, False, True]
    assert rates["b"] == pytest.approx(0.6)


def count_grids(max_rows: int, min_cols: int, max_count: int) -> st.SearchStrategy:
    """Rectangular grids of counts from 0 to max_count, 1 to max_rows rows by min_cols to
    4 columns."""
    counts = st.integers(min_value=0, max_value=max_count)
    return st.integers(min_value=1, max_value=max_rows).flatmap(
        lambda rows: st.integers(min_value=min_cols, max_value=4).flatmap(
            lambda cols: st.lists(
                st.lists(counts, min_size=cols, max_size=cols), min_size=rows, max_size=rows
            )
        )
    )


@settings(max_examples=200, deadline=None)
@given(count_grids(max_rows=5, min_cols=1, max_count=12))
def test_no_withheld_cell_can_be_recovered_by_subtraction(cells: list[list[int]]) -> None:
    columns = [f"c{j}" for j in range(len(cells[0]))]
    table = pd.DataFrame(cells, columns=columns)
    table["total"] = table[columns].sum(axis=1)
    original = table.copy()
    result = disclosure.suppress(table, columns, row_total="total", col_totals=True)
    mask = result.mask.to_numpy()
    counted = pd.concat(
        [original[[*columns, "total"]], original[[*columns, "total"]].sum().to_frame().T],
        ignore_index=True,
    ).to_numpy()

    # Every count from 1 to 4 is withheld; zero never is; shown values are untouched.
    assert mask[(counted >= 1) & (counted < 5)].all()
    assert not mask[counted == 0].any()
    shown = result.table[[*columns, "total"]].to_numpy(dtype=float, na_value=np.nan)
    assert np.array_equal(shown[~mask], counted[~mask])
    assert np.isnan(shown[mask]).all()
    assert result.withheld == int(mask.sum())
    # No row or column (totals included) has exactly one withheld cell.
    assert not (mask.sum(axis=1) == 1).any()
    assert not (mask.sum(axis=0) == 1).any()


def test_two_small_cells_adding_up_to_two_are_not_left_to_be_pinned() -> None:
    # Applied 7 = met 0 + not done 1 + not recorded 1 + unsettled 5: the two hidden "<5"
    # cells add up to 2, so a reader would know both are 1. A third cell must go.
    table = pd.DataFrame({"n_met": [0], "n_a": [1], "n_b": [1], "n_c": [5], "n_total": [7]})
    result = disclosure.suppress(table, ["n_met", "n_a", "n_b", "n_c"], row_total="n_total")
    assert result.mask.loc[0, ["n_a", "n_b", "n_c"]].all()


def _ranges(shown: np.ndarray, small: np.ndarray, threshold: int = 5) -> list[tuple[float, float]]:
    """What a reader can prove about each hidden cell from each line alone (rows, then
    columns; last row and column are totals), as the tightest interval over lines."""
    bounds = {}
    n_rows, n_cols = shown.shape
    lines = [[(r, c) for c in range(n_cols)] for r in range(n_rows)]
    lines += [[(r, c) for r in range(n_rows)] for c in range(n_cols)]
    for line in lines:
        *parts, total = line
        if np.isnan(shown[total]):
            continue
        hidden = [p for p in parts if np.isnan(shown[p])]
        rest = shown[total] - sum(shown[p] for p in parts if not np.isnan(shown[p]))
        low = {p: 1 if small[p] else threshold for p in hidden}
        high = {p: threshold - 1 if small[p] else np.inf for p in hidden}
        for p in hidden:
            lo = max(low[p], rest - sum(high[q] for q in hidden if q != p))
            hi = min(high[p], rest - sum(low[q] for q in hidden if q != p))
            old = bounds.get(p, (-np.inf, np.inf))
            bounds[p] = (max(old[0], lo), min(old[1], hi))
    return list(bounds.values())


@settings(max_examples=200, deadline=None)
@given(count_grids(max_rows=4, min_cols=2, max_count=9))
def test_no_withheld_cell_is_pinned_by_what_a_reader_knows(cells: list[list[int]]) -> None:
    columns = [f"c{j}" for j in range(len(cells[0]))]
    table = pd.DataFrame(cells, columns=columns)
    table["total"] = table[columns].sum(axis=1)
    result = disclosure.suppress(table, columns, row_total="total", col_totals=True)
    shown = result.table[[*columns, "total"]].to_numpy(dtype=float, na_value=np.nan)
    primary = np.zeros(shown.shape, dtype=bool)
    names = [*columns, "total"]
    for r, column in result.mask.attrs[disclosure.PRIMARY_ATTR]:
        primary[r, names.index(column)] = True
    for low, high in _ranges(shown, primary):
        assert low < high
