"""`kesu`: one command for running, feeding and checking the complaint-monitoring service."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import BinaryIO

import click
from pydantic import ValidationError

from kesu.settings import Settings
from streams.records import Source


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings (KESU_* variables or .env):\n{exc}") from exc


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM both mean "stop cleanly" (set explicitly: a background job inherits
    SIGINT as ignored)."""
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="kesu")
def cli() -> None:
    """客诉 kesu — real-time complaint monitoring on Kafka.

    \b
    Quick start:
      kesu run          broker + worker + API on this machine (Ctrl-C stops all)
      kesu demo         stream the sample feed into the running service
    Settings come from KESU_* environment variables or a .env file: `kesu settings`.
    """


@cli.command()
@click.option(
    "--port",
    type=int,
    default=None,
    help="Client port (default: KESU_EMBEDDED_KAFKA_PORT; 0 = free port).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the broker keeps its log (default: <KESU_DATA_DIR>/kafka).",
)
@click.option(
    "--fresh", is_flag=True, help="Delete the broker's data first (all topics and offsets)."
)
def broker(port: int | None, data_dir: Path | None, fresh: bool) -> None:
    """Run the embedded single-node Kafka broker in the foreground."""
    from kesu.broker import BrokerError, LocalKafka

    settings = _settings()
    directory = data_dir or settings.kafka_state_dir
    if fresh and directory.exists():
        shutil.rmtree(directory)
    local = LocalKafka(
        directory,
        port=settings.embedded_kafka_port if port is None else port,
        heap=settings.embedded_kafka_heap,
        progress=lambda line: click.echo(line, err=True),
    )
    _stop_on_signals()
    started = time.monotonic()
    try:
        address = local.start()
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Kafka {address.kafka_version} ready on {address.bootstrap} in {time.monotonic() - started:.1f} s "
        f"(pid {address.pid}, data {directory}). Ctrl-C stops it."
    )
    try:
        while local.process is not None and local.process.poll() is None:
            time.sleep(0.5)
        click.echo(f"the broker exited unexpectedly; see {local.log_path}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("stopping the broker…", err=True)
    finally:
        local.stop()


@cli.command()
def topics() -> None:
    """Create kesu's topics on the configured Kafka (idempotent) and list them."""
    from kesu.kafka_config import KafkaNotConfigured
    from kesu.topic_admin import TopicMismatch, ensure_topics
    from streams.topics import ALL_TOPICS

    settings = _settings()
    try:
        created = ensure_topics(settings)
    except (KafkaNotConfigured, TopicMismatch) as exc:
        raise click.ClickException(str(exc)) from exc
    for spec in ALL_TOPICS:
        name = spec.name(settings.namespace)
        mark = "created" if name in created else "exists "
        retention = f"{spec.retention.days} d" if spec.retention else "forever"
        click.echo(
            f"{mark}  {name:<28} partitions={spec.partition_count(settings.pipeline_partitions)}  retention={retention}"
        )


@cli.command()
def worker() -> None:
    """Run the stream-processing worker (Faust agents) in the foreground."""
    from kesu.kafka_config import KafkaNotConfigured
    from kesu.topic_admin import TopicMismatch
    from kesu.worker import run_worker

    try:
        run_worker(_settings())
    except (KafkaNotConfigured, TopicMismatch) as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
def notifier() -> None:
    """Run the notifier (webhook and chat-robot pushes) in the foreground."""
    from kesu.kafka_config import KafkaNotConfigured
    from kesu.notifier import run_notifier

    try:
        run_notifier(_settings())
    except KafkaNotConfigured as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
def api() -> None:
    """Run the HTTP API (ingestion, health, metrics) in the foreground."""
    import uvicorn

    from api.app import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
        proxy_headers=False,
        loop="asyncio",  # uvicorn would pick uvloop, installed for the worker; not measured here
    )


