"""The policy compiled to SQL: every condition word, every dialect, the same answers as
`assess` (run in DuckDB, and for the other dialects read back by sqlglot and run there)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
import sqlglot

from benchmarks.differential import differences
from benchmarks.random_log import random_frame
from ypsi_audit import contract, duck, states
from ypsi_audit.engine import assess
from ypsi_audit.errors import PolicyError
from ypsi_audit.policy import load_policy
from ypsi_audit.sql import DIALECTS, compile_policy

POLICIES = ("cheshire-quick-guide", "ukcis-2024")

# A policy using every word of the condition language, so the compiler is checked on
# each (the shipped policies do not use all of them).
EVERY_WORD = """
id: every-word
version: 1
title: Every condition word
source: the test suite
parameters:
  young: {type: int, default: 12, min: 4, max: 17}
  old: {type: int, default: 30, min: 4, max: 99}
  level: {type: level, of: content_level, default: semi_nude}
  reach: {type: level, of: distribution, default: shared_widely}
  gap: {type: int, default: 2, min: 0, max: 10}
referral:
  route: the police
  referred_when:
    first_recorded:
      - {column: decision, is: referred_police}
      - {column: referred_social_care, is: true}
  allowed_when:
    any:
      - {column: image_sent_to_staff, is: true}
      - {column: setting_phase, one_of: [special, college]}
  allowed_because: a test
scope:
  title: with an image
  outside: without one
  description: a test
  when: {not: {column: content_level, is: none}}
factors:
  - id: young
    title: t
    description: d
    when: {column: youngest_child_age, at_most: {param: young}}
  - id: old
    title: t
    description: d
    when: {column: oldest_party_age, greater_than: {param: old}}
  - id: level
    title: t
    description: d
    when:
      all:
        - {column: content_level, at_least: {param: level}}
        - {column: distribution, less_than: {param: reach}}
  - id: gap
    title: t
    description: d
    when:
      first_recorded:
        - {column: adult_involved, is: false}
        - column: oldest_party_age
          minus: youngest_child_age
          greater_than: {param: gap}
  - id: levels_literal
    title: t
    description: d
    when:
      any:
        - {column: content_level, at_most: suggestive}
        - {column: youngest_child_age, less_than: 6}
        - {column: oldest_party_age, at_least: 60}
  - id: negations
    title: t
    description: d
    when:
      all:
        - {not: {column: motivation, one_of: [romantic, other]}}
        - {column: harassment, is: false}
        - {always: true}
  - id: never
    title: t
    description: d
    when: {always: false}
experimental:
  - id: consensual
    title: t
    description: d
    when: {column: consensual, is: true}
  - id: quiet
    title: t
    description: d
    when: {column: persistent_contact, is_not: true}
recording:
  - id: blank_decision
    title: t
    description: d
    when: {column: decision, is: blank}
  - id: recorded_date
    title: t
    description: d
    when: {column: youngest_child_age, is_not: blank}
  - id: viewing
    title: t
    description: d
    applies: {column: image_viewed, is: true}
    when:
      all:
        - {column: image_viewed, is: true}
        - any:
            - {column: viewing_authorised, is_not: true}
            - {column: viewing_recorded, is: false}
  - id: device_chain
    title: t
    description: d
    applies: {column: device_seized, is: true}
    when:
      any:
        - {column: images_deleted_before_return, is_not: true}
        - {column: deletion_recorded, is: false}
  - id: derived
    title: t
    description: d
    applies: {column: referred, is: true}
    when:
      any:
        - all:
            - {column: guidance_outcome, is: refer_police}
            - {column: referred, is_not: true}
        - all:
            - {column: guidance_outcome, is_not: handle_in_setting}
            - {column: experimental, is: true}
        - all:
            - {column: referral_criterion, is: false}
            - {column: staff_copy_deleted, is_not: false}
        - {column: police_outcome, is_not: pending}
  - id: codes
    title: t
    description: d
    when:
      all:
        - {column: guidance_outcome, one_of: [insufficient_information, handle_in_setting]}
        - {column: experimental, is: blank}
"""


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return random_frame(30_000, seed=11)


@pytest.fixture(scope="module")
def every_word(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "every-word.yaml"
    path.write_text(EVERY_WORD, encoding="utf-8")
    return path


def all_columns(expected: pd.DataFrame) -> list[str]:
    return [*contract.OUTPUT_COLUMNS, *(c for c in expected.columns if states.is_state(c))]


def run_in_duckdb(query: str, frame: pd.DataFrame) -> pd.DataFrame:
    con = duck.connect()
    try:
        con.register("incidents", duck._for_duckdb(frame.reset_index(drop=True)))
        result = con.sql(query).to_arrow_table().to_pandas()
    finally:
        con.close()
    out = duck.typed_outputs(result, None)
    out.index = frame.index
    return out


def test_every_condition_word_agrees_with_assess(frame: pd.DataFrame, every_word: Path) -> None:
    policy = load_policy(every_word)
    for params in ({}, {"young": 15, "old": 17, "level": "nude", "reach": "shared_with_others"}):
        expected = assess(frame, policy, params, with_states=True)
        got = duck.assess_frame(frame, policy, params, with_states=True)
        assert differences(expected, got, all_columns(expected)) == {}
        # each rule is decided somewhere and unknown somewhere, so the check has teeth
        for rule in policy.factors[:-2]:
            codes = set(expected[states.column("factors", rule.id)].unique())
            assert codes == {states.ABSENT, states.PRESENT, states.UNKNOWN}, rule.id
        short = expected[states.column("recording", "derived")]
        assert {states.NOT_DONE, states.NOT_RECORDED} <= set(short.unique())


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_dialect_parses_back_and_answers_as_assess(
    frame: pd.DataFrame, policy: str, dialect: str
) -> None:
    """Each dialect's text parses with sqlglot in that dialect; written again for DuckDB,
    it gives assess's answers (a construct written wrongly for a dialect shows here)."""
    query = compile_policy(policy, dialect=dialect, with_states=True, repeat=[])
    parsed = sqlglot.parse(query, read=dialect)
    assert len(parsed) == 1 and parsed[0] is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = sqlglot.transpile(query, read=dialect, write="duckdb")[0]
    expected = assess(frame, policy, with_states=True)
    got = run_in_duckdb(back, frame[list(contract.COLUMN_NAMES)])
    assert differences(expected, got, all_columns(expected)) == {}


