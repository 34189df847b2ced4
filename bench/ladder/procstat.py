"""CPU time and resident memory of a process, read from /proc (Linux).

CPU is utime + stime of /proc/<pid>/stat (every thread of the process; children are not
included), in seconds. Memory is VmRSS of /proc/<pid>/status, in bytes.
"""

from __future__ import annotations

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_cpu_ticks(stat_text: str) -> int:
    """utime + stime (clock ticks) from the text of /proc/<pid>/stat.

    The second field, the command name, is in parentheses and may itself hold spaces or
    parentheses, so the fields are counted from the last ')'.
    """
    fields = stat_text[stat_text.rindex(")") + 2 :].split()
    # After the name: state is field 3 of proc(5); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def parse_rss_bytes(status_text: str) -> int:
    """VmRSS from the text of /proc/<pid>/status, in bytes (0 when absent: a zombie)."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            if unit.lower() != "kb":
                raise ValueError(f"unexpected VmRSS unit {unit!r}")
            return int(value) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
        return parse_cpu_ticks(handle.read()) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of the process now."""
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as handle:
        return parse_rss_bytes(handle.read())


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process; a process that has exited reads as missing."""
    out: dict[str, float] = {}
    for name, pid in pids.items():
        try:
            out[name] = cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return out
