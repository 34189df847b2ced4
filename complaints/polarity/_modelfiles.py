"""Reads snownlp 0.12.3's own model files into plain tables, exactly as snownlp loads them.

The only module of the package that does I/O, and only when a model is loaded (never while
scoring). It finds the installed snownlp package without importing it (importing snownlp
loads all of its models, about 2 s and several hundred MB), and reads three files:
``seg/seg.marshal.3`` (the character-based segmenter), ``sentiment/sentiment.marshal.3`` (the
2-class Bayes) and ``normal/stopwords.txt``. The returned dicts are never mutated.
"""

from __future__ import annotations

import gc
import gzip
import importlib.util
import marshal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Key of the one sentence-start token in the segmenter's tables (snownlp's ``('', 'BOS')``).
BOS: tuple[str, str] = ("", "BOS")


@dataclass(frozen=True)
class SegTables:
    """snownlp's ``CharacterBasedGenerativeModel``: trigram counts over (char, tag) tokens."""

    status: tuple[str, ...]
    l1: float
    l2: float
    l3: float
    uni: dict[tuple[str, str], int]
    uni_total: float
    uni_none: int
    bi: dict[tuple[tuple[str, str], tuple[str, str]], int]
    bi_none: int
    tri: dict[tuple[tuple[str, str], tuple[str, str], tuple[str, str]], int]
    tri_none: int


@dataclass(frozen=True)
class BayesClass:
    """One class of snownlp's ``Bayes``: an ``AddOneProb`` of word counts."""

    label: str
    counts: dict[str, int]
    total: float
    none: int


@dataclass(frozen=True)
class SnowModel:
    """Everything ``SnowNLP(text).sentiments`` reads, in snownlp's own iteration order."""

    seg: SegTables
    classes: tuple[BayesClass, ...]
    bayes_total: float
    stopwords: frozenset[str]


def snownlp_dir() -> Path:
    """Directory of the installed snownlp package (found without importing it)."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("snownlp is not installed; complaints.polarity reads its model")
    return Path(next(iter(spec.submodule_search_locations)))


def load_snow_model() -> SnowModel:
    """Read snownlp's segmenter, sentiment classifier and stop words (about 1.5 s)."""
    base = snownlp_dir()
    seg = _read_marshal(base / "seg" / "seg.marshal.3")
    senti = _read_marshal(base / "sentiment" / "sentiment.marshal.3")
    return SnowModel(
        seg=SegTables(
            status=tuple(seg["status"]),
            l1=seg["l1"],
            l2=seg["l2"],
            l3=seg["l3"],
            uni=seg["uni"]["d"],
            uni_total=seg["uni"]["total"],
            uni_none=seg["uni"]["none"],
            bi=seg["bi"]["d"],
            bi_none=seg["bi"]["none"],
            tri=seg["tri"]["d"],
            tri_none=seg["tri"]["none"],
        ),
        classes=tuple(
            BayesClass(label=label, counts=v["d"], total=v["total"], none=v["none"])
            for label, v in senti["d"].items()
        ),
        bayes_total=senti["total"],
        stopwords=read_stopwords(base),
    )


def _read_marshal(path: Path) -> Any:
    # snownlp's load(): gzip first, the raw file if it is not gzip.
    raw = path.read_bytes()
    try:
        data = gzip.decompress(raw)
    except gzip.BadGzipFile:
        data = raw
    with gc_paused():
        return marshal.loads(data)  # noqa: S302 - snownlp's own installed model file


def read_stopwords(base: Path | None = None) -> frozenset[str]:
    """snownlp's ``normal.stop``: the stripped lines of ``normal/stopwords.txt``."""
    # snownlp iterates codecs.open(path, 'r', 'utf-8'): lines end at every str.splitlines()
    # boundary, not only at "\n", and a BOM would be kept.
    path = (base or snownlp_dir()) / "normal" / "stopwords.txt"
    text = path.read_bytes().decode("utf-8")
    return frozenset(line.strip() for line in text.splitlines())


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector while building the model's large acyclic tables.

    marshal.loads creates ~1.3M tuples and every later allocation burst would rescan them all
    (0.3 s per full collection); nothing cyclic is created, so nothing leaks meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
