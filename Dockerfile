# The Python image of the API, the worker and the migration job (docker-compose.yml runs all three
# from it with different commands). No secret is baked in: every setting comes from the environment
# at run time (core/settings.py).
#
#   docker build -t homeplans:local .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with the project and its pinned dependencies ---------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, in their own layer: it is rebuilt only when the pins or the dependency list
# change, not on every code change.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write(chr(10).join(deps))" \
    && pip install -c constraints.txt -r /tmp/requirements.txt

# Then the project itself (a regular, non-editable install; no dev extras). This stage is never
# shipped, so what the build context holds beyond the code does not reach the final image.
COPY . .
# Byte-compiled here, since nothing can write .pyc files at run time: the worker's sandbox imports
# a workflow's module for every workflow run, and would otherwise compile it every time.
RUN pip install -c constraints.txt . && pip check \
    && python -m compileall -q "$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"

# --- runtime ------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# glibc malloc: blocks of 4 MiB or more (argon2's 19 MiB per password hash) go back to the system
# when freed instead of staying in a thread's arena; two arenas, not 8 per core (devstack/run.py,
# MALLOC_ENV; docs/operations.md, "Memory").
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_MMAP_THRESHOLD_=4194304 \
    MALLOC_ARENA_MAX=2

RUN groupadd --system --gid 10001 homeplans \
    && useradd --system --uid 10001 --gid homeplans --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin homeplans

COPY --from=build /opt/venv /opt/venv

# The packages live in the virtualenv; the working directory holds only what the commands name:
# `alembic upgrade head` (alembic.ini, migrations/) and `python worker.py`.
WORKDIR /app
COPY --chown=root:root alembic.ini worker.py ./
COPY --chown=root:root migrations/ ./migrations/

# Owned by root and not writable by the user the processes run as.
USER 10001:10001

EXPOSE 8000
# The app decides who the client is (TRUSTED_PROXIES), not uvicorn (--no-proxy-headers); idle
# keep-alive connections close after 5 s; a stop lets answers in flight finish for 20 s.
CMD ["uvicorn", "--factory", "api.main:app", "--host", "0.0.0.0", "--port", "8000", \
     "--no-proxy-headers", "--timeout-keep-alive", "5", "--timeout-graceful-shutdown", "20", \
     "--no-server-header"]
