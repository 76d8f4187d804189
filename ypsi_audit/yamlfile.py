"""Read the YAML files a user writes (mapping, policy, schedule) safely and say plainly
what is wrong with one.

A configuration file is input like any other: it may be huge, malformed or built to
exhaust memory. `load_yaml` refuses a file over `MAX_BYTES`, anchors and aliases beyond a
small budget (a "billion laughs" file of 12 KB expands to billions of nodes, and
whatever walks the result then hangs), recursive aliases, and a key written twice in one
mapping (plain YAML keeps the last silently). Only YAML's plain types are built (the safe
loader: no Python objects). Every problem is one `YamlFileError` naming the file, the line
and the column, so the command line prints one sentence and exits with code 2.

    from ypsi_audit.yamlfile import load_yaml
    tree = load_yaml("map.yaml", what="mapping file")   # dict, list, scalar or None

What the content must look like is the caller's schema; this module only reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InputError

MAX_BYTES = 1_000_000  # a mapping, policy or schedule file is a few kilobytes
MAX_ALIASES = 50  # the shipped files use none; a few are fine
MAX_NODES = 200_000  # values and entries once every alias is expanded
SYNTAX_HINT = (
    "check that line and the one above it: the indentation, a colon and a space after "
    "each name, and quotes around a value that holds ': ' or ' #'"
)


class YamlFileError(InputError):
    """A YAML file cannot be read: `line` and `col` count from 1 (None when the problem
    is with the whole file). `row` and `column` (the data-file notions) stay None."""

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        line: int | None = None,
        col: int | None = None,
        hint: str = "",
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        self.row = None
        self.column = None
        self.line = line
        self.col = col
        where = self.path
        if line is not None:
            where += f", line {line}" + (f", column {col}" if col is not None else "")
        message = f"{where}: {problem}" + (f"; {hint}" if hint else "")
        Exception.__init__(self, message.rstrip(".") + ".")


def load_yaml(path: str | Path, *, what: str = "YAML file", max_bytes: int = MAX_BYTES) -> Any:
    """The file's content as plain Python (dict, list, str, int, float, bool, None, date).

    `what` names the file in messages ("mapping file", "policy file", "schedule").
    Raises YamlFileError for a missing, unreadable, oversized or malformed file.
    """
    shown = str(path)
    return parse_yaml(_read_text(Path(path), shown, what, max_bytes), source=shown, what=what)


def parse_yaml(text: str, *, source: str, what: str = "YAML file") -> Any:
    """YAML text already in memory, read with the same limits as `load_yaml`."""
    import yaml

    loader = None
    try:
        loader = _loader_class()(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, source, what)
        return loader.construct_document(node)
    except YamlFileError:
        raise
    except _refused_class() as exc:
        mark = exc.problem_mark
        raise YamlFileError(
            source,
            f"the {what} {exc.problem}",
            line=mark.line + 1,
            col=mark.column + 1,
            hint=exc.hint,
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source, what) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise YamlFileError(
            source,
            f"the {what} holds a character YAML does not allow (code {exc.character!r})",
            line=line,
            hint="save it again as plain UTF-8 text",
        ) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(source, f"the {what} is not valid YAML ({exc})") from None
    except RecursionError:
        raise YamlFileError(
            source, f"the {what} nests too deeply to be read", hint="flatten it"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


# ------------------------------------------------------------------------------ reading


def _read_text(path: Path, shown: str, what: str, max_bytes: int) -> str:
    try:
        if path.is_dir():
            raise YamlFileError(shown, f"this is a folder, not a {what}")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise YamlFileError(
            shown, f"the {what} does not exist", hint="check the path and the name"
        ) from None
    except OSError as exc:
        reason = f" ({exc.strerror.lower()})" if exc.strerror else ""
        raise YamlFileError(
            shown, f"the {what} cannot be opened{reason}", hint="check its permissions"
        ) from None
    if len(data) > max_bytes:
        raise YamlFileError(
            shown,
            f"the {what} is larger than {max_bytes // 1000:,} KB, far more than any {what} needs",
            hint="check that this is the right file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlFileError(
            shown,
            f"the {what} is not UTF-8 text",
            line=line,
            hint="save it as UTF-8 (in Notepad: Save as, Encoding UTF-8)",
        ) from None


def _syntax_error(exc: Any, source: str, what: str) -> YamlFileError:
    """PyYAML's marked error as one line: where, what it found, how to fix it."""
    mark = exc.problem_mark or exc.context_mark
    detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
    detail = " ".join(detail.split())  # PyYAML wraps its own messages over lines
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    return YamlFileError(
        source, f"the {what} is not valid YAML ({detail})", line=line, col=col, hint=SYNTAX_HINT
    )


# ------------------------------------------------------------------------------ limits


def _refused(problem: str, mark: Any, hint: str) -> Exception:
    """A problem of ours found while composing, carried out through PyYAML as its own."""
    error = _refused_class()(problem=problem, problem_mark=mark)
    error.hint = hint
    return error


_REFUSED: Any = None


def _refused_class() -> Any:
    global _REFUSED
    if _REFUSED is None:
        import yaml

        _REFUSED = type("_Refused", (yaml.MarkedYAMLError,), {"hint": ""})
    return _REFUSED


def _check_size(root: Any, source: str, what: str) -> None:
    """Refuse a document that expands past MAX_NODES or refers to itself.

    Each node's size (itself plus its children, aliases expanded) is worked out once and
    remembered, so the check costs the size of the file, not of the expansion.
    """
    from yaml.nodes import CollectionNode

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _refused(
                "has an alias that refers to the value holding it",
                node.start_mark,
                "write the values out without & anchors and * aliases",
            )
        if not isinstance(node, CollectionNode):
            sizes[key] = 1
            return 1
        open_nodes.add(key)
        children = node.value
        if isinstance(children, list) and children and isinstance(children[0], tuple):
            total = 1 + sum(size(k) + size(v) for k, v in children)
        else:
            total = 1 + sum(size(child) for child in children)
        open_nodes.discard(key)
        if total > MAX_NODES:
            raise YamlFileError(
                source,
                f"the {what} expands to more than {MAX_NODES:,} values through its aliases "
                "(a file built to exhaust memory)",
                line=node.start_mark.line + 1,
                col=node.start_mark.column + 1,
                hint="write the values out without & anchors and * aliases",
            )
        sizes[key] = total
        return total

    size(root)


_LOADER: Any = None


def _loader_class() -> Any:
    """A SafeLoader that counts aliases and refuses duplicate keys (built once, lazily,
    so that importing this module does not import yaml)."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml
    from yaml.events import AliasEvent

    class Loader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise _refused(
                        f"uses more than {MAX_ALIASES} * aliases",
                        self.peek_event().start_mark,
                        "write the values out without & anchors and * aliases",
                    )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    raise _refused(
                        "has a key that is a list or a mapping",
                        key_node.start_mark,
                        "a key is a single word or value",
                    ) from None
                if duplicate:
                    raise _refused(
                        f"writes the key {_shown_key(key_node)} twice in the same section",
                        key_node.start_mark,
                        "keep one of them (YAML reads Yes, yes and true as the same key)",
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    _LOADER = Loader
    return Loader


def _shown_key(node: Any) -> str:
    """The key as written in the file (configuration, so safe to repeat), when short."""
    text = str(node.value) if isinstance(node.value, str) else ""
    return f"'{text}'" if text and len(text) <= 60 and text.isprintable() else "here"
