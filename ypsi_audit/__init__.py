"""ypsi-audit: check how youth-produced sexual imagery incidents were handled, in bulk.

The public functions are imported lazily so that `ypsi-audit --help` does not pay for
pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "assess", "load_incidents", "load_policy"]

if TYPE_CHECKING:  # pragma: no cover
    from .engine import assess
    from .loading import load_incidents
    from .policy import load_policy

_LAZY = {"assess": "engine", "load_incidents": "loading", "load_policy": "policy"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'ypsi_audit' has no attribute {name!r}")
