"""Fixtures for portal tests: an HTTPS client that keeps cookies like a browser."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI


@pytest.fixture
async def portal(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """HTTPS (so Secure cookies are kept and sent), no automatic redirects."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.4", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        yield http
