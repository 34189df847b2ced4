"""The labels an alert is matched by (inhibit rules, silences, group_by): a flat str -> str map.

Pure. No I/O. Alertmanager matches on labels; kesu alerts are records, so the labels are
derived here, once, from the record: its kind, tier and status, what it is about (category,
emotion, region, carrier, product, sku, batch, channel), the rule, the customer and the case,
a surge's key, and `parent=true` on an incident that lists members. A missing label reads as "".
"""

from __future__ import annotations

from streams.records import LABEL_NAMES, Alert

__all__ = ["LABEL_NAMES", "labels_of"]

#: Surge dimensions that are also labels of their own: a surge on `batch:B2511-07` has batch B2511-07.
_DIMENSION_LABELS = frozenset(
    {"product", "sku", "batch", "category", "region", "carrier", "channel"}
)


def labels_of(alert: Alert) -> dict[str, str]:
    """Every label of `alert` that has a value."""
    labels = {
        "kind": alert.kind.value,
        "tier": str(alert.tier),
        "status": alert.status.value,
        "rule": alert.rule_id,
        "case": alert.case_key,
    }
    optional = {
        "category": alert.category.value if alert.category else None,
        "emotion": alert.emotion.value if alert.emotion else None,
        "region": alert.region,
        "carrier": alert.carrier,
        "product": alert.product,
        "sku": alert.sku,
        "batch": alert.batch,
        "channel": alert.sources[0].value if alert.sources else None,
        "customer": alert.customer_id,
    }
    labels |= {name: value for name, value in optional.items() if value}
    if alert.surge is not None:
        labels["dimension"] = alert.surge.dimension
        labels["key"] = alert.surge.value
        if alert.surge.dimension in _DIMENSION_LABELS:
            labels.setdefault(alert.surge.dimension, alert.surge.value)
    if alert.group is not None:
        labels["parent"] = "true"
    return labels
