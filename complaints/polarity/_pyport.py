"""Pure-Python exact port of ``snownlp.SnowNLP(text).sentiments`` (the fallback path).

Used when the C kernel is not importable, and as the readable reference for ``_kernel.c``.
It reproduces snownlp 0.12.3 (MIT licence) step by step:

1. ``snownlp.seg.seg``: split on runs of U+4E00..U+9FA5; other runs are split on whitespace;
   each run of those characters goes through the character-based Viterbi segmenter
   (``seg/y09_2047.py``: ``tag`` and ``log_prob``; ``seg/seg.py``: tags to words);
2. ``normal.filter_stop``;
3. ``classification/bayes.py``: ``Bayes.classify`` with add-one frequencies.

Same floating-point operations in the same order, same iteration order (status order, then the
previous stage's insertion order), strict ``>`` tie-breaks, and the unknown-character branch
that overwrites states without comparing. What changed is only the bookkeeping: backpointers
instead of copied paths (linear instead of quadratic in the run length) and per-step hoisting
of lookups whose values are identical for every candidate.
"""

from __future__ import annotations

import re
from math import exp, log

from complaints.polarity._modelfiles import BOS, SnowModel

_RE_ZH = re.compile("([\u4e00-\u9fa5]+)")
_NEG_INF = float("-inf")
#: Tag index meaning "the sentence-start token" in a state (the real tags are 0..3).
_BOS_TAG = -1


