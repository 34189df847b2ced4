"""A subscription's notification policy (Alertmanager's route timers) and its rate budget.

Pure data. `group_by` labels split alerts into groups; a group's first message waits
`group_wait` to gather what arrives together, later ones at least `group_interval` apart, and
alerts still open and unacknowledged are announced again after `repeat_interval`. Openings
(and raises) to an `immediate_tiers` tier skip both waits, never the budget.

Budgets come from the platforms' documented limits, per robot (i.e. per subscription URL):

| platform | limit | after the limit | source |
|---|---|---|---|
| DingTalk 钉钉 custom robot | 20 messages/minute | refused (errcode 130101 "send too fast, exceed 20 times per minute") and throttled for 10 minutes | open.dingtalk.com 自定义机器人接入 "调用频率限制: 每个机器人每分钟最多发送20条消息到群里，如果超过20条，会限流10分钟" (quoted in blog.csdn.net/lxw1844912514/article/details/125780346); errcode in ccfos/nightingale#369 |
| WeCom 企业微信 group robot | 20 messages/minute | errcode 45009 "api freq out of limit"; minute limits block for 60 s | developer.work.weixin.qq.com/document/path/91770 "消息发送频率限制: 每个机器人发送的消息不能超过20条/分钟"; /document/path/90454 "按分钟拦截则被屏蔽60秒" |
| Feishu 飞书 custom bot | 100/minute and 5/second | code 11232 (限流) | open.feishu.cn 自定义机器人使用指南 "单租户单机器人 100 次/分钟，5 次/秒 … 11232 限流错误" |

kesu spends at most `per_minute` in any 61 s (one second of margin for clock and network
skew) and `per_second` in any 1.1 s, and paces itself so a burst cannot use the whole minute at
once: `burst` sends at once, then the rest of the minute's budget spread evenly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from complaints.durations import Duration
from streams.records import TierNumber, known_label_names

__all__ = ["PLATFORM_LIMITS", "BudgetSpec", "Policy", "RateLimit"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class RateLimit:
    """How many messages one robot takes, and how long it refuses after its limit is hit."""

    per_minute: int | None
    per_second: int | None
    block: timedelta
    burst: int = 1


def _paced(per_minute: int, per_second: int | None, block: timedelta) -> RateLimit:
    return RateLimit(per_minute, per_second, block, burst=max(1, per_minute // 4))


#: The documented limits (table above), keyed by format value. JSON webhooks are the
#: receiver's business: no limit unless it answers 429 (then its Retry-After blocks).
PLATFORM_LIMITS: dict[str, RateLimit] = {
    "wecom": _paced(20, None, timedelta(seconds=60)),
    "dingtalk": _paced(20, None, timedelta(minutes=10)),
    "feishu": _paced(100, 5, timedelta(seconds=60)),
    "json": RateLimit(None, None, timedelta(seconds=60)),
}


class BudgetSpec(_Frozen):
    """Overrides of the platform's budget (e.g. a robot shared with another system)."""

    per_minute: int | None = Field(default=None, ge=1, le=10_000)
    per_second: int | None = Field(default=None, ge=1, le=1_000)


class Policy(_Frozen):
    """How one subscription's alerts are grouped, timed and budgeted."""

    group_by: tuple[str, ...] = Field(
        default=("tier", "kind"),
        description="Labels that split alerts into groups (one message per group); [] = one group.",
    )
    group_wait: Duration = Field(
        default=timedelta(seconds=30),
        description="How long a new group gathers alerts before its first message.",
    )
    group_interval: Duration = Field(
        default=timedelta(minutes=5),
        description="Least time between two messages of one group about new alerts.",
    )
    repeat_interval: Duration = Field(
        default=timedelta(hours=4),
        description="Announce a group's open, unacknowledged alerts again after this long.",
    )
    immediate_tiers: tuple[TierNumber, ...] = Field(
        default=(1,),
        description="Openings and raises to these tiers skip group_wait/group_interval (not the budget).",
    )
    digest_tiers: tuple[TierNumber, ...] = Field(
        default=(3,),
        description="Alerts of these tiers never take the budget's last message: they wait for a digest.",
    )
    max_items: int = Field(
        default=8, ge=1, le=30, description="Alerts listed in full per message; the rest by link."
    )
    budget: BudgetSpec = BudgetSpec()

    @field_validator("group_by")
    @classmethod
    def _known_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return known_label_names(value)

    @model_validator(mode="after")
    def _ordered(self) -> Policy:
        if self.group_wait < timedelta(0) or self.group_interval <= timedelta(0):
            raise ValueError("group_wait must be >= 0 and group_interval > 0")
        if self.repeat_interval < self.group_interval:
            raise ValueError("repeat_interval must be at least group_interval")
        return self

    def limit(self, fmt: str) -> RateLimit:
        """The platform's limit for `fmt`, with this policy's overrides."""
        base = PLATFORM_LIMITS[fmt]
        per_minute = self.budget.per_minute or base.per_minute
        per_second = self.budget.per_second or base.per_second
        if per_minute is None:
            return RateLimit(None, per_second, base.block, burst=base.burst)
        return _paced(per_minute, per_second, base.block)
