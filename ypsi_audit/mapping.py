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
    settings:                    # the settings register: each setting's name and code
      Oakfield Primary School: S01
      St Mary's High School: S02

Headers and values are matched ignoring case and surrounding spaces. The file is
checked like input before any data is read: every section and entry has the type it
should (a list where a mapping belongs, a number where a name belongs or an empty entry
is one clear line naming the file and the entry, never a traceback), and every target
is checked against the contract.

The settings register is how the tool tells a school's name (not personal data; real
exports carry them) from a person's name (personal data) in `setting_id`: with a
register, a setting value must be a listed name or code, matched ignoring case and
spacing, and names become their codes; anything else refuses the file. It also catches
a typo such as `S1` for `S01`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import contract
from .errors import InputError, did_you_mean

KEYS = ("rename", "values", "drop", "settings")
# A pseudonymous code, as the contract defines incident and setting identifiers.
CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
CODE_RULE = "letters, digits, - and _, at most 32 characters"
IDENTIFIERS = ("incident_id", "setting_id")


def _key(text: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(text).replace("\ufeff", "").strip().lower())


def register_key(text: str) -> str:
    """How register names and codes are matched: Unicode-normalised, case and all
    spacing ignored ('Oakfield  primary' is 'OAKFIELD PRIMARY', 's 01' is 'S01')."""
    return "".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


