"""The safe YAML loader every configuration file goes through: limits, one-line errors."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from ypsi_audit import yamlfile
from ypsi_audit.errors import InputError, YpsiError
from ypsi_audit.yamlfile import YamlFileError, load_yaml, parse_yaml


def write(tmp_path: Path, text: str | bytes, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def laughs(levels: int, width: int) -> str:
    """A 'billion laughs' document: each level lists the one before `width` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_plain_yaml_reads_as_plain_python(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rename:\n  Police informed?: decision\ndrop: [Notes, 7]\nday: 2025-03-04\nflag: yes\n",
    )
    assert load_yaml(path, what="mapping file") == {
        "rename": {"Police informed?": "decision"},
        "drop": ["Notes", 7],
        "day": dt.date(2025, 3, 4),
        "flag": True,
    }


def test_an_empty_file_is_none_and_a_bom_is_ignored(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "", "empty.yaml")) is None
    assert load_yaml(write(tmp_path, b"\xef\xbb\xbfa: 1\n", "bom.yaml")) == {"a": 1}


@pytest.mark.parametrize(
    ("text", "line", "col", "fragment"),
    [
        # the missing colon on line 2 is noticed where the next entry starts
        ("rename:\n  Incident Ref incident_id\n  School: setting_id\n", 3, 9, "not valid YAML"),
        ("rename: [unclosed\n", 2, 1, "not valid YAML"),
        ("a:\n\tb: 1\n", 2, 1, "not valid YAML"),
        ("a: 1\n---\nb: 2\n", 2, 1, "expected a single document"),
        ("a: !!python/object:os.system x\n", 1, 4, "not valid YAML"),
        ("a: 1\nb: 2\na: 3\n", 3, 1, "writes the key 'a' twice"),
        ("values:\n  decision:\n    Yes: x\n    yes: y\n", 4, 5, "writes the key 'yes' twice"),
        ("? [a, b]\n: 1\n", 1, 3, "has a key that is a list or a mapping"),
        ("a: &a [*a]\n", 1, 4, "alias that refers to the value holding it"),
    ],
)
def test_problems_name_the_file_line_and_column(
    tmp_path: Path, text: str, line: int, col: int, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(YamlFileError) as info:
        load_yaml(path, what="mapping file")
    error = info.value
    assert (error.path, error.line, error.col) == (str(path), line, col)
    message = str(error)
    assert message.startswith(f"{path}, line {line}, column {col}: the mapping file ")
    assert fragment in message and "\n" not in message
    assert isinstance(error, InputError) and isinstance(error, YpsiError)
    assert error.exit_code == 2


def test_billion_laughs_is_refused_by_the_alias_budget(tmp_path: Path) -> None:
    path = write(tmp_path, laughs(9, 10))  # 10^9 'lol' once expanded
    assert path.stat().st_size < 2_000
    with pytest.raises(YamlFileError, match="uses more than 50 \\* aliases"):
        load_yaml(path, what="policy file")


def test_an_expansion_within_the_alias_budget_is_refused_by_its_size(tmp_path: Path) -> None:
    path = write(tmp_path, laughs(6, 8))  # 48 aliases, 8^6 = 262,144 values
    with pytest.raises(YamlFileError, match="expands to more than 200,000 values"):
        load_yaml(path, what="policy file")


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    tree = load_yaml(write(tmp_path, "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\nsame: *b\n"))
    assert tree == {"base": {"x": 1}, "other": {"x": 1, "y": 2}, "same": {"x": 1}}


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "a: " + "x" * 2_000 + "\n")
    with pytest.raises(YamlFileError, match="larger than 1 KB") as info:
        load_yaml(path, what="schedule", max_bytes=1_000)
    assert info.value.line is None
    assert len(load_yaml(path, max_bytes=5_000)["a"]) == 2_000
    assert yamlfile.MAX_BYTES == 1_000_000


def test_missing_folder_unreadable_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(YamlFileError, match="the mapping file does not exist"):
        load_yaml(tmp_path / "nowhere.yaml", what="mapping file")
    with pytest.raises(YamlFileError, match="this is a folder, not a mapping file"):
        load_yaml(tmp_path, what="mapping file")
    latin = write(tmp_path, "a: 1\nb: caf\xe9\n".encode("latin-1"), "latin.yaml")
    with pytest.raises(YamlFileError, match="not UTF-8 text") as info:
        load_yaml(latin)
    assert info.value.line == 2
    if os.geteuid() != 0:  # root reads anything
        locked = write(tmp_path, "a: 1\n", "locked.yaml")
        locked.chmod(0)
        with pytest.raises(YamlFileError, match="cannot be opened"):
            load_yaml(locked)


def test_a_nul_character_is_a_one_line_error() -> None:
    with pytest.raises(YamlFileError, match="holds a character YAML does not allow") as info:
        parse_yaml("a: b\n\x00\n", source="x.yaml")
    assert info.value.line == 2
