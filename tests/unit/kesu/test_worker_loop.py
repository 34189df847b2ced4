"""`KESU_WORKER_EVENT_LOOP`: the loops the worker's process creates are the kind it names."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import uvloop

from kesu.settings import Settings
from kesu.worker import use_event_loop


@pytest.fixture(autouse=True)
def _restore_policy() -> Iterator[None]:
    before = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(before)


def _new_loop_type() -> type:
    loop = asyncio.new_event_loop()
    try:
        return type(loop)
    finally:
        loop.close()


def test_the_default_is_uvloop() -> None:
    """Without the setting the worker runs on uvloop (measured faster on the cost ladder)."""
    use_event_loop(Settings.model_fields["worker_event_loop"].default)
    assert _new_loop_type() is uvloop.Loop


def test_asyncio_gives_pythons_own_loop_even_after_uvloop() -> None:
    """Choosing asyncio undoes an earlier uvloop choice in the same process."""
    use_event_loop("uvloop")
    use_event_loop("asyncio")
    assert issubclass(_new_loop_type(), asyncio.BaseEventLoop)
    assert _new_loop_type() is not uvloop.Loop


def test_a_loop_made_in_another_thread_follows_the_choice() -> None:
    """Faust's consumer runs in its own thread with its own loop: it gets uvloop too."""
    use_event_loop("uvloop")
    seen: list[type] = []
    thread = threading.Thread(target=lambda: seen.append(_new_loop_type()))
    thread.start()
    thread.join()
    assert seen == [uvloop.Loop]


def test_an_unknown_loop_is_refused_at_load() -> None:
    """A typo in the environment stops the worker with the field's name, not a silent default."""
    with pytest.raises(ValueError, match="worker_event_loop"):
        Settings(_env_file=None, worker_event_loop="tokio")
