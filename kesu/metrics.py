"""Prometheus metrics, defined once; the worker and the API each expose the ones they update."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter(
    "kesu_events_total",
    "Upstream events seen by the validator, by source and outcome (clean, duplicate, dead_letter).",
    ["source", "outcome"],
)
DEAD_LETTERS = Counter(
    "kesu_dead_letters_total",
    "Records sent to the dead-letter topic, by reason code.",
    ["reason"],
)
KAFKA_SEND_RETRIES = Counter(
    "kesu_kafka_send_retries_total",
    "Sends to Kafka that failed and were retried, by topic.",
    ["topic"],
)
BATCH_EVENTS = Histogram(
    "kesu_batch_events",
    "Events per batch an agent processed (their outputs confirmed by Kafka together), by agent.",
    ["agent"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
KAFKA_SEND_REFUSED = Counter(
    "kesu_kafka_send_refused_total",
    "Records Kafka can never take (too large for the topic), by topic; sent as something smaller.",
    ["topic"],
)
DUE_ENTRIES_UNREADABLE = Counter(
    "kesu_due_entries_unreadable_total",
    "Table entries a timer could not schedule when rebuilding its due index (logged, skipped).",
    ["timer"],
)
HTTP_INGEST = Counter(
    "kesu_http_ingest_events_total",
    "Events received over HTTP, by source and outcome (accepted, rejected).",
    ["source", "outcome"],
)
HTTP_INGEST_REQUESTS = Counter(
    "kesu_http_ingest_requests_total",
    "Ingestion requests, by HTTP status code.",
    ["status"],
)
PUBLISH_SECONDS = Histogram(
    "kesu_http_publish_seconds",
    "Time from a valid ingestion request to Kafka's acknowledgement of all its events.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONTACTS_ASSESSED = Counter(
    "kesu_contacts_assessed_total",
    "Contacts scored and handed to the response engine, by source, emotion and negativity.",
    ["source", "emotion", "negative"],
)
SCORING_SECONDS = Histogram(
    "kesu_scoring_seconds",
    "Time to turn one upstream record into a scored contact.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
ALERT_TRANSITIONS = Counter(
    "kesu_alert_transitions_total",
    "Alert lifecycle records published, by transition (opened, warned, breached, …) and tier.",
    ["transition", "tier"],
)
ENGINE_SUPPRESSED = Counter(
    "kesu_engine_suppressed_total",
    "Engine inputs that produced no lifecycle record, by reason (duplicate input, no rule, …).",
    ["reason"],
)
TICKS_SENT = Counter("kesu_engine_ticks_total", "Clock ticks sent for cases with something due.")
SURGE_CONTACTS_COUNTED = Counter(
    "kesu_surge_contacts_total",
    "Negative contacts counted toward a surge key, by dimension (product, batch, region, …).",
    ["dimension"],
)
SURGE_SIGNALS = Counter(
    "kesu_surge_signals_total",
    "Surge key reports sent to the grouping stage, by dimension and change (opened, grew, "
    "joined, closed).",
    ["dimension", "change"],
)
GROUPING_STEPS = Counter(
    "kesu_grouping_steps_total",
    "Inputs of the grouping stage (surge reports, order delays), by what they did (opened, "
    "updated, closed, facet, held_new_key, not_a_surge, duplicate, …).",
    ["reason"],
)
SIGNALS_SENT = Counter(
    "kesu_signals_total",
    "Proactive signals sent to the engine, by kind (logistics_delay, churn) and change (raised, cleared).",
    ["kind", "change"],
)
CHECKS_SENT = Counter(
    "kesu_due_checks_total",
    "Checks sent by the due-time timers, by what was checked (orders, customers).",
    ["what"],
)
LOGISTICS_ORDERS = Gauge(
    "kesu_logistics_orders",
    "Orders on the delay map now, by destination region, carrier and state (delayed, exception, lost).",
    ["region", "carrier", "state"],
)
LOGISTICS_DELAY_HOURS = Gauge(
    "kesu_logistics_delay_hours_mean",
    "Mean hours past the promise of the orders on the delay map with a known delay, by region and carrier.",
    ["region", "carrier"],
)

# -- push (the notifier process) -------------------------------------------------------------
PUSH_DELIVERIES = Counter(
    "kesu_push_deliveries_total",
    "Delivery log entries by format and outcome: delivered and dead_lettered once per delivery, "
    "retrying once per scheduled retry, filtered once per subscription an event was not sent to.",
    ["format", "outcome"],
)
PUSH_FAILURES = Counter(
    "kesu_push_failures_total",
    "Failed delivery attempts by format and reason (TIMEOUT, SERVER_ERROR, ROBOT_RATE_LIMITED, ...).",
    ["format", "reason"],
)
PUSH_NOT_ROUTED = Counter(
    "kesu_push_not_routed_total",
    "Subscriptions an alert event was not sent to, by routing reason (DISABLED, TRANSITION, ...).",
    ["reason"],
)
PUSH_SKIPPED = Counter(
    "kesu_push_skipped_total",
    "Deliveries not made again because the delivery log already had their outcome (restart, "
    "re-published lifecycle record).",
)

PUSH_MESSAGES = Counter(
    "kesu_push_messages_total",
    "Messages sent (each attempt once) by subscription and kind: single (one alert's card), "
    "group (one group's alerts), digest (several groups folded under a short budget), reminder.",
    ["subscription", "kind"],
)
PUSH_FOLDED = Counter(
    "kesu_push_folded_total",
    "Alerts carried in another group's message because the subscription's budget was short.",
    ["subscription"],
)
PUSH_SUPPRESSED = Counter(
    "kesu_push_suppressed_total",
    "Pushes held back (the alert is still recorded and shown), by reason: INHIBITED, SILENCED.",
    ["reason"],
)
PUSH_BUDGET_USED = Gauge(
    "kesu_push_budget_used",
    "Messages a subscription sent in the last minute (compare kesu_push_budget_limit).",
    ["subscription"],
)
PUSH_BUDGET_LIMIT = Gauge(
    "kesu_push_budget_limit",
    "Messages a subscription may send per minute (its platform's documented limit, or its "
    "policy's); absent for receivers without a limit.",
    ["subscription"],
)
PUSH_WAITING = Gauge(
    "kesu_push_waiting",
    "Alerts waiting in groups and retries for their message, over every subscription.",
)

# -- the API's view of the system (refreshed periodically by api/gauges.py) -------------------
ALERTS = Gauge(
    "kesu_alerts",
    "Alerts known to the API's view, by tier and status (open, acknowledged, …).",
    ["tier", "status"],
)
CONSUMER_LAG = Gauge(
    "kesu_consumer_lag",
    "Records not yet committed by a consumer group, by group and topic (end offset - committed).",
    ["group", "topic"],
)
CONSUMER_LAG_UPDATED = Gauge(
    "kesu_consumer_lag_updated_timestamp_seconds",
    "When the API last measured consumer lag successfully (Unix time).",
)
