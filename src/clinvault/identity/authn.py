from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.errors import TokenInvalid
from clinvault.identity.principal import Principal


async def authenticate_bearer(container: Container, session: AsyncSession, token: str) -> Principal:
    raise TokenInvalid("not implemented yet")
