"""Measures complaint understanding on the team's own set (bench/understanding/*.tsv, issue #18):
intent, negative or not, emotion type, category, demands and escalation (threats + demands), and
whether an enquiry or a request would open an alert under the shipped tier rules.

``make eval`` prints both splits beside the public sets (bench/eval_scorer.py). The *dev* split
is the only one cues and thresholds may be tuned on; ``--misses dev`` lists its errors. The
*holdout* split is reported, never tuned on (``--misses holdout`` exists for looking at a change
after it is final, and says so).

    .venv/bin/python bench/eval_understanding.py [--split dev|holdout|both] [--misses dev]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from complaints.rules import load_rules  # noqa: E402
from complaints.scoring import score_text  # noqa: E402
from complaints.tiers import assign_tier  # noqa: E402
from streams.records import AssessedEvent, Assessment, Source  # noqa: E402

DIR = REPO / "bench" / "understanding"
SPLITS = ("dev", "holdout")
ASKS = frozenset({"enquiry", "request"})
#: The issue's goals on the held-out split.
GOALS = (
    ("enquiry/request precision", "ask_precision", 0.95),
    ("enquiries/requests opening no alert", "ask_quiet", 0.95),
    ("emotion accuracy", "emotion", 0.80),
    ("category accuracy", "category", 0.80),
    ("demand recall", "demand_recall", 0.90),
)
#: A fixed moment for the tier check (the rules do not read the clock for a single contact).
_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_RULES = load_rules()


@dataclass(frozen=True)
class Case:
    domain: str
    intent: str
    emotion: str
    category: str
    demand: bool
    threat: bool
    text: str

    @property
    def channel(self) -> Source:
        return Source.CALL if self.domain == "call" else Source.SOCIAL

    @property
    def negative(self) -> bool:
        return self.intent == "complaint"


def read_split(name: str) -> list[Case]:
    """The cases of one split (comment lines and the header skipped)."""
    cases = []
    for line in (DIR / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("domain\t"):
            continue
        domain, intent, emotion, category, demand, threat, text = line.split("\t")
        cases.append(
            Case(
                domain,
                intent,
                emotion,
                category,
                demand == "1",
                threat == "1",
                text.replace("\\n", "\n"),
            )
        )
    return cases


def intent_of(a: Assessment) -> str:
    """The scorer's intent (scorers before issue #18 had none: read it off negative/emotion)."""
    value = getattr(a, "intent", None)
    if value is not None:
        return str(value)
    if a.negative:
        return "complaint"
    return "praise" if a.emotion == "positive" else "other"


def demands_of(a: Assessment) -> tuple[str, ...]:
    return tuple(getattr(a, "demands", ()))


def opens_alert(a: Assessment, n: int, channel: Source) -> bool:
    """Whether the shipped tier rules give this contact a tier (i.e. it would open an alert)."""
    event = AssessedEvent(
        assessment_id=f"eval:{n}",
        case_key=f"customer:eval-{n}",
        source=channel,
        event_id=f"eval-{n}",
        occurred_at=_AT,
        assessment=a,
    )
    return assign_tier(event, _RULES) is not None


@dataclass
class Result:
    cases: list[Case]
    assessments: list[Assessment]
    alerts: list[bool]

    def metrics(self) -> dict[str, float]:
        pairs = list(zip(self.cases, self.assessments, strict=True))
        n = len(pairs)
        said_ask = [(c, a) for c, a in pairs if intent_of(a) in ASKS]
        asks = [
            (c, alert) for c, alert in zip(self.cases, self.alerts, strict=True) if c.intent in ASKS
        ]
        demanded = [(c, a) for c, a in pairs if c.demand]
        flagged = [(c, a) for c, a in pairs if demands_of(a)]
        escalations = [(c, a) for c, a in pairs if c.demand or c.threat]
        return {
            "n": n,
            "intent": sum(intent_of(a) == c.intent for c, a in pairs) / n,
            "negative": sum(a.negative == c.negative for c, a in pairs) / n,
            "emotion": sum(a.emotion == c.emotion for c, a in pairs) / n,
            "category": sum(a.category == c.category for c, a in pairs) / n,
            "ask_precision": _share(sum(c.intent in ASKS for c, _ in said_ask), len(said_ask)),
            "ask_recall": _share(
                len(said_ask) - sum(c.intent not in ASKS for c, _ in said_ask), len(asks)
            ),
            "ask_quiet": _share(sum(not alert for _, alert in asks), len(asks)),
            "asks": len(asks),
            "demand_recall": _share(sum(bool(demands_of(a)) for _, a in demanded), len(demanded)),
            "demand_precision": _share(sum(c.demand for c, _ in flagged), len(flagged)),
            "demands": len(demanded),
            "escalation_recall": _share(
                sum(bool(a.threats or demands_of(a)) for _, a in escalations), len(escalations)
            ),
            "escalations": len(escalations),
            "complaint_alerts": _share(
                sum(alert for c, alert in zip(self.cases, self.alerts, strict=True) if c.negative),
                sum(c.negative for c in self.cases),
            ),
        }


