"""What an answer means (delivered, retry, give up) and how long to wait before a retry."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from notify import Failure, PushFormat, RetryPolicy, judge
from notify.outcomes import Answer, Verdict, parse_retry_after
from notify.retry import Next, next_step

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


class TestJudge:
    @pytest.mark.parametrize(
        ("status", "failure", "retryable"),
        [
            (500, Failure.SERVER_ERROR, True),
            (503, Failure.SERVER_ERROR, True),
            (429, Failure.RATE_LIMITED, True),
            (408, Failure.REQUEST_TIMEOUT, True),
            (400, Failure.CLIENT_ERROR, False),
            (401, Failure.CLIENT_ERROR, False),
            (404, Failure.CLIENT_ERROR, False),
            (302, Failure.UNEXPECTED_STATUS, False),
        ],
    )
    def test_status_codes(self, status: int, failure: Failure, retryable: bool) -> None:
        """5xx, 429 and 408 are retried; other 4xx and redirects are final."""
        for fmt in PushFormat:
            verdict = judge(fmt, status, b"")
            assert (verdict.delivered, verdict.failure, verdict.retryable) == (
                False,
                failure,
                retryable,
            )

    @pytest.mark.parametrize("fmt", list(PushFormat))
    def test_2xx_with_success_body_is_delivered(self, fmt: PushFormat) -> None:
        """A 2xx with code 0 (or no code at all) is delivered."""
        for body in (
            b'{"errcode":0,"errmsg":"ok"}',
            b'{"code":0,"msg":"success","data":{}}',
            b"",
            b"ok",
        ):
            assert judge(fmt, 200, body).delivered

    @pytest.mark.parametrize(
        ("fmt", "body", "failure", "retryable"),
        [
            (
                PushFormat.WECOM,
                b'{"errcode":45009,"errmsg":"api freq out of limit"}',
                Failure.ROBOT_RATE_LIMITED,
                True,
            ),
            (PushFormat.WECOM, b'{"errcode":-1,"errmsg":"system busy"}', Failure.ROBOT_BUSY, True),
            (
                PushFormat.WECOM,
                b'{"errcode":93000,"errmsg":"invalid webhook url"}',
                Failure.ROBOT_REJECTED,
                False,
            ),
            (
                PushFormat.DINGTALK,
                b'{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}',
                Failure.ROBOT_RATE_LIMITED,
                True,
            ),
            (
                PushFormat.DINGTALK,
                b'{"errcode":310000,"errmsg":"sign not match"}',
                Failure.ROBOT_REJECTED,
                False,
            ),
            (
                PushFormat.FEISHU,
                b'{"code":11232,"msg":"frequency limited"}',
                Failure.ROBOT_RATE_LIMITED,
                True,
            ),
            (
                PushFormat.FEISHU,
                b'{"code":19021,"msg":"sign match fail"}',
                Failure.ROBOT_REJECTED,
                False,
            ),
            (
                PushFormat.FEISHU,
                b'{"StatusCode":19024,"StatusMessage":"Key Words Not Found"}',
                Failure.ROBOT_REJECTED,
                False,
            ),
        ],
    )
    def test_robot_error_in_a_200(
        self, fmt: PushFormat, body: bytes, failure: Failure, retryable: bool
    ) -> None:
        """Robots answer 200 with an error code: rate limits are retried, other refusals are final."""
        verdict = judge(fmt, 200, body)
        assert (verdict.delivered, verdict.failure, verdict.retryable) == (
            False,
            failure,
            retryable,
        )
        assert verdict.robot_code is not None and str(verdict.robot_code) in (verdict.error or "")

    def test_json_subscribers_are_judged_by_status_only(self) -> None:
        """A generic receiver's body is its own business: any 2xx is delivered."""
        assert judge(PushFormat.JSON, 200, b'{"errcode":45009}').delivered

    def test_error_text_holds_no_body(self) -> None:
        """The delivery log gets the code, never the robot's message text."""
        verdict = judge(
            PushFormat.DINGTALK,
            200,
            b'{"errcode":310000,"errmsg":"keywords not in content 13812345678"}',
        )
        assert verdict.error == "ROBOT_REJECTED: robot code 310000"


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("value", "seconds"),
        [
            ("7", 7.0),
            (" 0 ", 0.0),
            ("Mon, 23 Nov 2026 04:00:30 GMT", 30.0),
            ("Mon, 23 Nov 2026 03:00:00 GMT", 0.0),
            ("soon", None),
            ("-5", None),
            (None, None),
        ],
    )
    def test_parse(self, value: str | None, seconds: float | None) -> None:
        """Delta-seconds and HTTP dates are understood; anything else is ignored."""
        assert parse_retry_after(value, NOW) == seconds


