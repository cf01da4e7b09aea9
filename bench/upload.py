"""Credential uploads through the HTTP API against the bare write floor, in one run.

The measured path: `POST /api/credentials/submissions` on `clinvault serve`
(one worker) with one valid PDF per submission: streamed multipart parsing to a
spool file, validation of the real bytes (libmagic + pikepdf), envelope
encryption into the object store (temp file, fsync, rename), then one
transaction with the rows, the audit event and the review workflow's start.
The floor: SHA-256 + one-shot AES-256-GCM of the same bytes, written to a file
on the same filesystem and fsynced. Uploads go one at a time, so files/s is the
inverse of the median latency.

    .venv/bin/python bench/upload.py [--sizes 1,16] [--rounds 20] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import secrets
import time
from dataclasses import dataclass

import httpx
import pikepdf
from _common import (
    MIB,
    Deployment,
    clinvault_server,
    deployment,
    floor_write,
    login,
    machine,
    opened,
    percentile,
    run_main,
    seed_accounts,
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


async def run(sizes: list[int], rounds: int, backends: list[str]) -> None:
    print(f"machine: {machine()}")
    print(f"POST /api/credentials/submissions, one PDF per submission, {rounds} rounds")
    for backend in backends:
        async with deployment(backend) as target:
            results = await measure(target, sizes, rounds)
        print(f"{backend}:")
        for result in results:
            print(f"  {result.size / MIB:.1f} MiB PDF")
            print(timing_line("floor (sha+gcm+fsync)", result.floor, result.size))
            print(timing_line("HTTP upload (201)", result.upload, result.size))
            print(f"    ratio upload/floor: {result.ratio():.2f} (goal >= {GOAL_RATIO})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="1,16", help="PDF sizes in MiB")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    run_main(
        run(
            [int(s) for s in args.sizes.split(",")],
            args.rounds,
            [b.strip() for b in args.backends.split(",")],
        )
    )


if __name__ == "__main__":
    main()
