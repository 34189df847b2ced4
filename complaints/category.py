"""Decides what a text is about: the complaint category (categories.yaml), helped by the product
and fee nouns of each domain (domains.yaml) and by the grievances found (grievances.yaml).

Pure. Each category sums the weights of its cue words found (more after a turn of the
sentence, less before it; negation does not matter: 没发货 is still about logistics), of the
domain nouns (a product names 产品质量, a fee names 价格, below the explicit cue words) and of the
grievances (钱被扣 is 价格); the largest total wins if it reaches `min_score`, ties go to the
earlier entry of `tie_order`, and a text with no cue is `other`. The domain whose nouns appear
most often is reported as a cue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from complaints.cuecache import cue as make_cue
from complaints.lexicon import CategoryCues, DomainNouns, NounKind
from complaints.matching import Context, Match, longest
from streams.records import Category, Cue


class CategoryVerdict(NamedTuple):
    category: Category
    score: float
    cues: tuple[Cue, ...]  # the words of the chosen category, kind "category"; the domain, if any


def decide_category(
    ctx: Context,
    matches: list[Match],
    cues_by_term: dict[str, dict[Category, float]],
    layer: frozenset[str],
    rules: CategoryCues,
    nouns: Mapping[str, Mapping[str, NounKind]],
    domains: DomainNouns,
    grievances: tuple[tuple[Cue, Mapping[Category, float]], ...] = (),
    complaint: bool = True,
) -> CategoryVerdict:
    """The category of `ctx.text` and the words that decided it.

    Args:
        cues_by_term: categories.yaml's words; `nouns`: domains.yaml's, term -> domain -> kind.
        grievances: each grievance found, with its category weights.
        complaint: False for a request: its product nouns do not count (我想把信用卡的账单日改到
            五号 is no quality problem); fee nouns always do (请问违约金多少 is about price).
    """
    scores = dict.fromkeys(rules.tie_order, 0.0)
    words: dict[Category, list[tuple[str, float]]] = {c: [] for c in rules.tie_order}
    per_domain: dict[str, int] = {}
    for m in longest(matches, layer):
        factor = ctx.contrast_at(m.start)
        weights: dict[Category, float] = cues_by_term.get(m.term) or {}
        if not weights and m.term in nouns:
            named = nouns[m.term]
            for domain in named:
                per_domain[domain] = per_domain.get(domain, 0) + 1
            for kind in sorted(set(named.values())):
                if complaint or kind != "product":
                    scale = 1.0 if complaint else domains.request_fee_factor
                    for category, weight in domains.kinds.get(kind, {}).items():
                        weights[category] = max(weights.get(category, 0.0), weight * scale)
        for category, weight in weights.items():
            scores[category] += weight * factor
            words[category].append((m.term, weight * factor))
    for cue, extra in grievances:
        for category, weight in extra.items():
            scores[category] += weight
            words[category].append((cue.term, weight))
    domain_cue = _domain_cue(per_domain, domains)
    best = max(rules.tie_order, key=lambda c: scores[c])  # first in tie_order wins ties
    if scores[best] < rules.min_score or scores[best] == 0:
        return CategoryVerdict(Category.OTHER, 0.0, domain_cue)
    cues = tuple(
        make_cue(kind="category", term=t, label=best.value, weight=round(w, 3))
        for t, w in words[best]
    )
    return CategoryVerdict(best, scores[best], cues + domain_cue)


def _domain_cue(per_domain: dict[str, int], domains: DomainNouns) -> tuple[Cue, ...]:
    if not per_domain:
        return ()
    order = list(domains.domains)
    name = max(per_domain, key=lambda d: (per_domain[d], -order.index(d)))
    return (
        make_cue(
            kind="domain",
            term=domains.domains[name].label,
            label=name,
            weight=float(per_domain[name]),
        ),
    )
