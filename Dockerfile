# The platform's image: one image for every application process (web, event worker, Celery worker,
# beat, migrations); compose.yaml picks the command. Build: `docker build -t mvpvalidator .`
#
# Two stages: the builder installs the locked dependencies, hash-checked, into a virtualenv; the
# runtime stage gets that virtualenv and the code, nothing else (no pip cache, no build files).

# Pinned by tag (the same Python and Debian release for both stages, so the virtualenv's
# interpreter links resolve in the runtime stage). Pin by digest too where builds must repeat.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# Every package pinned with its hashes, and nothing resolved at build time (--no-deps: the lock
# already lists every dependency), so the image holds exactly what was locked and reviewed.
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=mvpvalidator.settings \
    PORT=8000
# An unprivileged user with a fixed id (volume permissions stay stable across rebuilds). The code
# stays root's: the processes can read it, not change it.
RUN groupadd --system --gid 10001 mvp \
    && useradd --system --uid 10001 --gid mvp --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin mvp
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY . .
# Static files are collected into the image (WhiteNoise serves them, compressed, with hashed
# names). Production settings refuse to load without a secret and hosts: these build-only values
# live in this one command, never in the image's environment; nothing here reaches a database,
# Redis or a broker (none is set, so the settings fall back to the embedded defaults).
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=build-only-collectstatic-value-never-used-at-run-time \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput -v 0
# Where compose.yaml mounts the uploads volume: a new named volume takes this folder's owner, so
# the unprivileged user can write uploads into it.
RUN mkdir -p /data/media && chown mvp:mvp /data/media
USER mvp
EXPOSE 8000
# The liveness probe, over plain HTTP on loopback (exempt from the HTTPS redirect). It sends the
# first of DJANGO_ALLOWED_HOSTS as Host: Django answers 400 to a host it does not serve.
# compose.yaml repeats this command for the web service (tests/deploy checks they are the same).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; h = os.environ.get('DJANGO_ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); r.urlopen(r.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/api/monitoring/live', headers={'Host': h} if h not in ('', '*') else {}), timeout=5)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "mvpvalidator.wsgi"]
