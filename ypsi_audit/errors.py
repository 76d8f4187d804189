"""Errors that carry structure and read as one plain sentence.

The CLI prints `str(error)` and exits; it never shows a traceback for bad input. Each
error keeps its parts (file, row, column, rule) as attributes so tests and reports can
use them without parsing the sentence.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class YpsiError(Exception):
    """Base class: the message is one sentence meant for the person running the tool."""

    exit_code = 2


class InputError(YpsiError):
    """An input file cannot be used as it is.

    `row` is the row number as a spreadsheet shows it (the header is row 1), or None
    when the problem is with the whole file. `value` is kept only when it is safe to
    repeat; callers never put a value that looks personal into the message.
    """

    def __init__(
        self,
        path: str,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        hint: str = "",
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.problem = problem
        self.hint = hint
        where = self.path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column}"
        message = f"{where}: {problem}"
        if hint:
            message += f"; {hint}"
        super().__init__(message.rstrip(".") + ".")


class PolicyError(YpsiError):
    """A policy file, or a parameter given for it, does not fit the data contract."""

    def __init__(self, path: str, problem: str, *, rule: str | None = None) -> None:
        self.path = str(path)
        self.rule = rule
        self.problem = problem
        where = self.path if rule is None else f"{self.path}, rule {rule}"
        super().__init__(f"{where}: {problem}".rstrip(".") + ".")


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The valid name a typo most likely meant, or None when nothing is close."""
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing the choices when none is close."""
    choices = list(choices)
    best = closest(word, choices)
    if best is not None:
        return f"did you mean '{best}'?"
    return "valid values are " + ", ".join(f"'{c}'" for c in choices)
