# One image for every service; compose picks the service with `command: python -m <service>`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY libs ./libs
COPY services ./services
# Editable install keeps each service's migrations/ folder next to its package.
# var/rating-loads exists in the image so that a volume mounted there belongs to billing too.
RUN pip install -e . && useradd --create-home --uid 10001 billing \
    && mkdir -p /app/var/rating-loads && chown -R billing /app
USER billing

ENV HOST=0.0.0.0 ENVIRONMENT=production
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"
