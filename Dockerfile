# One image for the whole shop: the web servers, workers, migrations and the
# scheduler of users_service, catalog_service and orders_service differ only
# in their command and working directory (see compose.yaml).
#
#   docker build -t shop-app:local .
#
# Each container's command (web server, worker, migrations, scheduler) is that of shopctl/processes.py,
# the one description of the processes; compose.yaml and deploy/k8s/ spell it out, and the tests hold
# both to it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The processes run as an unprivileged user that owns nothing in /app; its home
# directory is the only place it writes to, with /tmp.
# /var/lib/shop/keys is where compose mounts users_service's signing-key volume: a
# new named volume takes this folder's owner and mode, so the key stays the user's own; the same for
# /etc/shop/tls, the gateway's certificate (compose's gateway-tls).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0700 /var/lib/shop/keys /etc/shop/tls

WORKDIR /app

# Pinned runtime dependencies first: this layer is rebuilt only when they change.
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir -r requirements/base.txt

# The shared package, installed (not editable) from a build-only copy.
COPY common/ /tmp/build/common/
RUN pip install --no-cache-dir --no-deps /tmp/build/common && rm -rf /tmp/build

COPY users_service/ users_service/
COPY catalog_service/ catalog_service/
COPY orders_service/ orders_service/
# granian's own log lines as JSON (--log-config in shopctl/processes.py).
COPY deploy/granian/ deploy/granian/

# Static files of each service for whitenoise's manifest storage. The production
# settings refuse to import without their secrets, so this step gets dummy values
# that exist only in this RUN: the image's environment has no secret, no database
# and no broker, and a container started without them fails instead of using these.
# compose.yaml sets DJANGO_STATIC_ROOT to the same /app/static/<service>.
RUN set -eu; \
    for service in users_service catalog_service orders_service; do \
        DJANGO_SETTINGS_MODULE="$service.settings.production" \
        DJANGO_STATIC_ROOT="/app/static/$service" \
        DJANGO_SECRET_KEY=collectstatic-build-only-not-a-secret \
        JWT_PRIVATE_KEY=collectstatic-build-only-not-a-key \
        DATABASE_URL=postgres://build:build@127.0.0.1:5432/build \
        REDIS_URL=redis://127.0.0.1:6379/0 \
        python "$service/manage.py" collectstatic --no-input --verbosity 1; \
    done

USER app

# users_service, catalog_service, orders_service.
EXPOSE 8001 8002 8003

# Every container names its process (compose.yaml); without one, say so instead of guessing.
CMD ["sh", "-c", "echo 'shop-app: give a command: a web server, a worker, migrations or the scheduler, as compose.yaml runs them (shopctl/processes.py describes each)' >&2; exit 64"]