@cli.command()
@click.option(
    "--source",
    "source_name",
    required=True,
    type=click.Choice([s.value for s in Source]),
    help="Which upstream the events come from (selects the raw topic).",
)
@click.option("--check", is_flag=True, help="Validate every line locally and publish nothing.")
@click.argument("file", type=click.File("rb"))
def publish(source_name: str, check: bool, file: BinaryIO) -> None:
    """Publish a JSON-lines FILE (one event per line; - for stdin) to Kafka with kafka-python.

    Lines are sent as they are and keyed by their event_id; the worker validates them and
    dead-letters what is wrong. Exits non-zero if any line was not acknowledged by Kafka
    (or, with --check, if any line is invalid).
    """
    from kesu.kafka_config import KafkaNotConfigured
    from kesu.publish import check_lines, publish_lines

    settings = _settings()
    source = Source(source_name)
    if check:
        report = check_lines(source, file, settings)
        for number, problem in report.invalid:
            click.echo(f"line {number}: {problem}", err=True)
        click.echo(f"{report.acknowledged} valid, {len(report.invalid)} invalid")
        sys.exit(1 if report.invalid else 0)
    try:
        report = publish_lines(
            source, file, settings, progress=lambda n: click.echo(f"sent {n}…", err=True)
        )
    except KafkaNotConfigured as exc:
        raise click.ClickException(str(exc)) from exc
    for number, problem in report.failed:
        click.echo(f"line {number}: not acknowledged ({problem})", err=True)
    topic = f"{settings.namespace}.raw.{source.value}"
    click.echo(f"{report.acknowledged}/{report.sent} events acknowledged by Kafka on {topic}")
    sys.exit(1 if report.failed else 0)


@cli.command()
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1, max=10_000),
    default=10.0,
    show_default=True,
    help="Events per second.",
)
@click.option(
    "--via",
    type=click.Choice(["kafka", "http"]),
    default="kafka",
    show_default=True,
    help="Publish straight to Kafka, or through the API's POST /v1/events/{source}.",
)
@click.option(
    "--api-url",
    default=None,
    help="API base URL for --via http (default: from KESU_API_HOST/PORT).",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Send only the first N events."
)
@click.option(
    "--replay",
    is_flag=True,
    help="Keep the feed's original ids (a second run is then de-duplicated).",
)
@click.option(
    "--api-key",
    envvar="KESU_API_KEY",
    default=None,
    help="Ingest key for --via http (default: the local key `kesu run` created).",
)
def demo(
    rate: float, via: str, api_url: str | None, limit: int | None, replay: bool, api_key: str | None
) -> None:
    """Stream the bundled sample feed (~300 Chinese events) into the running service."""
    from kesu.demo import HttpSender, KafkaSender, load_feed, run_demo
    from kesu.kafka_config import KafkaNotConfigured

    settings = _settings()
    items = load_feed()[:limit]
    try:
        sender = (
            KafkaSender(settings)
            if via == "kafka"
            else HttpSender(api_url or settings.base_url, api_key or _local_ingest_key(settings))
        )
    except KafkaNotConfigured as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Sending {len(items)} events via {via} at {rate:g}/s (about {len(items) / rate:.0f} s)…"
    )
    sent = run_demo(
        sender,
        items,
        rate=rate,
        replay=replay,
        progress=lambda n, by_source: click.echo(f"  {n}/{len(items)} sent ({_counts(by_source)})"),
    )
    click.echo(f"Done: {sum(sent.values())} events ({_counts(sent)}).")
    _report_worker(settings, sum(sent.values()))


def _report_worker(settings: Settings, sent: int) -> None:
    """What the worker made of it, read from its metrics (it counts since its own start)."""
    from kesu.demo import worker_totals

    if not settings.worker_metrics_port:
        return
    url = f"http://{settings.api_host}:{settings.worker_metrics_port}/metrics"
    totals, deadline = None, time.monotonic() + 15
    while time.monotonic() < deadline:  # a busy worker may answer late, or count late
        totals = worker_totals(url) or totals
        if totals is not None and sum(totals.values()) >= sent:
            break
        time.sleep(0.5)
    if totals is None:
        click.echo(f"(worker metrics not reachable at {url}; is `kesu run` up?)")
        return
    click.echo(
        "Worker totals since it started: "
        f"{totals.get('clean', 0):.0f} clean, {totals.get('duplicate', 0):.0f} duplicates, "
        f"{totals.get('dead_letter', 0):.0f} dead-lettered — details at {url}"
    )


def _local_ingest_key(settings: Settings) -> str:
    from api.auth import Role
    from kesu.local_keys import local_key

    key = local_key(settings, Role.INGEST)
    if key is None:
        raise click.ClickException(
            "--via http needs an ingest key: --api-key or KESU_API_KEY (`kesu keys add NAME --role ingest`)"
        )
    return key


def _counts(counter: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items()))


@cli.command()
@click.option(
    "--channel",
    type=click.Choice([s.value for s in Source]),
    default="call",
    show_default=True,
    help="Channel assumed for plain-text lines (JSON lines may carry their own).",
)
def score(channel: str) -> None:
    """Score texts from stdin: JSON lines {"id", "text", "channel"} or plain text lines.

    Writes one JSON line per input with polarity, negative, intensity, emotion, category,
    threats, keywords and masked_text — the same code path as the worker.
    """
    from kesu.score_cmd import score_lines

    score_lines(sys.stdin.buffer, sys.stdout, default_channel=Source(channel))


