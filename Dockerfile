# hubchat node image: `docker compose up` runs two of these behind nginx (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package build needs, so the local .venv and caches never enter the image.
COPY pyproject.toml README.md ./
COPY hubchat ./hubchat
RUN pip install . && rm -rf /src

RUN useradd --system --create-home --home-dir /srv/hubchat hubchat
USER hubchat
WORKDIR /srv/hubchat

COPY config/phrasebook /srv/hubchat/config/phrasebook
ENV HUBCHAT_TRANSLATE_PHRASEBOOK_PATH=/srv/hubchat/config/phrasebook/lus-en.tsv

EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4)"]
CMD ["hubchat", "serve", "--host", "0.0.0.0", "--port", "8080"]
