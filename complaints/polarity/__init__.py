"""Polarity of Chinese text, exactly ``snownlp.SnowNLP(text).sentiments`` (0 negative, 1 positive).

The same float (equal with ``==``) for every ``str``, computed by a compiled kernel over the
model tables of the installed snownlp 0.12.3, or by an exact pure-Python port when the kernel
is not built (``KERNEL`` says which). Deterministic; scoring does no I/O and changes no state.

One deliberate difference: ``SnowNLP("")`` raises ZeroDivisionError (its unrelated BM25 set-up
divides by the number of characters), while ``sentiment("")`` returns what snownlp's own
classifier returns for no words, the class prior ``snownlp.sentiment.classify("")`` =
0.5262327818078083, which is also ``SnowNLP(" ").sentiments``.

Loading reads snownlp's model files (about 2-3 s; call ``preload()`` at worker start, otherwise
the first ``sentiment`` call loads them).
"""

from __future__ import annotations

from complaints.polarity._backends import KERNEL, scorer

__all__ = ["KERNEL", "preload", "sentiment"]


def sentiment(text: str) -> float:
    """Polarity of ``text`` in [0, 1], identical to ``SnowNLP(text).sentiments``."""
    return scorer()(text)


def preload() -> None:
    """Load the model tables of the active path now instead of on the first ``sentiment`` call."""
    scorer()