@cli.command()
def run() -> None:
    """Start the whole service here: Kafka (embedded unless KESU_KAFKA_BOOTSTRAP), worker, notifier, API.

    The first run fetches the Kafka jars from Maven Central; later runs reuse them and the
    data in KESU_DATA_DIR. Ctrl-C stops everything.
    """
    from kesu.broker import BrokerError
    from kesu.local_keys import ensure_local_keys
    from kesu.supervisor import Supervisor

    settings = _settings()
    local_keys = ensure_local_keys(settings)
    supervisor = Supervisor(settings, echo=click.echo)
    _stop_on_signals()
    code = 0
    try:
        seconds = supervisor.start()
        base = settings.base_url
        dashboard = (
            f"{base}/#key={local_keys['admin']}"
            if local_keys and "admin" in local_keys
            else f"{base}/"
        )
        click.echo(
            f"\n客诉 kesu ready in {seconds:.1f} s\n"
            f"  dashboard     {dashboard}\n"
            f"  API docs      {base}/docs\n"
            f"  ingestion     POST {base}/v1/events/{{call|social|logistics|activity}}\n"
            f"  API metrics   {base}/metrics (worker :{settings.worker_metrics_port}, "
            f"notifier :{settings.notifier_metrics_port})\n"
            f"  logs          {settings.data_dir / 'logs'}\n"
            f"  API keys      `kesu keys list`; local keys in {settings.data_dir / 'local-keys.json'}\n"
            f"Try it: `kesu demo` in another terminal. Ctrl-C stops everything.\n"
        )
        code = supervisor.wait()
    except KeyboardInterrupt:
        click.echo("\nCtrl-C: stopping…")
    except (BrokerError, RuntimeError, OSError) as exc:
        click.echo(f"✗ {exc}", err=True)
        code = 1
    finally:
        supervisor.stop()
    sys.exit(code)


@cli.command()
@click.option(
    "--check", is_flag=True, help="Exit non-zero if the committed schemas differ from the records."
)
def schemas(check: bool) -> None:
    """Write the JSON Schemas of the upstream records to streams/schemas/ (for upstream teams)."""
    from streams.schema_export import SCHEMA_DIR, drifted, write

    if check:
        stale = drifted()
        for name in stale:
            click.echo(f"out of date: {SCHEMA_DIR / name}", err=True)
        sys.exit(1 if stale else 0)
    for path in write():
        click.echo(f"wrote {path}")


@cli.group()
def rules() -> None:
    """Check and show the response rules (tiers, SLAs, calendars, compensation)."""


@rules.command("check")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def rules_check(file: Path | None) -> None:
    """Validate a rules FILE (default: the rules in effect, KESU_RULES_FILE or the shipped
    ones); print each problem with the field it is in, exit 1 if any."""
    from datetime import UTC, datetime

    from complaints.rules import DEFAULT_RULES, BusinessHours, RulesError, load_rules

    file = file or _settings().rules_file or DEFAULT_RULES
    try:
        book = load_rules(file)
    except RulesError as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        sys.exit(1)
    this_year = datetime.now(UTC).year
    for name, calendar in book.calendars.items():
        if isinstance(calendar, BusinessHours) and not any(
            d.year == this_year for d in calendar.holidays
        ):
            click.echo(
                f"warning: calendar {name!r} lists no holidays for {this_year}; add this year's 调休 schedule"
            )
    click.echo(
        f"{file}: OK — version {book.version}, {len(book.tier_rules)} tier rules, "
        f"{len(book.calendars)} calendars, {len(book.compensation.rules)} compensation rules"
    )


@rules.command("show")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def rules_show(file: Path | None) -> None:
    """Print the tier rules and SLA targets of FILE (default: the rules in effect)."""
    from complaints.durations import format_duration
    from complaints.rules import RulesError, load_rules

    try:
        book = load_rules(file or _settings().rules_file)
    except RulesError as exc:
        raise click.ClickException("; ".join(exc.problems)) from exc
    click.echo(f"rules version {book.version}")
    for tier, policy in sorted(book.tiers.items()):
        clocks = ", ".join(
            f"{kind.value} {format_duration(rule.target)} ({rule.calendar}, warn at "
            f"{'/'.join(f'{f:.0%}' for f in rule.warn_at)})"
            for kind, rule in policy.clocks.items()
        )
        click.echo(f"  tier {tier} {policy.name}: {clocks or 'no deadline'}")
    click.echo("tier rules (the most urgent match wins):")
    for rule in book.tier_rules:
        tests = ", ".join(
            f"{k}={v}" for k, v in rule.when.model_dump(exclude_none=True, mode="json").items()
        )
        click.echo(f"  {rule.tier}  {rule.id:<22} {tests}")


