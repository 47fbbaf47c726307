# syntax=docker/dockerfile:1
#
# One image for both services; the command chooses which one runs:
#   wopi-storage              the gRPC storage adapter (configured by WOPI_STORAGE_* variables)
#   wopi-host frontend        the WOPI front-end (configured by WOPI_* variables)
# compose.yaml runs both. No secret is baked in: they come at run time as files (see docs/deploy.md).

ARG PYTHON_VERSION=3.11

# --- builder: wheels of the project and of every dependency -----------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps everything else, .secrets/ included, out of the context).
COPY pyproject.toml README.md ./
COPY proto/python/ proto/python/
COPY storage_adapter/ storage_adapter/
COPY wopi_frontend/ wopi_frontend/
RUN pip wheel --wheel-dir /wheels ".[sql,s3]"

# --- runtime: the wheels installed, no compilers, no build tools, a non-root user -------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

LABEL org.opencontainers.image.title="wopi-host" \
      org.opencontainers.image.description="WOPI host: gRPC storage adapter (wopi-storage) and WOPI front-end (wopi-host frontend)" \
      org.opencontainers.image.licenses="MIT"

# A fixed uid/gid (compose.yaml's `user:` and any volume or secret permissions rely on it), not root.
RUN groupadd --system --gid 10001 wopi \
    && useradd --system --uid 10001 --gid wopi --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin wopi \
    && install -d -o 10001 -g 10001 -m 0750 /data

# The wheels are mounted from the builder for this one step only, so they add no layer to the image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels "wopi-host[sql,s3]" \
    && pip check

# The filesystem backend's documents and catalogue: a named volume in compose.yaml. A new, empty named volume
# takes this directory's owner (the wopi user).
WORKDIR /data

# Storage (gRPC, only for the front-end) and front-end (HTTP, behind a TLS reverse proxy).
EXPOSE 50051 8080

USER 10001:10001

CMD ["wopi-storage"]
