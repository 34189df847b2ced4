"""CPU per order-delay signal of the grouping stage on a busy route, this tree against another
(main's), in alternating processes (issue #17: the machine is shared and noisy, so pairs,
medians and ratios).

The stream: `--orders` orders of one region × carrier delayed two seconds apart, a third of
them cleared again a second later — so a wave opens at the fifth, its members fill to
`grouping.max_members` and the route fills to its bound (5 × that: 1,000 orders with the
shipped rules). Each measuring process runs it through `complaints.group_stage.advance` twice
(the first warms up) and reports CPU time (time.process_time) per signal over the whole
stream and over its last 1,000 signals (a full route and a full wave), and the book's
`changed_parts` as the shell asks it.

    .venv/bin/python bench/ab_waves.py --against /tmp/main-src [--pairs 6] [--orders 3000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # event time only: nothing reads the clock
METRICS = ("all_us", "full_us", "step_us")


def measure(tree: Path, orders: int) -> dict[str, float]:
    """µs per delay signal of the code in `tree` (imported from there)."""
    sys.path.insert(0, str(tree))
    from complaints.group_stage import advance
    from complaints.rules import load_rules
    from streams.records import (
        AlertKind,
        Category,
        DelayDetail,
        ShipmentStatus,
        Signal,
        SignalChange,
    )

    def signal(order: int, at: datetime, change: SignalChange) -> Signal:
        return Signal(
            signal_id=f"dl-{order}-{change.value}",
            case_key=f"customer:w{order}",
            kind=AlertKind.LOGISTICS_DELAY,
            subject=f"SO{order}",
            change=change,
            at=at,
            tier=3,
            rule_id="delay-24-48h",
            title=f"订单 SO{order} 预计延误 30 小时",
            customer_id=f"w{order}",
            order_id=f"SO{order}",
            region="华南-广州",
            carrier="顺达快运",
            category=Category.LOGISTICS,
            delay=DelayDetail(
                status=ShipmentStatus.DELAYED,
                promised_at=at,
                estimated_at=at + timedelta(hours=30),
                delay_hours=30.0,
                bucket="24_48h",
            ),
        )

    rules = load_rules()
    stream = []
    for order in range(orders):
        at = START + timedelta(seconds=2 * order)
        stream.append(signal(order, at, SignalChange.RAISED))
        if order % 3 == 2:
            stream.append(signal(order - 2, at + timedelta(seconds=1), SignalChange.CLEARED))
    out: dict[str, float] = {}
    for _ in range(2):  # the second run counts
        book = None
        spent: list[float] = []
        shell = 0.0
        for item in stream:
            started = time.process_time()
            step = advance(book, item, rules)
            done = time.process_time()
            if book is not None and step.book is not book:
                step.book.changed_parts(book)
            shell += time.process_time() - done
            spent.append(done - started)
            book = step.book
        out["all_us"] = sum(spent) / len(spent) * 1e6
        out["full_us"] = sum(spent[-1000:]) / len(spent[-1000:]) * 1e6
        out["step_us"] = (sum(spent) + shell) / len(spent) * 1e6
    assert book is not None
    out["signals"] = len(stream)
    out["route_orders"] = len(book.routes[0].delayed) if book.routes else 0
    out["wave_members"] = max((len(i.members) for i in book.incidents), default=0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="the other tree (an export of main)")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child: this tree
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.orders)))
        return 0
    if args.against is None:
        parser.error("--against is required")
    sys.path.insert(0, str(REPO))  # the driver only: a measuring process imports its own tree
    from bench.ab_pairs import print_medians, run_pairs

    runs = run_pairs(
        __file__,
        args.against,
        args.pairs,
        ["--orders", str(args.orders)],
        lambda pair, other, this: print(
            f"pair {pair}: full route other {other['full_us']:.1f} · this {this['full_us']:.1f} µs"
        ),
    )
    first = runs["this"][0]
    print(
        f"{first['signals']:.0f} signals; at the end the route holds {first['route_orders']:.0f} "
        f"orders and the wave {first['wave_members']:.0f} members (other: "
        f"{runs['other'][0]['route_orders']:.0f}, {runs['other'][0]['wave_members']:.0f})"
    )
    print(f"medians of {args.pairs} interleaved pairs (µs of CPU per signal; ratio other/this):")
    print_medians(runs, METRICS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
