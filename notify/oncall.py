"""On-call (值班表): who is on duty at an escalation level at a time, and how to @ them.

Pure. No I/O, no clock reads: `now` is an argument. Rotations are rules.yaml's `on_call`
(complaints/rules.py): people take turns of `every` from `start`; an override (调班) names
someone else for its span. Times written without an offset are the rota's local time.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from complaints.rules import OnCall, OnCallPerson
from notify.models import Mention, PushFormat

__all__ = ["mention_for", "on_duty"]


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def on_duty(on_call: OnCall, level: int, now: datetime) -> tuple[str, OnCallPerson] | None:
    """(key, person) on duty at escalation `level` at `now`; None without a rotation (or
    before it starts)."""
    rotation = next((r for r in on_call.rotations if r.level == level), None)
    if rotation is None:
        return None
    zone = ZoneInfo(on_call.timezone)
    for override in rotation.overrides:
        if _local(override.starts, zone) <= now < _local(override.ends, zone):
            return override.person, on_call.people[override.person]
    start = _local(rotation.start, zone)
    if now < start:
        return None
    shift = int((now - start) / rotation.every)
    key = rotation.people[shift % len(rotation.people)]
    return key, on_call.people[key]


def mention_for(people: list[OnCallPerson], fmt: PushFormat) -> Mention:
    """How each platform @s these people: WeCom and Feishu by user id; DingTalk by mobile (or
    user id); a JSON receiver gets both."""
    user_ids: list[str] = []
    mobiles: list[str] = []
    for person in people:
        if fmt is PushFormat.WECOM and person.wecom:
            user_ids.append(person.wecom)
        elif fmt is PushFormat.FEISHU and person.feishu:
            user_ids.append(person.feishu)
        elif fmt is PushFormat.DINGTALK:
            if person.mobile:
                mobiles.append(person.mobile)
            elif person.dingtalk:
                user_ids.append(person.dingtalk)
        elif fmt is PushFormat.JSON:
            user_ids += [u for u in (person.wecom, person.dingtalk, person.feishu) if u]
            mobiles += [person.mobile] if person.mobile else []
    return Mention(mobiles=tuple(dict.fromkeys(mobiles)), user_ids=tuple(dict.fromkeys(user_ids)))
