"""Who may manage API clients: the organization's administrators, for their own
organization only. Deny by default; a foreign client is 404 before this."""

from __future__ import annotations

from clinvault.identity.principal import Principal, Role


def can_manage_clients(principal: Principal) -> bool:
    return not principal.is_client and principal.has(Role.ORG_ADMIN)
