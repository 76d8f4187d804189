"""The synthetic log generator: deterministic, contract-shaped, realistic, and planted.

The shipped sample and every benchmark come from `generate`, so a broken cross-field
fact here would show up as a false finding in every report built on it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ypsi_audit import contract, synth
from ypsi_audit.engine import assess
from ypsi_audit.synth import BiasPlan, RecordingPlan, generate, write_log

BIG_N = 20_000


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    """A 20,000-row log: large enough that every rare branch occurs."""
    return generate(seed=7, n=BIG_N)


@pytest.fixture(scope="module")
def big_assessed(big: pd.DataFrame) -> pd.DataFrame:
    return assess(big)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """The trust the shipped sample is made from (12 settings, 3 years, seed 2024)."""
    return generate(12, 3, seed=2024)


def _false_or_blank(series: pd.Series) -> pd.Series:
    return series.isna() | (series == False)  # noqa: E712 - nullable comparison


# ------------------------------------------------------------------ determinism, shape


def test_same_seed_gives_identical_frame_and_bytes(tmp_path) -> None:
    first, second = generate(seed=3), generate(seed=3)
    pd.testing.assert_frame_equal(first, second)
    a, b = write_log(first, tmp_path / "a.csv"), write_log(second, tmp_path / "b.csv")
    assert a.read_bytes() == b.read_bytes()


def test_different_seed_gives_different_log() -> None:
    first, second = generate(seed=3), generate(seed=4)
    same_length = len(first) == len(second)
    assert not same_length or not first.equals(second)
    assert (
        not first["reported_on"]
        .head(50)
        .reset_index(drop=True)
        .equals(second["reported_on"].head(50).reset_index(drop=True))
    )


@pytest.mark.parametrize("n", [0, 1, 137, 5_000])
def test_n_forces_exact_row_count(n: int) -> None:
    frame = generate(seed=1, n=n)
    assert len(frame) == n
    assert frame["incident_id"].is_unique
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0


def test_dtypes_follow_contract_kinds(big: pd.DataFrame) -> None:
    assert tuple(big.columns) == contract.COLUMN_NAMES
    for column in contract.COLUMNS:
        dtype = big[column.name].dtype
        if column.kind == "string":
            assert dtype == "string", column.name
        elif column.kind in ("category", "ordinal"):
            expected = pd.CategoricalDtype(column.codes, ordered=column.kind == "ordinal")
            assert dtype == expected, column.name
        elif column.kind == "int":
            assert dtype == "Int64", column.name
        elif column.kind == "bool":
            assert dtype == "boolean", column.name
        else:
            assert dtype == "datetime64[ns]", column.name


def test_identifiers_look_like_the_contract(sample: pd.DataFrame) -> None:
    assert sample["incident_id"].str.fullmatch(r"INC-\d{6}").all()
    assert sample["incident_id"].is_unique
    assert set(sample["setting_id"]) == {f"S{i:02d}" for i in range(1, 13)}
    required = [c.name for c in contract.COLUMNS if c.required]
    assert sample[required].notna().all().all()


# ------------------------------------------------------------------ cross-field facts


def test_adult_flag_never_false_for_an_adult(big: pd.DataFrame) -> None:
    adult = big["oldest_party_age"] >= 18
    assert not (adult.fillna(False) & (big["adult_involved"] == False).fillna(False)).any()  # noqa: E712
    assert (adult.fillna(False) & big["adult_involved"].fillna(False)).sum() > 100


def test_oldest_at_least_youngest(big: pd.DataFrame) -> None:
    gap = big["oldest_party_age"] - big["youngest_child_age"]
    assert (gap.dropna() >= 0).all()
    assert gap.notna().mean() > 0.9


def test_decision_dates_follow_reports_and_nothing_is_in_the_future(big: pd.DataFrame) -> None:
    lag = (big["decided_on"] - big["reported_on"]).dt.days.dropna()
    assert (lag >= 0).all()
    assert (lag <= 10).mean() > 0.9
    today = pd.Timestamp(date.today())
    assert (big["reported_on"] <= today).all()
    assert (big["decided_on"].dropna() <= today).all()


def test_decided_on_blank_when_no_decision(big: pd.DataFrame) -> None:
    assert big.loc[big["decision"].isna(), "decided_on"].isna().all()
    assert 0.01 < big["decision"].isna().mean() < 0.08


@pytest.mark.parametrize("column", [c.name for c in contract.COLUMNS if c.parent is not None])
def test_follow_ups_blank_or_false_when_parent_false(big: pd.DataFrame, column: str) -> None:
    parent = contract.BY_NAME[column].parent
    not_happened = (big[parent] == False).fillna(False)  # noqa: E712
    assert not_happened.sum() > 100
    assert _false_or_blank(big.loc[not_happened, column]).all()


def test_follow_ups_recorded_when_parent_happened(big: pd.DataFrame) -> None:
    for column in (c.name for c in contract.COLUMNS if c.parent is not None):
        happened = big[contract.BY_NAME[column].parent].fillna(False)
        assert big.loc[happened, column].fillna(False).mean() > 0.3, column


def test_police_outcome_only_after_a_referral(big: pd.DataFrame) -> None:
    referred = big["decision"] == "referred_police"
    assert big.loc[~referred.fillna(False), "police_outcome"].isna().all()
    outcomes = big.loc[referred.fillna(False), "police_outcome"].value_counts(normalize=True)
    assert outcomes.idxmax() == "outcome_21"
    assert outcomes["charge"] < 0.1


def test_told_can_report_only_when_parents_disagreed(big: pd.DataFrame) -> None:
    told = big["parents_told_can_report"].notna()
    assert big.loc[told, "parents_disagreed"].fillna(False).all()


# ------------------------------------------------------------------ realism


def test_dates_span_the_academic_years_on_school_days(sample: pd.DataFrame) -> None:
    reported = sample["reported_on"]
    assert reported.min() >= pd.Timestamp("2022-09-01")
    assert reported.max() <= pd.Timestamp("2025-08-31")
    academic_year = reported.dt.year - (reported.dt.month < 9)
    assert set(academic_year) == {2022, 2023, 2024}
    assert (reported.dt.day_of_week < 5).all()
    assert (reported.dt.month == 8).mean() < 0.02


def test_first_year_moves_the_span() -> None:
    frame = generate(3, 1, seed=5, first_year=2019)
    assert frame["reported_on"].min() >= pd.Timestamp("2019-09-01")
    assert frame["reported_on"].max() < pd.Timestamp("2020-09-01")


def test_years_reaching_into_the_future_stop_at_today() -> None:
    today = date(2026, 1, 15)
    frame = generate(4, 2, seed=9, first_year=2025, today=today)
    assert len(frame) > 0
    assert (frame["reported_on"] <= pd.Timestamp(today)).all()
    assert (frame["decided_on"].dropna() <= pd.Timestamp(today)).all()
    with pytest.raises(ValueError, match="future"):
        generate(4, 1, seed=9, first_year=2030, today=today)


def test_ages_in_range_and_primary_children_younger(big: pd.DataFrame) -> None:
    youngest = big["youngest_child_age"].dropna()
    assert youngest.between(9, 17).all()
    assert big["oldest_party_age"].dropna().between(9, 99).all()
    by_phase = big.groupby("setting_phase", observed=True)["youngest_child_age"].mean()
    assert by_phase["primary"] < 12 < by_phase["secondary"]
    adult_share = (big["oldest_party_age"] >= 18).mean()
    assert 0.03 < adult_share < 0.2


def test_both_incident_types_with_online_contact_a_minority(big: pd.DataFrame) -> None:
    shares = big["incident_type"].value_counts(normalize=True)
    assert 0.1 < shares["online_sexual_contact"] < 0.35
    online = big["incident_type"] == "online_sexual_contact"
    assert (big.loc[online, "content_level"] == "none").mean() > 0.3
    assert (big.loc[~online, "content_level"] == "none").sum() == 0
    adults = big["oldest_party_age"] >= 18
    assert adults[online].mean() > 2 * adults[~online].mean()


def test_settings_differ_in_size_and_phase(sample: pd.DataFrame) -> None:
    sizes = sample.groupby("setting_id").size()
    assert sizes.min() < 20 and sizes.max() > 80  # ~5 a year vs ~30+ a year over 3 years
    phases = sample.drop_duplicates("setting_id")["setting_phase"].value_counts()
    assert phases.idxmax() == "secondary"
    assert phases.get("primary", 0) >= 1 and (phases > 0).sum() >= 4


def test_protected_characteristics_have_plausible_shares(big: pd.DataFrame) -> None:
    eth = big["child_ethnicity_group"].value_counts(normalize=True)
    assert eth.idxmax() == "white" and 0.6 < eth["white"] < 0.8
    assert 0.15 < big["child_sen"].mean() < 0.35
    assert 0.2 < big["child_disadvantaged"].mean() < 0.4
    assert big["child_looked_after"].mean() < 0.1
    for column in ("child_sex", "child_sen", "child_ethnicity_group"):
        assert 0 < big[column].isna().mean() < 0.1, column


def test_guidance_outcomes_are_mixed(big_assessed: pd.DataFrame) -> None:
    shares = big_assessed["guidance_outcome"].value_counts(normalize=True)
    assert 0.35 < shares["refer_police"] < 0.7
    assert 0.25 < shares["handle_in_setting"] < 0.6
    assert 0.02 < shares["insufficient_information"] < 0.15
    experimental = big_assessed["experimental"].fillna(False).mean()
    assert experimental > 0.25
    consistency = big_assessed["consistency"].value_counts(normalize=True)
    assert consistency["under_escalation"] > 0.02 and consistency["over_escalation"] > 0.01
    assert consistency["consistent_referral"] + consistency["consistent_in_setting"] > 0.7


def test_complete_records_are_always_decidable(monkeypatch) -> None:
    """Before blanking every fact is known, so the truth is never insufficient."""
    seen: list[pd.Series] = []
    real = synth._guidance_truth

    def spy(frame: pd.DataFrame) -> np.ndarray:
        seen.append(assess(frame)["guidance_outcome"])
        return real(frame)

    monkeypatch.setattr(synth, "_guidance_truth", spy)
    generate(seed=2, n=5_000)
    assert len(seen) == 1
    assert set(seen[0].astype(str)) == {"refer_police", "handle_in_setting"}


def test_poor_recorders_leave_more_blanks(big: pd.DataFrame) -> None:
    blanks = big[list(synth.FACT_FIELDS)].isna().mean(axis=1).groupby(big["setting_id"]).mean()
    assert blanks.max() > 2 * blanks.median()


# ------------------------------------------------------------------ plants


def _refer_truth_handled_share(frame: pd.DataFrame, member: pd.Series) -> float:
    outcome = assess(frame)["guidance_outcome"]
    rows = (outcome == "refer_police") & member.fillna(False) & frame["decision"].notna()
    return float((frame.loc[rows, "decision"] == "handled_in_setting").mean())


def test_bias_plan_of_strength_zero_changes_nothing() -> None:
    plain = generate(seed=12, n=3_000)
    planted = generate(seed=12, n=3_000, bias=BiasPlan("child_sen", "true", 0.0))
    pd.testing.assert_frame_equal(plain, planted)


def test_bias_plan_under_escalates_the_group() -> None:
    plan = BiasPlan("child_sen", "true", 0.5)
    plain = generate(seed=12, n=BIG_N)
    planted = generate(seed=12, n=BIG_N, bias=plan)
    member = plain["child_sen"]
    before = _refer_truth_handled_share(plain, member)
    after = _refer_truth_handled_share(planted, member)
    assert after > before + 0.25
    outsiders = ~member.fillna(True)
    assert _refer_truth_handled_share(planted, outsiders) == pytest.approx(
        _refer_truth_handled_share(plain, outsiders)
    )
    handle = assess(plain)["guidance_outcome"] == "handle_in_setting"
    rows = handle & member.fillna(False)
    referred_before = (plain.loc[rows, "decision"] == "referred_police").mean()
    referred_after = (planted.loc[rows, "decision"] == "referred_police").mean()
    assert referred_after > referred_before + 0.1


def test_bias_plan_on_an_ethnicity_group() -> None:
    plan = BiasPlan("child_ethnicity_group", "black", 0.5)
    plain = generate(seed=13, n=BIG_N)
    planted = generate(seed=13, n=BIG_N, bias=plan)
    member = plain["child_ethnicity_group"] == "black"
    assert _refer_truth_handled_share(planted, member) > (
        _refer_truth_handled_share(plain, member) + 0.25
    )


def test_recording_plan_drops_recording_in_named_settings() -> None:
    plan = RecordingPlan(("S04", "S09"), 0.5)
    plain = generate(seed=14, n=BIG_N)
    planted = generate(seed=14, n=BIG_N, poor_recording=plan)
    named = plain["setting_id"].isin(plan.settings)
    for column in ("rationale_recorded", "deletion_recorded", "viewing_recorded"):
        before = plain.loc[named, column].fillna(False).mean()
        after = planted.loc[named, column].fillna(False).mean()
        assert after < before * 0.7, column
    pd.testing.assert_frame_equal(plain[~named], planted[~named])
    gaps_before = assess(plain).loc[named, "recording_gaps"].str.len().gt(0).mean()
    gaps_after = assess(planted).loc[named, "recording_gaps"].str.len().gt(0).mean()
    assert gaps_after > gaps_before


def test_sample_plants_are_moderate() -> None:
    assert (synth.SAMPLE_BIAS.column, synth.SAMPLE_BIAS.group) == ("child_sen", "true")
    assert 0 < synth.SAMPLE_BIAS.strength < 0.5
    assert 0 < synth.SAMPLE_RECORDING.strength <= 0.6
    frame = generate(bias=synth.SAMPLE_BIAS, poor_recording=synth.SAMPLE_RECORDING, seed=2024)
    assert len(frame) > 300
    assert not frame.equals(generate(seed=2024))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bias": BiasPlan("child_ethnicity", "black", 0.3)}, "child_ethnicity_group"),
        ({"bias": BiasPlan("child_sen", "maybe", 0.3)}, "maybe"),
        ({"bias": BiasPlan("child_sen", "true", 1.5)}, "between 0 and 1"),
        ({"poor_recording": RecordingPlan(("S40",), 0.3)}, "S40"),
        ({"n": -1}, "negative"),
    ],
)
def test_bad_plans_are_refused_in_plain_words(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)


# ------------------------------------------------------------------ writing


def _read_back(path) -> pd.DataFrame:
    """Read a written CSV with plain pandas and restore the contract's dtypes."""
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = {}
    for column in contract.COLUMNS:
        values = text[column.name].replace("", None)
        if column.kind == "bool":
            out[column.name] = values.map({"true": True, "false": False}).astype("boolean")
        elif column.kind == "int":
            out[column.name] = pd.to_numeric(values).astype("Int64")
        elif column.kind == "date":
            out[column.name] = pd.to_datetime(values, format="%Y-%m-%d").astype("datetime64[ns]")
        elif column.kind in ("category", "ordinal"):
            dtype = pd.CategoricalDtype(column.codes, ordered=column.kind == "ordinal")
            out[column.name] = values.astype(dtype)
        else:
            out[column.name] = values.astype("string")
    return pd.DataFrame(out)


