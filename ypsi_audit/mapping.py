"""Column mapping files: a setting's own export, renamed and recoded into the contract.

A mapping is a small YAML file a trust writes once per recording system:

    rename:                      # export header -> contract column
      Police informed?: decision
      Age of youngest: youngest_child_age
    values:                      # per contract column: export value -> contract value
      decision:
        "Yes": referred_police
        "No": handled_in_setting
    drop:                        # export columns to leave out before anything is read
      - Pupil name
      - Notes

Headers and values are matched ignoring case and surrounding spaces. Every target is
checked against the contract when the file is loaded, before any data is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import contract
from .errors import InputError, did_you_mean

KEYS = ("rename", "values", "drop")


def _key(text: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(text).replace("\ufeff", "").strip().lower())


@dataclass(frozen=True)
class ColumnMapping:
    path: str
    rename: dict[str, str] = field(default_factory=dict)  # normalised export name -> contract
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> value -> value
    drop: frozenset[str] = frozenset()  # normalised export names


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read and check a mapping file; every problem names the file and the entry."""
    shown = str(path)
    tree = _read(Path(path), shown)
    for key in tree:
        if key not in KEYS:
            raise InputError(shown, f"unknown section '{key}'", hint=did_you_mean(str(key), KEYS))
    rename = {}
    for source, target in (tree.get("rename") or {}).items():
        rename[_key(source)] = _column(shown, str(target), f"rename of '{source}'")
    values: dict[str, dict[str, str]] = {}
    for column, table in (tree.get("values") or {}).items():
        name = _column(shown, str(column), "values")
        if not isinstance(table, dict):
            raise InputError(shown, f"values for {name} must map export values to codes")
        values[name] = {
            word: _value(shown, name, v) for k, v in table.items() for word in _spellings(k)
        }
    drop = tree.get("drop") or []
    if not isinstance(drop, list):
        raise InputError(shown, "'drop' must be a list of column names")
    return ColumnMapping(shown, rename, values, frozenset(_key(d) for d in drop))


def _spellings(key: Any) -> tuple[str, ...]:
    """The export values a mapping key stands for. YAML reads an unquoted Yes/No/On/Off
    as true/false, so a boolean key covers every word YAML would have read that way."""
    if key is True:
        return ("yes", "true", "on")
    if key is False:
        return ("no", "false", "off")
    return (" ".join(str(key).lower().split()),)


def _read(path: Path, shown: str) -> dict:
    import yaml

    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(shown, "the mapping file does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise InputError(shown, "the mapping file is not readable YAML") from None
    if not isinstance(tree, dict):
        raise InputError(shown, "a mapping file needs rename, values or drop sections")
    return tree


def _column(shown: str, name: str, where: str) -> str:
    key = _key(name)
    if key not in contract.BY_NAME:
        raise InputError(
            shown,
            f"{where}: '{name}' is not a contract column",
            hint=did_you_mean(key, contract.COLUMN_NAMES),
        )
    return key


def _value(shown: str, column: str, value: Any) -> str:
    """A translated value must be one the loader reads for that column."""
    spec = contract.BY_NAME[column]
    text = "" if value is None else str(value).strip()
    if spec.kind == "bool":
        word = text.lower()
        allowed = contract.TRUE_WORDS | contract.FALSE_WORDS | contract.UNKNOWN_WORDS
        if isinstance(value, bool) or word in allowed:
            return str(value).lower() if isinstance(value, bool) else text
        raise InputError(shown, f"values for {column}: '{text}' is not true, false or blank")
    if spec.kind in ("category", "ordinal") and text and _key(text) not in spec.codes:
        raise InputError(
            shown,
            f"values for {column}: '{text}' is not a code of {column}",
            hint=did_you_mean(_key(text), spec.codes),
        )
    return text
