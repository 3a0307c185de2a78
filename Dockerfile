# ThreatLab web image: gunicorn serving Django, static files by WhiteNoise. Migrations run in the compose
# `migrate` service, once, before any web replica starts.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY config config
COPY experiment experiment
COPY threats threats
COPY analysis analysis
RUN pip install .
COPY manage.py ./
COPY templates templates
COPY static static
COPY fixtures fixtures
COPY locale locale

# collectstatic needs settings that start; the real secret comes from the env file at run time.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret ALLOWED_HOSTS=build \
    sh -c "python manage.py collectstatic --noinput && python manage.py compile_translations"

RUN useradd --system --uid 10001 threatlab && chown -R threatlab /app
USER threatlab

EXPOSE 8000
# keep-alive 75 s outlives nginx's idle upstream connections (60 s), so nginx never reuses one gunicorn has just
# closed (a 502 on a POST in bench/faults.py). One thread per worker, 2 x cores + 1 workers: nginx buffers slow
# clients, and threads of one worker only take turns on its interpreter lock, which stretched the allocation's
# lock and the entry submit 2-3-fold under load (measured with bench/run.py). On more cores, raise --workers.
# No access log here: nginx logs every request already (its image's default access log, to stdout), and
# gunicorn's own would cost 0.2 ms of CPU per request, a twentieth of a page's.
# The proxy's address comes from FORWARDED_ALLOW_IPS (docker-compose.yml), which gunicorn and Django both read:
# only a request from there may say it came over HTTPS or for whom (config/client.py).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "5", "--threads", "1", \
     "--worker-class", "gthread", "--keep-alive", "75"]
