# Production image: gunicorn serving Django, static files through WhiteNoise.
# The same image runs the migrations, the Celery worker and beat (see docker-compose.yml).

# Stage 1: the front-end packages (htmx, Pico) are only files Django serves; Node.js stays here.
FROM debian:bookworm-slim AS frontend
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# Stage 2: the application.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media

# gettext provides msgfmt, which compilemessages calls.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The lock file alone first, so a code change does not reinstall the dependencies.
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/base.txt

COPY --from=frontend /build/node_modules node_modules
COPY . .

# Dummy values for the build only; the real ones come from the environment at run time.
# `mkdir -p locale`: compilemessages exits with an error when no locale directory exists at all.
RUN mkdir -p locale \
    && SECRET_KEY=build-only DEBUG=0 python manage.py compilemessages --ignore=node_modules \
    && SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --no-input

# The code stays root-owned; the app user can write only under var/. var/media exists in the
# image so that an empty named volume mounted there starts out owned by that user.
RUN useradd --system --user-group --create-home servicedesk \
    && mkdir -p /app/var/media \
    && chown -R servicedesk:servicedesk /app/var
USER servicedesk

EXPOSE 8000
# X-Forwarded-Proto keeps SECURE_SSL_REDIRECT from answering with a redirect (/healthz is exempt
# anyway). The Host header is the first ALLOWED_HOSTS entry: 127.0.0.1 may not be allowed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.').replace('*', 'localhost') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)"
CMD ["gunicorn", "servicedesk.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
