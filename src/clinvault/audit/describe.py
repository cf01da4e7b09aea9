"""One audit event in words, from the tables of wording.py: pure, no I/O.

Only ids, roles, outcomes and detail codes are read: the sentence can never
carry a PHI value, since the event holds none.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from clinvault.audit import wording
from clinvault.audit.schemas import AuditEventRead

REFERENCE_CHARS = 8


def reference(resource_type: str | None, resource_id: str | None) -> str:
    """`patient P-3F9A0C12`: the noun and the id's last characters (uuid7 starts with time)."""
    noun, prefix = wording.RESOURCES.get(resource_type or "", (None, None))
    noun = noun or (resource_type or "resource").replace("_", " ")
    if not resource_id:
        return f"a {noun}"
    tail = resource_id.replace("-", "")[-REFERENCE_CHARS:].upper()
    return f"{noun} {prefix}-{tail}" if prefix else f"{noun} {tail}"


def actor_name(event: AuditEventRead, names: Mapping[uuid.UUID, str]) -> str:
    if event.actor_id is None:
        return wording.SOMEONE
    if event.actor_id in names:
        return names[event.actor_id]
    kind = "an API client" if any(r.startswith("client") for r in event.actor_roles) else "account"
    return f"{kind} {str(event.actor_id)[-REFERENCE_CHARS:]}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sign_in(event: AuditEventRead, actor: str) -> str:
    if event.outcome == "success":
        return wording.SIGNED_IN.format(actor=actor)
    if event.detail == "mfa_required":
        return wording.SIGN_IN_STEP.format(actor=actor)
    reason = wording.REASONS.get(event.detail or "", wording.DEFAULT_REASON)
    sentence = wording.SIGN_IN_REFUSED.format(reason=reason)
    return sentence if event.actor_id is None else f"{sentence} ({actor})"


def sentence(event: AuditEventRead, names: Mapping[uuid.UUID, str]) -> str:
    """The event as one sentence, such as "Dr Kwame Osei opened the chart of patient P-…"."""
    actor = actor_name(event, names)
    if event.action in wording.SIGN_IN_ACTIONS:
        return _capital(_sign_in(event, actor))
    if event.action == "auth.source.throttled":
        return wording.SOURCE_THROTTLED.format(address=event.client_ip or "an unknown address")
    phrases = wording.ACTIONS.get(event.action)
    if phrases is None:
        return _capital(wording.UNKNOWN_ACTION.format(actor=actor, action=event.action))
    resource = reference(event.resource_type, event.resource_id)
    done, attempt = (phrase.format(resource=resource) for phrase in phrases)
    if event.outcome == "success":
        return _capital(f"{actor} {done}")
    template = wording.REFUSED if event.outcome == "denied" else wording.FAILED
    return _capital(template.format(actor=actor, attempt=attempt)) + f" ({event.status_code})"