@cli.group()
def silence() -> None:
    """Silences (maintenance windows): matching alerts are recorded and shown, not pushed."""


@silence.command("add")
@click.argument("matchers", nargs=-1, required=True)
@click.option("--for", "duration", default="2h", show_default=True, help="How long: 30m, 2h, 1d.")
@click.option("-c", "--comment", required=True, help="Why, e.g. 顺丰中转站停运.")
@click.option("--by", default=None, help="Who asks (default: cli:<login name>).")
def silence_add(matchers: tuple[str, ...], duration: str, comment: str, by: str | None) -> None:
    """Silence alerts matching every MATCHER (region=华东-上海, tier!=1, carrier=~顺丰.*)."""
    from datetime import UTC, datetime

    from complaints.durations import parse_duration
    from kesu.silences_cmd import add_silence, default_actor, describe

    span = parse_duration(duration)
    if not hasattr(span, "total_seconds") or span.total_seconds() <= 0:
        raise click.BadParameter("a duration like 30m, 2h or 1d", param_hint="--for")
    now = datetime.now(UTC)
    try:
        created = add_silence(
            _settings(), matchers, duration=span, comment=comment, by=by or default_actor(), now=now
        )
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        raise click.ClickException(f"{where}: {error['msg']}") from None
    click.echo(describe(created, now))


@silence.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also the silences that ended.")
def silence_list(show_all: bool) -> None:
    """List silences (active first)."""
    from datetime import UTC, datetime

    from kesu.silences_cmd import describe, read_silences

    now = datetime.now(UTC)
    found = sorted(
        read_silences(_settings()).values(), key=lambda s: (not s.active(now), s.starts_at)
    )
    shown = [s for s in found if show_all or s.active(now) or now < s.starts_at]
    for item in shown:
        click.echo(describe(item, now))
    if not shown:
        click.echo("no silences" + ("" if show_all else " in effect (--all lists ended ones)"))


@silence.command("expire")
@click.argument("silence_id")
@click.option("--by", default=None, help="Who ends it (default: cli:<login name>).")
def silence_expire(silence_id: str, by: str | None) -> None:
    """End silence SILENCE_ID now (it stays listed, with who ended it)."""
    from datetime import UTC, datetime

    from kesu.silences_cmd import default_actor, describe, expire_silence

    now = datetime.now(UTC)
    try:
        ended = expire_silence(_settings(), silence_id, by=by or default_actor(), now=now)
    except KeyError:
        raise click.ClickException(f"no silence {silence_id}") from None
    click.echo(describe(ended, now))


@cli.group()
def keys() -> None:
    """Manage API keys (stored hashed in KESU_API_KEYS_FILE; each key is shown once)."""


@keys.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["viewer", "operator", "admin", "ingest"]),
    required=True,
    help="viewer: read; operator: + act on alerts; admin: + subscriptions; ingest: publish events.",
)
def keys_add(name: str, role: str) -> None:
    """Create a key called NAME (shown once: store it in your secret manager)."""
    from api.auth import Role, add_key

    settings = _settings()
    try:
        key = add_key(settings.api_keys_path, name, Role(role))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(key)
    click.echo(
        f"(role {role}; its hash is in {settings.api_keys_path}; the key is not stored anywhere)",
        err=True,
    )


@keys.command("list")
def keys_list() -> None:
    """List key names and roles (never the keys)."""
    from api.auth import ROLE_LABELS, load_ring

    for key in load_ring(_settings().api_keys_path).keys:
        click.echo(f"{key.name:<24} {key.role.value:<9} {ROLE_LABELS[key.role]}")


@keys.command("remove")
@click.argument("name")
def keys_remove(name: str) -> None:
    """Revoke the key called NAME (running APIs notice within a request)."""
    from api.auth import remove_key

    if not remove_key(_settings().api_keys_path, name):
        raise click.ClickException(f"no key named {name!r}")
    click.echo(f"removed {name}")


@cli.command("settings")
@click.option(
    "--markdown",
    is_flag=True,
    help="Print the documented defaults as a Markdown table (for the README).",
)
def show_settings(markdown: bool) -> None:
    """Print the effective settings (secrets masked) with what each one is for."""
    from kesu.settings import settings_table

    if markdown:
        click.echo(settings_table())
        return
    settings = _settings()
    values = settings.masked()
    for name, field in Settings.model_fields.items():
        click.echo(f"KESU_{name.upper()}={values[name] if values[name] is not None else ''}")
        click.echo(f"    {field.description}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="kesu")


if __name__ == "__main__":
    main()