def test_write_log_csv_round_trip(tmp_path, sample: pd.DataFrame) -> None:
    path = write_log(sample, tmp_path / "log.csv")
    raw = path.read_text(encoding="utf-8")
    assert raw.splitlines()[0] == ",".join(contract.COLUMN_NAMES)
    assert "True" not in raw and "NaT" not in raw and "nan" not in raw
    pd.testing.assert_frame_equal(_read_back(path), sample)


def test_write_log_parquet_and_xlsx(tmp_path) -> None:
    frame = generate(seed=21, n=200)
    back = pd.read_parquet(write_log(frame, tmp_path / "log.parquet"))
    pd.testing.assert_frame_equal(back, frame)
    sheet = pd.read_excel(write_log(frame, tmp_path / "log.xlsx"), dtype=str)
    assert list(sheet.columns) == list(contract.COLUMN_NAMES)
    assert sheet["incident_id"].tolist() == frame["incident_id"].tolist()
    assert set(sheet["adult_involved"].dropna()) <= {"true", "false"}


def test_write_log_defaults_to_csv(tmp_path) -> None:
    frame = generate(seed=22, n=50)
    path = write_log(frame, tmp_path / "nested" / "log.txt")
    assert path.read_text(encoding="utf-8").startswith("incident_id,setting_id,")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_project_loader_reads_back_the_same_log(tmp_path, suffix: str) -> None:
    """The generator promises the loader's dtypes; the loader must agree on every value."""
    from ypsi_audit import loading

    frame = generate(seed=23, n=300)
    back = loading.load_incidents(write_log(frame, tmp_path / f"log{suffix}"))
    pd.testing.assert_frame_equal(back.reset_index(drop=True), frame, check_index_type=False)
