"""The card callback's core: a clicked action link becomes the same AlertAction the API publishes.

Pure. The HTTP route around it (api/routes/callbacks.py) does:

1. GET  /v1/callbacks/actions/{token}: verify only (`action_from_token`, discard the action)
   and show a confirmation page with a form; never act on GET, because chat apps and link
   previewers fetch URLs on their own.
2. POST /v1/callbacks/actions/{token}: `action_from_token(...)`, then publish the action to the
   actions topic exactly as `POST /v1/alerts/{id}/actions` does; the id is derived from the
   token, so a double click or a retried POST is one action.
3. Map InvalidToken reasons to answers: MALFORMED/BAD_SIGNATURE 404 (do not help guessing),
   EXPIRED 410, WRONG_ACTION 400, UNKNOWN_ALERT 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from notify.signing import (
    ActionClaims,
    InvalidToken,
    TokenFailure,
    unverified_alert_id,
    verify_action_token,
)
from streams.records import ActionKind, AlertAction

__all__ = ["action_from_token", "action_id_for"]

_ACTOR_MAX = 64  # AlertAction.actor is ShortText


def action_id_for(token: str) -> str:
    """The action's id: the same link clicked twice is one action (the Idempotency-Key rule)."""
    return "card-" + hashlib.sha256(token.encode()).hexdigest()[:32]


def action_from_token(
    token: str,
    *,
    secret: bytes,
    case_key_of: Callable[[str], str | None],
    now: datetime,
    actor: str | None = None,
    expected_kind: ActionKind | None = None,
) -> AlertAction:
    """The AlertAction a genuine, unexpired token stands for; raises InvalidToken otherwise.

    Args:
        case_key_of: the alert's case key from the alert view, None when the alert is unknown.
        actor: the person, when the confirmation page knows who clicked (a dashboard session or
            a name typed in); otherwise the token's subject, "card:<subscription id>".
    """
    alert_id = unverified_alert_id(token)  # only to find the case key the MAC must cover
    case_key = case_key_of(alert_id)
    if case_key is None:
        raise InvalidToken(TokenFailure.UNKNOWN_ALERT)
    claims: ActionClaims = verify_action_token(
        token, secret=secret, case_key=case_key, now=now, expected_kind=expected_kind
    )
    return AlertAction(
        action_id=action_id_for(token),
        alert_id=claims.alert_id,
        case_key=claims.case_key,
        kind=claims.kind,
        actor=(actor or claims.subject)[:_ACTOR_MAX],
        at=now,
    )
