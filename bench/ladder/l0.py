"""Rung L0: the broker's own ceiling, with Kafka's JVM perf tools (context only).

ProducerPerformance writes N records (at least 100,000: fewer measure the JVM's start) of the
corpus's mean size (acks=all) to a 4-partition topic, then ConsumerPerformance reads them back
(its fetch rate, without the group join). The tools live in the `kafka-tools` jar,
which the broker's classpath (deploy/kafka/lib, from deploy/kafka/pom.xml) does not include:
on first use it is fetched from Maven Central into bench/.kafka-tools/ (git-ignored) with
`mvn dependency:copy`, the same version as the broker. Without Maven or a network, L0 is
skipped and the report says why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from kafka.admin import NewTopic

from bench.ladder.cluster import Cluster, fresh_namespace
from bench.ladder.procstat import cpu_seconds
from kesu.broker import KAFKA_DIR, kafka_version

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "bench" / ".kafka-tools"


def tools_jar() -> Path:
    """The kafka-tools jar of the broker's version, fetched once."""
    version = kafka_version()
    jar = TOOLS / f"kafka-tools-{version}.jar"
    if jar.exists():
        return jar
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is needed once to fetch the kafka-tools jar")
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "dependency:copy",
            f"-Dartifact=org.apache.kafka:kafka-tools:{version}",
            f"-DoutputDirectory={TOOLS}",
            f"-Dmaven.repo.local={KAFKA_DIR / '.m2'}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0 or not jar.exists():
        raise RuntimeError(
            f"mvn could not fetch kafka-tools: {(result.stdout + result.stderr)[-500:]}"
        )
    return jar


def _java(jar: Path, *args: str) -> tuple[str, float]:
    """Run a tool; returns its output and the CPU seconds its JVM used."""
    process = subprocess.Popen(
        ["java", "-Xmx256m", "-cp", f"{KAFKA_DIR / 'lib'}/*:{jar}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    cpu = 0.0
    while process.poll() is None:
        try:
            cpu = cpu_seconds(process.pid)
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    output = process.communicate()[0]
    return output, cpu


def measure_l0(cluster: Cluster, records: int, record_size: int) -> dict[str, Any]:
    records = max(records, 100_000)
    try:
        jar = tools_jar()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return {"skipped": str(exc)}
    topic = fresh_namespace("l0perf")
    cluster.admin.create_topics([NewTopic(topic, 4, 1)])
    try:
        broker0 = cpu_seconds(cluster.broker_pid)
        out, producer_cpu = _java(
            jar,
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            topic,
            "--num-records",
            str(records),
            "--record-size",
            str(record_size),
            "--throughput",
            "-1",
            "--command-property",
            f"bootstrap.servers={cluster.bootstrap}",
            "acks=all",
        )
        broker1 = cpu_seconds(cluster.broker_pid)
        produced = re.search(r"([\d.]+) records/sec", out)
        out2, consumer_cpu = _java(
            jar,
            "org.apache.kafka.tools.ConsumerPerformance",
            "--bootstrap-server",
            cluster.bootstrap,
            "--topic",
            topic,
            "--num-records",
            str(records),
        )
        broker2 = cpu_seconds(cluster.broker_pid)
        consumed = None
        lines = [line for line in out2.splitlines() if line.count(",") >= 9]
        if len(lines) >= 2:
            consumed = float(lines[-1].split(",")[9])  # fetch.nMsg.sec: without the group join
        if produced is None or consumed is None:
            return {"skipped": f"could not read the tools' output: {out[-300:]} {out2[-300:]}"}
        return {
            "records": records,
            "record_bytes": record_size,
            "produce_records_per_s": round(float(produced.group(1)), 1),
            "consume_records_per_s": round(consumed, 1),
            "broker_cpu_ms_per_record_produce": round(1000 * (broker1 - broker0) / records, 4),
            "broker_cpu_ms_per_record_consume": round(1000 * (broker2 - broker1) / records, 4),
            "client_jvm_cpu_seconds": round(producer_cpu + consumer_cpu, 2),
        }
    finally:
        cluster.admin.delete_topics([topic], raise_errors=False)