class TestRetryPolicy:
    def test_exponential_without_jitter(self) -> None:
        """Delays double from base_delay and stop at max_delay."""
        policy = RetryPolicy(base_delay=1, max_delay=10, jitter=0)
        rng = random.Random(0)
        assert [policy.delay(n, rng) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]

    def test_jitter_stays_within_bounds_and_delays_still_grow(self) -> None:
        """±10 % jitter never breaks the doubling nor exceeds max_delay; a seed reproduces it."""
        policy = RetryPolicy(base_delay=1, max_delay=60, jitter=0.1)
        delays = [policy.delay(n, random.Random(n)) for n in range(1, 8)]
        assert all(
            0.9 * 2 ** (n - 1) <= d <= min(60, 1.1 * 2 ** (n - 1)) for n, d in enumerate(delays, 1)
        )
        assert delays == sorted(delays)
        assert delays == [policy.delay(n, random.Random(n)) for n in range(1, 8)]

    def test_retry_after_is_a_floor_and_keeps_its_jitter(self) -> None:
        """Retry-After is a floor (capped); when it decides, the wait is stretched, never cut."""
        policy = RetryPolicy(base_delay=1, jitter=0, max_retry_after=120)
        rng = random.Random(0)
        assert policy.delay(1, rng, retry_after=5) == 5
        assert policy.delay(1, rng, retry_after=0.2) == 1
        assert policy.delay(1, rng, retry_after=3600) == 120
        jittered = RetryPolicy(base_delay=1, jitter=0.1, max_retry_after=120)
        waits = {jittered.delay(1, random.Random(seed), retry_after=30) for seed in range(20)}
        assert all(30 <= w <= 33 for w in waits) and len(waits) > 10, "not in lockstep"


NOW_UTC = NOW


def _answer(
    failure: Failure | None, *, retryable: bool = False, after: str | None = None
) -> Answer:
    return Answer(Verdict(failure is None, failure, retryable=retryable), 200, after)


class TestNextStep:
    @pytest.mark.parametrize(
        ("case", "answer", "attempt", "step", "seconds"),
        [
            ("delivered", _answer(None), 1, Next.DELIVERED, None),
            (
                "5xx: retry after 1 s",
                _answer(Failure.SERVER_ERROR, retryable=True),
                1,
                Next.RETRY,
                1,
            ),
            ("5xx again: 2 s", _answer(Failure.SERVER_ERROR, retryable=True), 2, Next.RETRY, 2),
            (
                "5xx on the last attempt",
                _answer(Failure.SERVER_ERROR, retryable=True),
                5,
                Next.GIVE_UP,
                None,
            ),
            ("robot refused the message", _answer(Failure.ROBOT_REJECTED), 1, Next.GIVE_UP, None),
            (
                "robot rate limit: wait out the platform's block, never retry into it",
                _answer(Failure.ROBOT_RATE_LIMITED, retryable=True),
                1,
                Next.DEFER,
                600,
            ),
            (
                "429 with Retry-After: the receiver decides",
                _answer(Failure.RATE_LIMITED, retryable=True, after="7"),
                1,
                Next.DEFER,
                7,
            ),
            (
                "rate limits defer even on the last attempt",
                _answer(Failure.ROBOT_RATE_LIMITED, retryable=True),
                5,
                Next.DEFER,
                600,
            ),
        ],
    )
    def test_table(
        self, case: str, answer: Answer, attempt: int, step: Next, seconds: float | None
    ) -> None:
        policy = RetryPolicy(jitter=0)
        found = next_step(
            answer, attempt, NOW_UTC, policy, random.Random(0), block=timedelta(minutes=10)
        )
        assert found.next is step
        assert found.at == (NOW_UTC + timedelta(seconds=seconds) if seconds is not None else None)

    def test_blocks_end_at_different_times_for_different_subscriptions(self) -> None:
        """Ten robots refused at the same moment do not all come back at the same second."""
        policy = RetryPolicy(jitter=0.1)
        limited = _answer(Failure.ROBOT_RATE_LIMITED, retryable=True)
        ends = {
            next_step(limited, 1, NOW_UTC, policy, random.Random(s), block=timedelta(seconds=60)).at
            for s in range(10)
        }
        assert len(ends) == 10
        assert all(
            e is not None
            and NOW_UTC + timedelta(seconds=60) <= e <= NOW_UTC + timedelta(seconds=66)
            for e in ends
        )

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"max_attempts": 0},
            {"base_delay": -1},
            {"base_delay": 5, "max_delay": 1},
            {"jitter": 1},
            {"timeout": 0},
        ],
    )
    def test_nonsense_is_refused(self, kwargs: dict[str, float]) -> None:
        """A policy that could never deliver, or waits negative time, fails at construction."""
        with pytest.raises(ValueError):
            RetryPolicy(**kwargs)  # type: ignore[arg-type]
