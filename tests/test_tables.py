"""The tables folder: every count table in long form, its data dictionary, and a plain
English label for every category code the tables hold."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ypsi_audit import resources
from ypsi_audit.reports.assessed import AssessedLog
from ypsi_audit.reports.pages import REGISTRY, build_pages
from ypsi_audit.reports.spec import RunSpec
from ypsi_audit.reports.tables import write_tables


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = RunSpec.build("report", input=str(resources.sample_log()), out="unused")
    _, ledger = build_pages(AssessedLog.assess(spec), spec, list(REGISTRY))
    out = tmp_path_factory.mktemp("tables")
    write_tables(ledger, out, spec)
    return out


def test_every_code_of_every_table_has_a_label(folder: Path) -> None:
    codes = pd.read_csv(folder / "codes.csv", dtype=str, keep_default_na=False)
    known = set(zip(codes["column"], codes["code"], strict=True))
    assert len(known) == len(codes)  # each (column, code) once
    for path in folder.glob("*.csv"):
        if path.name in ("README.csv", "codes.csv"):
            continue
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in table.columns:
            if column in ("incidents", "not_given_because", "scope"):
                continue
            for code in table[column].unique():
                assert (column, code) in known, (path.name, column, code)
    assert all(codes["label"].str.len() > 0)


def test_labels_are_the_pages_words_and_never_blame_a_referral(folder: Path) -> None:
    codes = pd.read_csv(folder / "codes.csv", dtype=str, keep_default_na=False)
    label = {(c, v): text for c, v, text in codes.itertuples(index=False)}
    assert label["outcome", "refer_police"] == "refer to the police"
    assert label["police_outcome", "outcome_21"].startswith("Outcome 21:")
    assert label["group_child_sen", "yes"] != "yes"  # said as the pages say the group
    for text in codes["label"].str.lower():
        assert not any(word in text for word in ("over-escalat", "too many", "mistake"))
    readme = pd.read_csv(folder / "README.csv", dtype=str, keep_default_na=False)
    assert "codes.csv" in set(readme["table"])
