"""Child processes of the bench (workers, passthrough rungs): started, paused, stopped.

Every child gets a parent-death signal, so none outlives the bench even when it is killed,
and runs in its own session, so Ctrl-C reaches the bench first and it stops them in order.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Child:
    """One child process whose output goes to a log file."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.args = list(args)
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def start(self) -> Child:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, *self.args]
        setpriv = shutil.which("setpriv")  # as kesu/broker.py: safe with threads, unlike preexec_fn
        if setpriv:
            command = [setpriv, "--pdeathsig", "KILL", *command]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=None if setpriv else _die_with_parent,
            )
        return self

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited before '{text}':\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: no '{text}' within {timeout:.0f} s")
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def stop(self, grace: float = 30.0) -> None:
        """SIGCONT (in case it is paused), SIGTERM, then SIGKILL after `grace` seconds."""
        if self.process is None:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def child_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The bench's environment without KESU_* (children get exactly the settings they are
    given) and with the repository importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(overrides or {})
    return env