def test_dialect_differences_are_written_per_dialect() -> None:
    texts = {d: compile_policy("cheshire-quick-guide", dialect=d, pretty=False) for d in DIALECTS}
    for dialect in ("duckdb", "spark", "postgres"):
        # CONCAT_WS skips NULLs there: no NULL test wrapped round it
        assert "CONCAT_WS(';', CASE WHEN" in texts[dialect]
        assert "IS NULL THEN NULL ELSE CONCAT_WS" not in texts[dialect]
    assert "CONCAT_WS" not in texts["bigquery"]
    assert "THEN ';under_13' ELSE ''" in texts["bigquery"]
    assert "ARRAY_TO_STRING(ARRAY_CONSTRUCT_COMPACT(" in texts["snowflake"]
    assert "CONCAT_WS" not in texts["snowflake"]
    for text in texts.values():
        assert "IS NOT TRUE" not in text.upper()
        assert "NOT COALESCE(rationale_recorded, FALSE)" in text
    assert "`state:referred`" in compile_policy(
        "cheshire-quick-guide", dialect="spark", with_states=True
    )
    assert '"state:referred"' in compile_policy(
        "cheshire-quick-guide", dialect="postgres", with_states=True
    )


def test_parameters_are_bound_and_checked() -> None:
    default = compile_policy("cheshire-quick-guide", pretty=False)
    changed = compile_policy("cheshire-quick-guide", {"under_age": 11}, pretty=False)
    assert "youngest_child_age < 13" in default
    assert "youngest_child_age < 11" in changed
    with pytest.raises(PolicyError, match="wide_age_gap_years"):
        compile_policy("cheshire-quick-guide", {"wide_age_gap": 4})
    with pytest.raises(PolicyError, match="fixes under_age"):
        compile_policy("ukcis-2024", {"under_age": 11})
    with pytest.raises(ValueError, match="dialect"):
        compile_policy("cheshire-quick-guide", dialect="oracle")


def test_missing_optional_columns_read_as_blank(frame: pd.DataFrame) -> None:
    dropped = ["adult_involved", "distribution", "viewing_authorised", "decision"]
    view = frame.drop(columns=dropped)
    expected = assess(view, "cheshire-quick-guide", with_states=True)
    got = duck.assess_frame(view, "cheshire-quick-guide", with_states=True)
    assert differences(expected, got, all_columns(expected)) == {}
    assert list(got.columns[: view.shape[1]]) == list(view.columns)


def test_a_changed_policy_file_changes_the_query(tmp_path: Path, frame: pd.DataFrame) -> None:
    """The query comes from the rule trees, never from a policy id."""
    source = load_policy("cheshire-quick-guide").path
    text = Path(source).read_text(encoding="utf-8")
    text = text.replace("id: cheshire-quick-guide", "id: cheshire-local").replace(
        "      column: grooming_or_exploitation_suspected\n      is: true",
        "      column: immediate_risk_of_harm\n      is: true",
    )
    path = tmp_path / "local.yaml"
    path.write_text(text, encoding="utf-8")
    query = compile_policy(str(path), pretty=False)
    assert "immediate_risk_of_harm AS ypsi_f5" in query
    assert "'cheshire-local@2' AS policy" in query
    expected = assess(frame, str(path))
    assert differences(expected, duck.assess_frame(frame, str(path))) == {}


def test_sql_command_prints_a_query_for_each_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    from ypsi_audit.cli import main

    for dialect in DIALECTS:
        options = ["--dialect", dialect, "--table", "safeguarding.incidents"]
        code = main(
            ["sql", "--policy", "cheshire-quick-guide", "--param", "under_age=11", *options]
        )
        assert code == 0
        text = capsys.readouterr().out
        assert "under_age=11" in text.splitlines()[0]
        assert "youngest_child_age < 11" in text
        assert sqlglot.parse_one(text.rstrip().rstrip(";"), read=dialect) is not None
    assert main(["sql", "--dialect", "oracle"]) == 2
    assert "duckdb, spark" in capsys.readouterr().err
    assert main(["sql", "--dialect", "spark", "--table", "t; DROP TABLE x"]) == 2
    assert "--table" in capsys.readouterr().err
