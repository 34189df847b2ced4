"""Picks the scoring path (C kernel or pure Python) and loads each path's model once, lazily.

The loaded engines are the only state of the package: built on first use (or by ``preload``)
under a lock, never changed afterwards, and read-only while scoring.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final, Literal, Protocol

from complaints.polarity._modelfiles import gc_paused, load_snow_model

try:  # importing the extension is cheap; its model is built only on first use
    from complaints.polarity import _kernel  # noqa: F401 - only whether it imports matters
except ImportError:  # not built, or built for another interpreter
    _HAS_KERNEL = False
else:
    _HAS_KERNEL = True

Kind = Literal["c", "python"]

#: The path ``sentiment`` uses: "c" when the kernel is importable, else "python".
KERNEL: Final[Kind] = "c" if _HAS_KERNEL else "python"
#: Every path that can run here (tests and the benchmark compare them).
AVAILABLE: Final[tuple[Kind, ...]] = ("c", "python") if _HAS_KERNEL else ("python",)


class Engine(Protocol):
    """What both paths offer: the score, and the words it is computed from."""

    def sentiment(self, text: str, /) -> float: ...

    def segment(self, text: str, /) -> list[str]: ...


_lock = threading.Lock()
_engines: dict[Kind, Engine] = {}


def engine(kind: Kind = KERNEL) -> Engine:
    """The engine of one path, loading its model on first use."""
    found = _engines.get(kind)
    if found is not None:
        return found
    with _lock:
        found = _engines.get(kind)
        if found is None:
            found = _build(kind)
            _engines[kind] = found
        return found


def scorer(kind: Kind = KERNEL) -> Callable[[str], float]:
    """The text -> polarity function of one path, loading its model on first use."""
    return engine(kind).sentiment


def _build(kind: Kind) -> Engine:
    if kind not in AVAILABLE:
        raise ValueError(f"scoring path {kind!r} is not available here (have {AVAILABLE})")
    with gc_paused():
        model = load_snow_model()
        if kind == "c":
            from complaints.polarity._cbuild import build_c_model

            return build_c_model(model)
        from complaints.polarity._pyport import PythonScorer

        return PythonScorer(model)
