"""Type stub for the C kernel (``_kernel.c``)."""

from collections.abc import Callable, Iterable
from typing import Any

class Model:
    def __init__(
        self,
        *,
        status: tuple[str, ...],
        uni: dict[tuple[str, str], int],
        uni_total: float,
        uni_none: int,
        bi: dict[tuple[tuple[str, str], tuple[str, str]], int],
        bi_none: int,
        tri: dict[tuple[tuple[str, str], tuple[str, str], tuple[str, str]], int],
        tri_none: int,
        l1: float,
        l2: float,
        l3: float,
        lexicon: dict[str, tuple[float, ...] | None],
        priors: tuple[float, ...],
        unknown_terms: tuple[float, ...],
        pos_class: int,
    ) -> None: ...
    def sentiment(self, text: str, /) -> float: ...
    def segment(self, text: str, /) -> list[str]: ...
    def log_prob(
        self, s1: tuple[str, str], s2: tuple[str, str], s3: tuple[str, str], /
    ) -> float: ...

class GramTable:
    def __init__(self, orders: tuple[int, ...], weights: dict[str, float], bias: float) -> None: ...
    def logit(self, text: str, /) -> float: ...

class TermTable:
    def __init__(self, terms: Iterable[str], match: Callable[[int, int, str], Any]) -> None: ...
    def find_all(self, text: str, /) -> list[Any]: ...