class PythonScorer:
    """Scores texts exactly like ``SnowNLP(text).sentiments``, in pure Python."""

    def __init__(self, model: SnowModel) -> None:
        self._model = model
        seg = model.seg
        self._status = seg.status
        self._n_status = len(seg.status)

    def sentiment(self, text: str, /) -> float:
        """Polarity in [0, 1] (0 = negative); for ``""`` the class prior, as for ``" "``."""
        return self.classify(self.words(text))

    def words(self, text: str) -> list[str]:
        """The words the classifier sees: ``normal.filter_stop(seg.seg(text))``."""
        stop = self._model.stopwords
        return [w for w in self.segment(text) if w not in stop]

    def segment(self, text: str, /) -> list[str]:
        """Same as ``snownlp.seg.seg(text)``."""
        words: list[str] = []
        for s in _RE_ZH.split(text):
            s = s.strip()
            if not s:
                continue
            if _RE_ZH.match(s):
                words += self._words_of_run(s)
            else:
                for word in s.split():
                    word = word.strip()
                    if word:
                        words.append(word)
        return words

    def classify(self, words: list[str]) -> float:
        """``Sentiment.classify`` after segmentation: ``Bayes.classify``, then P(pos)."""
        m = self._model
        tmp: dict[str, float] = {}
        for c in m.classes:
            tmp[c.label] = log(c.total) - log(m.bayes_total)
            counts, none, total = c.counts, c.none, c.total
            for word in words:
                tmp[c.label] += log(float(counts.get(word, none)) / total)
        ret: str | int = 0
        prob: float = 0
        for c in m.classes:
            now: float = 0
            try:
                for other in m.classes:
                    now += exp(tmp[other.label] - tmp[c.label])
                now = 1 / now
            except OverflowError:
                now = 0
            if now > prob:
                ret, prob = c.label, now
        if ret == "pos":
            return prob
        return 1 - prob

    def _words_of_run(self, run: str) -> list[str]:
        # seg/seg.py Seg.seg: b/s start a word, m extends it, e ends it.
        tags = self.tags(run)
        status = self._status
        out: list[str] = []
        tmp = ""
        for ch, t in zip(run, tags, strict=True):
            tag = status[t]
            if tag == "e":
                out.append(tmp + ch)
                tmp = ""
            elif tag == "b" or tag == "s":
                if tmp:
                    out.append(tmp)
                tmp = ch
            else:
                tmp += ch
        if tmp:
            out.append(tmp)
        return out

    def tags(self, run: str) -> list[int]:
        """Status indices chosen by ``CharacterBasedGenerativeModel.tag`` for each character."""
        seg = self._model.seg
        uni, bi, tri = seg.uni, seg.bi, seg.tri
        uni_none, bi_none, tri_none = seg.uni_none, seg.bi_none, seg.tri_none
        uni_total, l1, l2, l3 = seg.uni_total, seg.l1, seg.l2, seg.l3
        n_status = self._n_status
        # A state is (tag of the previous char, tag of this char, log p); the previous stage's
        # index of its best predecessor is kept per step for the backtrack.
        now_prev: list[int] = [_BOS_TAG]
        now_cur: list[int] = [_BOS_TAG]
        now_p: list[float] = [0.0]
        history: list[tuple[list[int], list[int]]] = []
        toks2: list[tuple[str, str]] = []  # tokens of the previous character, by tag
        toks1: list[tuple[str, str]] = []  # tokens of the character before it
        for w in run:
            toks3 = [(w, s) for s in self._status]
            counts3 = [uni.get(t, uni_none) for t in toks3]
            found = False
            for c in counts3:
                if float(c) / uni_total != 0:  # uni.freq((w, s)) != 0
                    found = True
                    break
            index: dict[tuple[int, int], int] = {}
            st_prev: list[int] = []
            st_cur: list[int] = []
            st_p: list[float] = []
            st_back: list[int] = []
            n_now = len(now_p)
            if not found:
                # Unseen character: every state is overwritten by the last predecessor with
                # the same current tag, with its probability unchanged (no comparison).
                for si in range(n_status):
                    for j in range(n_now):
                        key = (now_cur[j], si)
                        k = index.get(key)
                        if k is None:
                            index[key] = len(st_p)
                            st_prev.append(now_cur[j])
                            st_cur.append(si)
                            st_p.append(now_p[j])
                            st_back.append(j)
                        else:
                            st_p[k] = now_p[j]
                            st_back[k] = j
            else:
                # Per predecessor: its two tokens, uni count of s2 and bi count of (s1, s2).
                t1s = [BOS if t == _BOS_TAG else toks1[t] for t in now_prev]
                t2s = [BOS if t == _BOS_TAG else toks2[t] for t in now_cur]
                c2s = [uni.get(t2, uni_none) for t2 in t2s]
                c12s = [bi.get((t1, t2), bi_none) for t1, t2 in zip(t1s, t2s, strict=True)]
                for si in range(n_status):
                    tok3 = toks3[si]
                    uni_term = l1 * (float(counts3[si]) / uni_total)
                    bi_terms: dict[int, float] = {}  # by the predecessor's current tag
                    for j in range(n_now):
                        cur = now_cur[j]
                        bi_term = bi_terms.get(cur)
                        if bi_term is None:
                            c2 = c2s[j]
                            bi_term = (
                                0 if c2 == 0 else float(l2 * bi.get((t2s[j], tok3), bi_none)) / c2
                            )
                            bi_terms[cur] = bi_term
                        c12 = c12s[j]
                        tri_term = (
                            0
                            if c12 == 0
                            else float(l3 * tri.get((t1s[j], t2s[j], tok3), tri_none)) / c12
                        )
                        total = uni_term + bi_term + tri_term
                        p = now_p[j] + (_NEG_INF if total == 0 else log(total))
                        key = (cur, si)
                        k = index.get(key)
                        if k is None:
                            index[key] = len(st_p)
                            st_prev.append(cur)
                            st_cur.append(si)
                            st_p.append(p)
                            st_back.append(j)
                        elif p > st_p[k]:
                            st_p[k] = p
                            st_back[k] = j
            history.append((st_cur, st_back))
            now_prev, now_cur, now_p = st_prev, st_cur, st_p
            toks1, toks2 = toks2, toks3
        # max(now, key=p): the first maximum wins.
        best = 0
        for k in range(1, len(now_p)):
            if now_p[k] > now_p[best]:
                best = k
        out = [0] * len(run)
        for i in range(len(run) - 1, -1, -1):
            st_cur, st_back = history[i]
            out[i] = st_cur[best]
            best = st_back[best]
        return out
