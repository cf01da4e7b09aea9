"""The baseline of bench/reads.py: FastAPI + asyncpg, one INSERT per request.

No authentication, no ORM, no encryption, no audit chain: a request parses its
path, inserts one row in its own implicit transaction and answers JSON. Served
by uvicorn exactly like clinvault (same workers, no access log).

    BENCH_BARE_DSN=postgresql://... uvicorn bare_insert_app:create_app --factory --app-dir bench
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request

# Created once by bench/reads.py before the workers start (two workers racing on
# CREATE TABLE IF NOT EXISTS can collide on the catalog).
TABLE = """
CREATE TABLE IF NOT EXISTS bench_reads (
    id uuid PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    path text NOT NULL
)
"""


def create_app() -> FastAPI:
    dsn = os.environ["BENCH_BARE_DSN"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=2, max_size=16)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/patients/{patient_id}")
    async def read(patient_id: uuid.UUID, request: Request) -> dict[str, str]:
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO bench_reads (id, path) VALUES ($1, $2)", uuid.uuid4(), request.url.path
            )
        return {"id": str(patient_id)}

    return app