@dataclass(frozen=True)
class SettingsRegister:
    """The trust's settings: each listed name and code, by `register_key`, to its code."""

    path: str
    entries: tuple[tuple[str, str], ...]  # (name as written, code), in file order
    lookup: Mapping[str, str] = field(default_factory=dict)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for _, code in self.entries))

    def code_for(self, value: str) -> str | None:
        """The code a setting value stands for, or None when the register lists no such
        name or code."""
        return self.lookup.get(register_key(value))

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class ColumnMapping:
    path: str
    rename: dict[str, str] = field(default_factory=dict)  # normalised export name -> contract
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> value -> value
    drop: frozenset[str] = frozenset()  # normalised export names
    settings: SettingsRegister | None = None
    # contract column -> the export header as written in the mapping file, so that
    # messages can name the user's own header (configuration, not data).
    headers: dict[str, str] = field(default_factory=dict)


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read and check a mapping file; every problem names the file and the entry."""
    from .yamlfile import load_yaml

    shown = str(path)
    tree = load_yaml(path, what="mapping file")
    if tree is None or tree == {}:
        raise InputError(
            shown,
            "the mapping file is empty",
            hint="give it at least one of the sections " + _listed(KEYS),
        )
    if not isinstance(tree, dict):
        raise InputError(
            shown,
            f"a mapping file holds named sections ({_listed(KEYS)}), not {_a(tree)}",
            hint="start each section at the left margin with its name and a colon",
        )
    for key in tree:
        if not isinstance(key, str) or key not in KEYS:
            hint = did_you_mean(str(key), KEYS) if isinstance(key, str) else ""
            raise InputError(
                shown,
                f"unknown section {_name(key)}: the sections are {_listed(KEYS)}",
                hint=hint,
            )
    rename, headers = _rename(shown, tree.get("rename"))
    return ColumnMapping(
        path=shown,
        rename=rename,
        values=_values(shown, tree.get("values")),
        drop=_drop(shown, tree.get("drop")),
        settings=_settings(shown, tree["settings"]) if "settings" in tree else None,
        headers=headers,
    )


# ----------------------------------------------------------------------------- sections


def _rename(shown: str, section: Any) -> tuple[dict[str, str], dict[str, str]]:
    rename: dict[str, str] = {}
    headers: dict[str, str] = {}
    for source, target in _entries(shown, "rename", section, "export header: contract column"):
        header = _header(shown, "rename", source)
        if not isinstance(target, str) or not target.strip():
            raise InputError(
                shown,
                f"rename of '{header}' must name one contract column, not {_a(target)}",
                hint="write it as  " + f"{header}: decision",
            )
        name = _column(shown, target, f"rename of '{header}'")
        if name in headers:
            raise InputError(
                shown,
                f"rename: '{headers[name]}' and '{header}' both become {name}",
                hint="keep one of them, or drop the other",
            )
        rename[_key(header)] = name
        headers[name] = header
    return rename, headers


def _values(shown: str, section: Any) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    for column, table in _entries(shown, "values", section, "contract column: its values"):
        if not isinstance(column, str):
            raise InputError(
                shown,
                f"values: {_name(column)} must be a contract column name",
                hint=did_you_mean(str(column), contract.COLUMN_NAMES),
            )
        name = _column(shown, column, "values")
        if name in IDENTIFIERS:
            raise InputError(
                shown,
                f"values for {name}: identifiers are not translated",
                hint="list setting names with their codes under settings: instead"
                if name == "setting_id"
                else "give each incident a pseudonymous code in the export",
            )
        if not isinstance(table, dict) or not table:
            raise InputError(
                shown,
                f"values for {name} must map each export value to a code "
                f'("Yes": ...), not {_a(table)}',
            )
        translated: dict[str, str] = {}
        for raw, value in table.items():
            if raw is None or isinstance(raw, list | dict | tuple):
                raise InputError(
                    shown,
                    f"values for {name}: an export value is {_a(raw)}",
                    hint="write each export value as a word or number before its colon",
                )
            for word in _spellings(raw):
                translated[word] = _value(shown, name, value)
        values[name] = translated
    return values


def _drop(shown: str, section: Any) -> frozenset[str]:
    if section is None:
        return frozenset()
    if not isinstance(section, list):
        raise InputError(
            shown,
            f"'drop' must be a list of column names (one '- Name' per line), not {_a(section)}",
        )
    return frozenset(_key(_header(shown, "drop", item)) for item in section)


def _settings(shown: str, section: Any) -> SettingsRegister:
    entries: list[tuple[str, str]] = []
    owner: dict[str, tuple[str, str]] = {}  # register key -> (name as written, code)
    pairs = list(_entries(shown, "settings", section, "setting name: its code"))
    if not pairs:
        raise InputError(
            shown,
            "settings: lists no setting",
            hint="list each setting's name with its code (Oakfield Primary School: S01), "
            "or remove the section",
        )
    from .privacy import looks_personal

    for name, code in pairs:
        if not isinstance(name, str) or not name.strip():
            raise InputError(
                shown,
                f"settings: a setting's name must be text, not {_a(name)}",
                hint="put the name in quotes",
            )
        where = f"settings: '{name.strip()}'"
        if not isinstance(code, str):
            raise InputError(
                shown,
                f"{where} needs a code written as text, not {_a(code)}",
                hint="put the code in quotes, for example 'S01' or '01'",
            )
        code = code.strip()
        if not CODE.fullmatch(code):
            raise InputError(
                shown, f"{where}: its code must be {CODE_RULE}", hint="for example S01"
            )
        if looks_personal(code) is not None:
            raise InputError(
                shown,
                f"{where}: its code is shaped like personal data",
                hint="choose a code such as S01",
            )
        for written in (name.strip(), code):
            key = register_key(written)
            if key in owner and owner[key][1] != code:
                raise InputError(
                    shown,
                    f"{where}: '{written}' also stands for the setting "
                    f"'{owner[key][0]}' ({owner[key][1]})",
                    hint="give each setting its own name and code",
                )
            owner.setdefault(key, (name.strip(), code))
        if any(register_key(n) == register_key(name) for n, _ in entries):
            raise InputError(
                shown, f"{where} is listed twice", hint="names match ignoring case and spaces"
            )
        entries.append((name.strip(), code))
    lookup = {key: code for key, (_, code) in owner.items()}
    return SettingsRegister(shown, tuple(entries), lookup)


# ----------------------------------------------------------------------------- entries


def _entries(shown: str, section: str, tree: Any, form: str) -> Iterator[tuple[Any, Any]]:
    """The (key, value) pairs of a section that must be a mapping; an empty section is
    empty, anything else (a list, a word) is refused with the form it should take."""
    if tree is None:
        return iter(())
    if not isinstance(tree, dict):
        raise InputError(
            shown,
            f"'{section}' must list one '{form}' per line, not {_a(tree)}",
            hint="indent each entry under the section's name",
        )
    return iter(tree.items())


def _header(shown: str, section: str, value: Any) -> str:
    """An export header as written: text, or a whole number YAML read as a number."""
    if isinstance(value, bool) or value is None or not isinstance(value, str | int):
        raise InputError(
            shown,
            f"{section}: a column name is {_a(value)}",
            hint="put the export's column name in quotes, exactly as its header reads",
        )
    text = str(value).strip()
    if not text:
        raise InputError(shown, f"{section}: a column name is empty")
    return text


def _spellings(key: Any) -> tuple[str, ...]:
    """The export values a mapping key stands for. YAML reads an unquoted Yes/No/On/Off
    as true/false, so a boolean key covers every word YAML would have read that way."""
    if key is True:
        return ("yes", "true", "on")
    if key is False:
        return ("no", "false", "off")
    return (" ".join(str(key).lower().split()),)


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
    if isinstance(value, list | dict | tuple):
        raise InputError(
            shown, f"values for {column}: each export value needs one code, not {_a(value)}"
        )
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


# ----------------------------------------------------------------------------- wording


def _a(value: Any) -> str:
    """What kind of thing a YAML value is, in words ('a list', 'a number', 'empty')."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false (write the word in quotes to keep it as text)"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a single word or phrase"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping of names to values"
    return "a date or another value YAML reads specially (put it in quotes)"


def _name(key: Any) -> str:
    return f"'{key}'" if isinstance(key, str) else _a(key)


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]
