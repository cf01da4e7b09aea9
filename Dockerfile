# syntax=docker/dockerfile:1
# clinvault: one image for `serve`, `worker` and `migrate`, configured by URLs only
# (CLINVAULT_DATABASE_URL, CLINVAULT_STORAGE_URL, CLINVAULT_KEYS_URL, CLINVAULT_MAIL_URL).
# The only writable path is the data volume, /data (CLINVAULT_HOME); run the container
# with a read-only root filesystem.

FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/clinvault
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
# The lock pins every runtime dependency; the dev extra is not installed.
RUN /opt/clinvault/bin/pip install --constraint requirements.lock . \
    && /opt/clinvault/bin/python -m compileall -q /opt/clinvault


FROM python:3.11-slim-bookworm AS runtime

# libmagic1: file type detection of uploads (python-magic).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmagic1=1:5.44-3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 clinvault \
    && useradd --system --uid 10001 --gid clinvault --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin clinvault \
    && mkdir /data \
    && chown clinvault:clinvault /data

COPY --from=build /opt/clinvault /opt/clinvault

ENV PATH=/opt/clinvault/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CLINVAULT_HOME=/data \
    CLINVAULT_ENV=production

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# SIGTERM: uvicorn stops accepting, drains in-flight requests, then DBOS hands pending
# workflows over to the other replicas.
STOPSIGNAL SIGTERM
ENTRYPOINT ["clinvault"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