def _share(k: float, n: int) -> float:
    return k / n if n else float("nan")


def run(cases: Sequence[Case], score: Callable[[Case], Assessment] | None = None) -> Result:
    scorer = score or (lambda c: score_text(c.text, c.channel))
    assessments = [scorer(c) for c in cases]
    alerts = [
        opens_alert(a, k, c.channel)
        for k, (c, a) in enumerate(zip(cases, assessments, strict=True))
    ]
    return Result(list(cases), assessments, alerts)


def report(name: str, result: Result) -> dict[str, float]:
    m = result.metrics()
    tuned = "tuned on" if name == "dev" else "NEVER tuned on"
    print(f"\nkesu complaint-understanding set — {name} split ({int(m['n'])} texts; {tuned})")
    print(f"  intent accuracy (5 kinds)              {m['intent']:.4f}")
    print(f"  negative / not accuracy                {m['negative']:.4f}")
    print(f"  emotion accuracy (7 types)             {m['emotion']:.4f}")
    print(f"  category accuracy (8)                  {m['category']:.4f}")
    print(
        f"  enquiry/request precision              {m['ask_precision']:.4f}"
        f"   (recall {m['ask_recall']:.4f} of {int(m['asks'])})"
    )
    print(f"  enquiries/requests opening no alert    {m['ask_quiet']:.4f}")
    print(
        f"  demand recall                          {m['demand_recall']:.4f}"
        f"   (of {int(m['demands'])}; precision {m['demand_precision']:.4f})"
    )
    print(
        f"  escalation recall (threats + demands)  {m['escalation_recall']:.4f}"
        f"   (of {int(m['escalations'])})"
    )
    print(f"  complaints opening an alert            {m['complaint_alerts']:.4f}")
    confusion = Counter(
        (c.emotion, str(a.emotion)) for c, a in zip(result.cases, result.assessments, strict=True)
    )
    labels = ("anger", "disappointment", "apathy", "anxiety", "helplessness", "neutral", "positive")
    print("  emotion confusion (rows: label; columns: ours)")
    print("    " + f"{'':14}" + "".join(f"{x[:7]:>8}" for x in labels))
    for row in labels:
        print("    " + f"{row:14}" + "".join(f"{confusion[(row, col)]:8d}" for col in labels))
    return m


def misses(result: Result) -> None:
    for c, a, alert in zip(result.cases, result.assessments, result.alerts, strict=True):
        wrong = []
        if intent_of(a) != c.intent:
            wrong.append(f"intent {intent_of(a)}≠{c.intent}")
        if a.emotion != c.emotion:
            wrong.append(f"emotion {a.emotion}≠{c.emotion}")
        if a.category != c.category:
            wrong.append(f"category {a.category}≠{c.category}")
        if bool(demands_of(a)) != c.demand:
            wrong.append(f"demand {list(demands_of(a))}≠{int(c.demand)}")
        if bool(a.threats) != c.threat:
            wrong.append(f"threat {list(a.threats)}≠{int(c.threat)}")
        if c.intent in ASKS and alert:
            wrong.append("ask opens an alert")
        if wrong:
            print(
                f"  {c.text.replace(chr(10), ' / ')}\n      {'; '.join(wrong)}  (neg {a.negativity:.2f})"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=(*SPLITS, "both"), default="both")
    parser.add_argument("--misses", choices=SPLITS, help="list the errors of one split")
    args = parser.parse_args()
    for name in SPLITS if args.split == "both" else (args.split,):
        result = run(read_split(name))
        report(name, result)
        if args.misses == name:
            if name == "holdout":
                print("  (holdout misses: for reading a final change only, never for tuning)")
            misses(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
