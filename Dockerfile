# syntax=docker/dockerfile:1
# One image for every Readmit process: `readmit api`, `readmit worker --state XX`,
# `readmit db migrate`, and the other CLI commands. Configuration comes only from environment
# variables at run time (READMIT_*, DATABASE_URL): no key, secret or .env is copied in. The
# image is production: no key is ever generated, a missing or weak secret stops the process
# (exit 2, naming it); `docker run --rm <image> keys init` prints a fresh set for `.env`.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the project (from this source tree) and its dependencies into a venv ------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/readmit
WORKDIR /src
# Every dependency from the runtime lock, each file checked against its hash: the project's
# dependencies with the tracing extra (READMIT_TRACING=otlp works without a rebuild), no
# Temporal dev server, no test tools. A layer of its own, rebuilt only when the lock changes.
COPY locks/runtime.txt /src/locks/runtime.txt
RUN /opt/readmit/bin/pip install --require-hashes -r /src/locks/runtime.txt
# .dockerignore keeps .git, .venv, .readmit (development keys), .env and the tests out
COPY . /src
# the project itself, built with the locked setuptools, taking nothing more from the index
RUN /opt/readmit/bin/pip install --no-deps --no-build-isolation /src \
    && /opt/readmit/bin/readmit --help > /dev/null

# --- run: the venv on a clean base, as an unprivileged user ----------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="readmit" \
      org.opencontainers.image.description="Readmission cases between states: API, workers, CLI"
RUN groupadd --system --gid 10001 readmit \
    && useradd --system --uid 10001 --gid readmit --home-dir /var/lib/readmit \
       --create-home --shell /usr/sbin/nologin readmit
# Tesseract (Debian's tesseract-ocr, with its English model) reads the machine-readable zone of
# uploaded passports and identity cards (POST /mrz/read, "Read from a scan" on the pages)
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/readmit /opt/readmit
ENV PATH=/opt/readmit/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    READMIT_HOME=/var/lib/readmit \
    READMIT_ENV=production
USER readmit:readmit
WORKDIR /var/lib/readmit
EXPOSE 8000
# `readmit api` answers GET /health; workers and one-shot commands are told apart by PID 1's
# command line (see readmit/healthcheck.py), so this one check fits every service.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "readmit.healthcheck"]
ENTRYPOINT ["readmit"]
CMD ["--help"]
