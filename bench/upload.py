"""Credential uploads through the HTTP API against the bare write floor, in one run.

The measured path: `POST /api/credentials/submissions` on `clinvault serve`
(one worker) with one valid PDF per submission: streamed multipart parsing to a
spool file, validation of the real bytes (libmagic + pikepdf), envelope
encryption into the object store (temp file, fsync, rename), then one
transaction with the rows, the audit event and the review workflow's start.
The floor: SHA-256 + one-shot AES-256-GCM of the same bytes, written to a file
on the same filesystem and fsynced. Uploads go one at a time, so files/s is the
inverse of the median latency.

With `--storage s3` the server stores into a bucket on a local S3 API server
(moto's, a separate process on this machine) through the S3 adapter; the floor
stays the local file write, so the ratio shows what the S3 path costs.

    .venv/bin/python bench/upload.py [--sizes 1,16] [--rounds 20] [--backends sqlite,postgresql]
                                     [--storage file,s3]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pikepdf
from _common import (
    MIB,
    Deployment,
    clinvault_server,
    deployment,
    floor_write,
    free_port,
    login,
    machine,
    opened,
    percentile,
    run_main,
    seed_accounts,
    serving,
    timing_line,
)
from _load import Connection

from clinvault.identity.principal import Role

GOAL_RATIO = 0.5
VALID_NPI = "1234567893"
IMAGE_WIDTH = 1024


def random_pdf(size: int) -> bytes:
    """A valid one-page PDF of about `size` bytes: an uncompressed RGB image of random
    pixels (incompressible, so nothing along the way can shrink it) drawn on the page."""
    rows = max(1, -(-size // (IMAGE_WIDTH * 3)))
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, os.urandom(IMAGE_WIDTH * 3 * rows))
    image.Type = pikepdf.Name.XObject
    image.Subtype = pikepdf.Name.Image
    image.Width = IMAGE_WIDTH
    image.Height = rows
    image.ColorSpace = pikepdf.Name.DeviceRGB
    image.BitsPerComponent = 8
    page = pdf.add_blank_page(page_size=(612, 792))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(b"q 612 0 0 792 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def submission_body(pdf: bytes, number: int) -> tuple[bytes, str]:
    """The multipart body of one submission with one license, and its content type."""
    boundary = secrets.token_hex(16)
    metadata = [
        {
            "category": "medical_license",
            "issuing_authority": "State Medical Board",
            "issued_on": "2024-01-15",
            "expires_on": "2030-01-15",
            "document_number": f"ML-{number:06d}",
        }
    ]
    parts = [
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="metadata"\r\n'
        "Content-Type: application/json\r\n\r\n".encode()
        + json.dumps(metadata).encode()
        + b"\r\n",
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="files"; filename="license-{number}.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + pdf
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class SizeResult:
    size: int
    floor: list[float]
    upload: list[float]

    def ratio(self) -> float:
        return percentile(self.floor, 0.5) / percentile(self.upload, 0.5)


async def measure(target: Deployment, sizes: list[int], rounds: int) -> list[SizeResult]:
    async with opened(target) as container:
        accounts = await seed_accounts(container, [Role.DOCTOR])
    floor_dir = target.home / "floor"
    floor_dir.mkdir()
    results = []
    async with clinvault_server(target) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            headers = await login(client, accounts[Role.DOCTOR].email)
            profile = await client.put(
                "/api/credentials/profile", json={"npi": VALID_NPI}, headers=headers
            )
            if profile.status_code != 200:
                raise RuntimeError(f"profile: {profile.status_code} {profile.text}")
        connection = await Connection.open(server.base_url)
        try:
            for size_mib in sizes:
                pdf = random_pdf(size_mib * MIB)
                floor: list[float] = []
                upload: list[float] = []
                for index in range(rounds + 1):  # the first of each size warms up
                    started = time.perf_counter()
                    await asyncio.to_thread(floor_write, floor_dir / f"{size_mib}-{index}", pdf)
                    floor_seconds = time.perf_counter() - started

                    body, content_type = submission_body(pdf, index)
                    started = time.perf_counter()
                    reply = await connection.request(
                        "POST",
                        "/api/credentials/submissions",
                        {**headers, "Content-Type": content_type},
                        body,
                    )
                    upload_seconds = time.perf_counter() - started
                    if reply.status != 201:
                        raise RuntimeError(f"upload: {reply.status} {reply.body[:500]!r}")
                    if index:
                        floor.append(floor_seconds)
                        upload.append(upload_seconds)
                results.append(SizeResult(len(pdf), floor, upload))
        finally:
            await connection.close()
    return results


@asynccontextmanager
async def s3_api(target: Deployment) -> AsyncIterator[Callable[[bytes], float]]:
    """moto's S3 API server as a separate process, one bucket, and the server's settings."""
    import boto3

    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    credentials = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    log_path = target.home / "s3-api.log"
    async with serving(command, {}, log_path, port=port, ready_path="/moto-api/"):
        endpoint = f"http://127.0.0.1:{port}"
        bucket = f"clinvault-bench-{secrets.token_hex(4)}"
        client = boto3.session.Session(
            aws_access_key_id="bench", aws_secret_access_key="bench-secret", region_name="us-east-1"
        ).client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket=bucket)

        def bare_put(data: bytes) -> float:
            """Seconds for one plain PutObject of `data` to the same S3 API server."""
            started = time.perf_counter()
            client.put_object(Bucket=bucket, Key=f"bare/{secrets.token_hex(8)}", Body=data)
            return time.perf_counter() - started

        target.env.update(
            {
                **credentials,
                "CLINVAULT_STORAGE_URL": f"s3://{bucket}/bench",
                "CLINVAULT_S3_ENDPOINT_URL": endpoint,
            }
        )
        yield bare_put


async def run(sizes: list[int], rounds: int, backends: list[str], storages: list[str]) -> None:
    print(f"machine: {machine()}")
    print(f"POST /api/credentials/submissions, one PDF per submission, {rounds} rounds")
    for backend in backends:
        for storage in storages:
            await run_one(sizes, rounds, backend, storage)


async def run_one(sizes: list[int], rounds: int, backend: str, storage: str) -> None:
    if storage not in ("file", "s3"):
        raise ValueError(f"unknown storage {storage!r}: use file or s3")
    bare: dict[int, list[float]] = {}
    async with deployment(backend) as target:
        if storage == "s3":
            async with s3_api(target) as bare_put:
                results = await measure(target, sizes, rounds)
                for result in results:
                    data = os.urandom(result.size)
                    timings = [await asyncio.to_thread(bare_put, data) for _ in range(rounds + 1)]
                    bare[result.size] = timings[1:]
        else:
            results = await measure(target, sizes, rounds)
    print(f"{backend}, {storage} storage:")
    for result in results:
        print(f"  {result.size / MIB:.1f} MiB PDF")
        print(timing_line("floor (sha+gcm+fsync)", result.floor, result.size))
        print(timing_line("HTTP upload (201)", result.upload, result.size))
        print(f"    ratio upload/floor: {result.ratio():.2f} (goal >= {GOAL_RATIO})")
        if result.size in bare:
            print(timing_line("bare boto3 PutObject", bare[result.size], result.size))
            ratio = percentile(bare[result.size], 0.5) / percentile(result.upload, 0.5)
            print(f"    ratio upload/bare PutObject: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="1,16", help="PDF sizes in MiB")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--storage", default="file", help="file, s3 or file,s3")
    args = parser.parse_args()
    run_main(
        run(
            [int(s) for s in args.sizes.split(",")],
            args.rounds,
            [b.strip() for b in args.backends.split(",")],
            [s.strip() for s in args.storage.split(",")],
        )
    )


if __name__ == "__main__":
    main()
