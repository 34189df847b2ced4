"""The machine's 1 → 2 process ceiling, measured in the run (bench plan B3.5).

Two processes load plain snownlp and wait. One of them then scores fixed texts for `seconds`
alone; then both do at the same time. ceiling = (texts scored by both) / (texts scored by
one): 2.0 on two idle cores, nearer 1.0 when other tenants hold a core. Worker scaling is
judged against it.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

TEXTS = (
    "快递三天了还没到，客服电话一直打不通，太让人失望了。",
    "你们再不给我退款我就去12315投诉，还要找媒体曝光！",
    "东西收到了，包装很好，质量也不错，下次还会再买。",
    "手机充电的时候特别烫，用了两天就自动关机，这是什么质量？",
    "说好的今天送达，结果物流信息三天没更新，也没人给个说法。",
    "客服态度很好，耐心帮我查了订单，问题很快就解决了，谢谢。",
)


def _score_for(seconds: float, start: Any, ready: Any, results: Any) -> None:
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the bench
    from snownlp import SnowNLP

    SnowNLP(TEXTS[0]).sentiments  # noqa: B018 - load the model before timing
    ready.put(True)
    while True:
        start_at = start.get()
        if start_at is None:
            return
        while time.time() < start_at:
            time.sleep(0.001)
        count = 0
        deadline = start_at + seconds
        while time.time() < deadline:
            SnowNLP(TEXTS[count % len(TEXTS)]).sentiments  # noqa: B018
            count += 1
        results.put(count)


class Ceiling:
    """Two idle scoring processes, started early (loading snownlp takes seconds), measured
    whenever nothing else of the bench runs."""

    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        context = multiprocessing.get_context("spawn")
        self._ready, self._results = context.Queue(), context.Queue()
        self._starts = [context.Queue(), context.Queue()]
        self._processes = [
            context.Process(
                target=_score_for,
                args=(seconds, self._starts[i], self._ready, self._results),
                daemon=True,
            )
            for i in range(2)
        ]
        for process in self._processes:
            process.start()
        self._loaded = 0

    def measure(self) -> dict[str, float]:
        """Texts per second in one process, then in two at once, and their ratio."""
        while self._loaded < len(self._processes):
            self._ready.get(timeout=300)
            self._loaded += 1
        self._starts[0].put(time.time() + 0.2)
        one = self._results.get(timeout=self.seconds + 60) / self.seconds
        at = time.time() + 0.2
        for queue in self._starts:
            queue.put(at)
        two = sum(self._results.get(timeout=self.seconds + 60) for _ in self._starts)
        two /= self.seconds
        return {
            "one_process_texts_per_s": round(one, 1),
            "two_processes_texts_per_s": round(two, 1),
            "ceiling": round(two / one, 3),
        }

    def close(self) -> None:
        for queue in self._starts:
            queue.put(None)
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.kill()
