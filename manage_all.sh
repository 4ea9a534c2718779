#!/usr/bin/env bash
# Run, inspect and test the whole shop system on one machine, no container engine needed.
#
#   ./manage_all.sh up        set up what is missing, start everything, wait until ready
#   ./manage_all.sh down      stop everything (data is kept under .var/)
#   ./manage_all.sh status    each process, and each service's readiness
#   ./manage_all.sh logs [process]
#   ./manage_all.sh manage <service> <args>   e.g. manage users_service createsuperuser
#   ./manage_all.sh test      lint, each service's tests, the cross-service tests
#   ./manage_all.sh bench [--quick]   throughput, saga latency and memory (results in .var/bench/)
#
# All generated state lives in .var/. Ports and external servers come from the
# environment; see the README ("Configuration").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VAR="$ROOT/.var"
VENV="$VAR/venv"
PY="$VENV/bin/python"
SERVICES=(users_service catalog_service orders_service)
declare -A PORT=(
  [users_service]="${SHOP_USERS_PORT:-8001}"
  [catalog_service]="${SHOP_CATALOG_PORT:-8002}"
  [orders_service]="${SHOP_ORDERS_PORT:-8003}"
)
declare -A QUEUE=([users_service]=users [catalog_service]=catalog [orders_service]=orders)
PG_PORT="${SHOP_PG_PORT:-54329}"
REDIS_PORT="${SHOP_REDIS_PORT:-63790}"
DB_NAME="${SHOP_DB_NAME:-shop}"
WEB_WORKERS="${SHOP_WEB_WORKERS:-2}"
READY_TIMEOUT="${SHOP_READY_TIMEOUT:-120}"
SUPERVISOR_CONF="$VAR/supervisor/supervisord.conf"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
  printf '\033[31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- external or local servers

# A service's DATABASE_URL may be given from outside as <SERVICE>_DATABASE_URL
# (USERS_DATABASE_URL, ...). Given all three, no local Postgres is used.
external_database() { [[ -n "${USERS_DATABASE_URL:-}" && -n "${CATALOG_DATABASE_URL:-}" && -n "${ORDERS_DATABASE_URL:-}" ]]; }
external_redis() { [[ -n "${REDIS_URL:-}" ]]; }

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$dir" && -x "$dir/postgres" ]] && echo "$dir"
}

# ---------------------------------------------------------------- system packages

# Install Debian packages when running as root; otherwise name the command.
# Services are kept from starting during the install (policy-rc.d), so apt
# leaves nothing listening on the machine's default ports.
apt_install() {
  local packages=("$@")
  if [[ $EUID -ne 0 ]]; then
    die "missing: ${packages[*]}. Install with: sudo apt-get update && sudo apt-get install -y ${packages[*]}"
  fi
  command -v apt-get >/dev/null || die "missing: ${packages[*]}, and this machine has no apt-get: install them with its package manager"
  log "installing ${packages[*]} (apt)"
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  local status=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"; } \
    >"$VAR/apt.log" 2>&1 || status=$?
  [[ $created_policy == 1 ]] && rm -f "$policy"
  [[ $status == 0 ]] || die "apt-get install ${packages[*]} failed; see $VAR/apt.log"
}

ensure_system_packages() {
  local missing=()
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  external_database || pg_bin_dir >/dev/null || missing+=(postgresql)
  external_redis || command -v redis-server >/dev/null || missing+=(redis-server)
  if [[ ${#missing[@]} -gt 0 ]]; then apt_install "${missing[@]}"; fi
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed (python3 is $(python3 --version))"
}

# ---------------------------------------------------------------- Python environment

ensure_venv() {
  [[ -x $PY ]] || {
    log "creating the virtual environment in .var/venv"
    python3 -m venv "$VENV"
  }
  local stamp="$VENV/.requirements.sha256" wanted
  wanted=$(cat "$ROOT/requirements/base.txt" "$ROOT/requirements/dev.txt" "$ROOT/common/pyproject.toml" | sha256sum | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
    log "installing pinned dependencies (requirements/base.txt, requirements/dev.txt)"
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements/base.txt" -r "$ROOT/requirements/dev.txt" 2> >(grep -v "is ignored: it is neither" >&2) ||
      die "pip install failed (see above)"
    "$PY" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT/common" 2> >(grep -v "is ignored: it is neither" >&2) ||
      die "pip install -e common failed (see above)"
    echo "$wanted" >"$stamp"
  fi
}

# ---------------------------------------------------------------- secrets and environment files

random_secret() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))'; }

# Generated once, kept in .var/secrets.env (mode 600).
ensure_secrets() {
  local file="$VAR/secrets.env"
  [[ -f $file ]] && return
  log "generating local passwords and secret keys (.var/secrets.env)"
  umask 077
  {
    echo "PG_ADMIN_PASSWORD=$(random_secret)"
    for service in "${SERVICES[@]}"; do
      local upper=${service%_service}
      upper=${upper^^}
      echo "${upper}_DB_PASSWORD=$(random_secret)"
      echo "${upper}_SECRET_KEY=$(random_secret)"
    done
  } >"$file"
  umask 022
}

load_secrets() {
  set -a
  # shellcheck disable=SC1091
  . "$VAR/secrets.env"
  set +a
}

# The development key pair that signs users_service's tokens (.var/keys/, mode 600); catalog and
# orders only ever get the public half, from users_service's /.well-known/jwks.json.
KEYS_DIR="$VAR/keys"
ensure_signing_key() {
  local key="$KEYS_DIR/users-signing-key.pem"
  [[ -f $key ]] && return
  log "generating the development token signing key (.var/keys/)"
  mkdir -p "$KEYS_DIR"
  chmod 700 "$KEYS_DIR"
  (umask 077 && "$PY" -c 'import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
sys.stdout.buffer.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))' >"$key.tmp" && mv "$key.tmp" "$key")
}

# JWT settings of each service's env file: users_service signs, the others verify through its JWKS.
jwt_env() {
  echo "JWT_ISSUER=shop-users"
  if [[ $1 == users_service ]]; then
    echo "JWT_PRIVATE_KEY_FILE=$KEYS_DIR/users-signing-key.pem"
  else
    echo "JWT_JWKS_URL=http://127.0.0.1:${PORT[users_service]}/.well-known/jwks.json"
    echo "USERS_SERVICE_URL=http://127.0.0.1:${PORT[users_service]}"
  fi
}

local_redis_url() { echo "redis://127.0.0.1:$REDIS_PORT/$1"; }
admin_database_url() { echo "postgres://shop_admin:$PG_ADMIN_PASSWORD@127.0.0.1:$PG_PORT/${1:-postgres}"; }

service_database_url() {
  local service=$1 upper=${1%_service}
  upper=${upper^^}
  local external="${upper}_DATABASE_URL"
  if external_database; then
    echo "${!external}"
  else
    local password="${upper}_DB_PASSWORD"
    echo "postgres://${service%_service}_svc:${!password}@127.0.0.1:$PG_PORT/$DB_NAME"
  fi
}

# .var/env/<service>.env: what the local and test settings read (see common.settings).
write_env_files() {
  mkdir -p "$VAR/env"
  local index=11 service upper secret
  for service in "${SERVICES[@]}"; do
    upper=${service%_service}
    upper=${upper^^}
    secret="${upper}_SECRET_KEY"
    umask 077
    cat >"$VAR/env/$service.env" <<EOF
# Written by ./manage_all.sh; edit the environment or the script, not this file.
DJANGO_SECRET_KEY=${!secret}
DATABASE_URL=$(service_database_url "$service")
REDIS_URL=${REDIS_URL:-$(local_redis_url 0)}
TEST_REDIS_URL=${TEST_REDIS_URL:-$(local_redis_url "$index")}
DJANGO_STATIC_ROOT=$VAR/static/$service
$(jwt_env "$service")
EOF
    umask 022
    mkdir -p "$VAR/static/$service"
    index=$((index + 1))
  done
}

# ---------------------------------------------------------------- Postgres cluster

PGDIR="$VAR/postgres"
PGDATA="$PGDIR/data"

# Postgres refuses to run as root: as root, the cluster belongs to an unprivileged system user.
pg_os_user() {
  if [[ $EUID -ne 0 ]]; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    echo postgres
  else
    id shop-postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin shop-postgres
    echo shop-postgres
  fi
}

as_pg_user() {
  if [[ $EUID -eq 0 ]]; then runuser -u "$(pg_os_user)" -- "$@"; else "$@"; fi
}

ensure_pg_cluster() {
  external_database && return
  [[ -f $PGDATA/PG_VERSION ]] && return
  local bin user
  bin=$(pg_bin_dir) || die "PostgreSQL server binaries not found (apt-get install postgresql)"
  user=$(pg_os_user)
  log "creating the Postgres cluster in .var/postgres (owner: $user)"
  mkdir -p "$PGDIR"
  chown "$user" "$PGDIR"
  if [[ $EUID -eq 0 ]] && ! as_pg_user test -w "$PGDIR"; then
    # The checkout's own folders may be closed (mktemp -d makes 700): let the Postgres user pass through
    # them, without reading them (secrets and keys stay 600/700). Folders above the checkout are left alone.
    chmod o+x "$ROOT" "$VAR"
  fi
  as_pg_user test -w "$PGDIR" ||
    die "the Postgres user '$user' cannot write $PGDIR: a parent folder of the checkout is not open to it (chmod o+x on the parents, or clone elsewhere)"
  local pwfile="$PGDIR/.pwfile"
  printf '%s\n' "$PG_ADMIN_PASSWORD" >"$pwfile"
  chown "$user" "$pwfile"
  chmod 600 "$pwfile"
  as_pg_user "$bin/initdb" --pgdata="$PGDATA" --username=shop_admin --pwfile="$pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 ||
    die "initdb failed; see $PGDIR/initdb.log"
  rm -f "$pwfile"
}

psql_admin() {
  local database=$1
  shift
  PGCONNECT_TIMEOUT=5 PGOPTIONS="-c client_min_messages=warning" "$(pg_bin_dir)/psql" --quiet --no-psqlrc "$(admin_database_url "$database")" "$@"
}

# Create the database (if missing) and its schemas and roles (bootstrap.sql is idempotent).
bootstrap_database() {
  local database=$1
  external_database && return
  if [[ -z $(psql_admin postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'") ]]; then
    psql_admin postgres -c "CREATE DATABASE \"$database\"" >/dev/null
  fi
  psql_admin "$database" -v createdb=true \
    -v users_password="$USERS_DB_PASSWORD" -v catalog_password="$CATALOG_DB_PASSWORD" -v orders_password="$ORDERS_DB_PASSWORD" \
    -f "$ROOT/deploy/postgres/bootstrap.sql" >/dev/null
}

# ---------------------------------------------------------------- supervisor

supervisorctl() { "$VENV/bin/supervisorctl" -c "$SUPERVISOR_CONF" "$@"; }
supervisord_running() { [[ -f $SUPERVISOR_CONF ]] && [[ -x $VENV/bin/supervisorctl ]] && supervisorctl pid >/dev/null 2>&1; }

supervisor_socket() {
  local socket="$VAR/supervisor/supervisor.sock"
  # A unix socket path is limited to about 100 bytes.
  if [[ ${#socket} -gt 100 ]]; then socket="/tmp/shop-supervisor-$(echo "$ROOT" | sha256sum | cut -c1-12).sock"; fi
  echo "$socket"
}

program_block() {
  local name=$1 directory=$2 command=$3 environment=$4 extra=${5:-}
  cat <<EOF

[program:$name]
command=$command
directory=$directory
environment=$environment
autostart=false
autorestart=true
startsecs=2
stopasgroup=true
killasgroup=true
stopwaitsecs=30
redirect_stderr=true
stdout_logfile=$VAR/log/$name.log
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=2
$extra
EOF
}

write_supervisor_conf() {
  mkdir -p "$VAR/supervisor" "$VAR/log" "$VAR/redis" "$VAR/scheduler"
  local socket
  socket=$(supervisor_socket)
  {
    cat <<EOF
; Written by ./manage_all.sh; every program starts only when manage_all.sh asks.
[unix_http_server]
file=$socket
chmod=0700

[supervisord]
logfile=$VAR/log/supervisord.log
pidfile=$VAR/supervisor/supervisord.pid
childlogdir=$VAR/log
user=$(id -un)

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$socket
EOF
    if ! external_database; then
      local pg_user_line=""
      [[ $EUID -eq 0 ]] && pg_user_line="user=$(pg_os_user)"
      program_block postgres "$PGDIR" \
        "$(pg_bin_dir)/postgres -D $PGDATA -c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories='' -c max_connections=200 -c shared_buffers=128MB" \
        'LC_ALL="C.UTF-8"' "$pg_user_line
stopsignal=INT
priority=10"
    fi
    if ! external_redis; then
      program_block redis "$VAR/redis" "$(command -v redis-server) $VAR/redis/redis.conf" 'LC_ALL="C.UTF-8"' "priority=10"
    fi
    local service
    for service in "${SERVICES[@]}"; do
      local short=${service%_service}
      local environment="DJANGO_SETTINGS_MODULE=\"$service.settings.local\",PYTHONUNBUFFERED=\"1\""
      program_block "$short-web" "$ROOT/$service" \
        "$VENV/bin/granian --interface wsgi --host 127.0.0.1 --port ${PORT[$service]} --workers $WEB_WORKERS --blocking-threads 1 --no-ws --respawn-failed-workers --workers-kill-timeout 10 --access-log $service.wsgi:application" \
        "$environment"
      program_block "$short-worker" "$ROOT/$service" \
        "$VENV/bin/celery -A $service worker --queues ${QUEUE[$service]} --hostname $short@%%h --loglevel INFO" \
        "$environment" "stopsignal=TERM"
    done
    program_block scheduler "$VAR/scheduler" \
      "$VENV/bin/celery -A common.scheduler beat --schedule $VAR/scheduler/schedule --loglevel INFO" \
      "REDIS_URL=\"${REDIS_URL:-$(local_redis_url 0)}\",PYTHONUNBUFFERED=\"1\""
  } >"$SUPERVISOR_CONF"

  cat >"$VAR/redis/redis.conf" <<EOF
# Written by ./manage_all.sh
bind 127.0.0.1
port $REDIS_PORT
dir $VAR/redis
protected-mode yes
daemonize no
appendonly yes
appendfsync everysec
save ""
maxmemory 512mb
maxmemory-policy noeviction
EOF
}

start_supervisord() {
  supervisord_running && return 1
  supervisord_pid >/dev/null && cmd_down # a shutdown still under way
  "$VENV/bin/supervisord" -c "$SUPERVISOR_CONF" || die "supervisord did not start; see $VAR/log/supervisord.log"
  local i
  for i in $(seq 1 50); do
    supervisord_running && return 0
    sleep 0.2
  done
  die "supervisord did not answer; see $VAR/log/supervisord.log"
}

program_running() { supervisorctl status "$1" 2>/dev/null | grep -q RUNNING; }

port_free() { "$PY" -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }

port_owner() {
  if command -v ss >/dev/null; then ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\).*/\1/p' | head -n 1; fi
}

# Start programs that are not running, all at once; refuse clearly when a port is taken by something else.
# Arguments: name[:port] ...
start_programs() {
  local spec name port owner to_start=()
  for spec in "$@"; do
    name=${spec%%:*}
    port=${spec#"$name"}
    port=${port#:}
    program_running "$name" && continue
    if [[ -n $port ]] && ! port_free "$port"; then
      owner=$(port_owner "$port")
      die "port $port, needed by $name, is taken${owner:+ by $owner}. Stop that program, or choose another port (see README, Configuration)."
    fi
    to_start+=("$name")
  done
  [[ ${#to_start[@]} -gt 0 ]] || return 0
  supervisorctl start "${to_start[@]}" >/dev/null || {
    supervisorctl status "${to_start[@]}" >&2 || true
    die "some programs did not start; see their logs with ./manage_all.sh logs <program> (in $VAR/log/)"
  }
}

# wait_until <seconds> <command...>: poll the command until it succeeds or time runs out.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.3
  done
}

pg_ready() { "$(pg_bin_dir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
redis_ready() { redis-cli -p "$REDIS_PORT" ping | grep -q PONG; }

start_infrastructure() {
  if ! external_database; then
    start_programs "postgres:$PG_PORT"
    wait_until 60 pg_ready || die "Postgres did not accept connections; see $VAR/log/postgres.log"
  fi
  if ! external_redis; then
    start_programs "redis:$REDIS_PORT"
    wait_until 30 redis_ready || die "Redis did not answer; see $VAR/log/redis.log"
  fi
}

http_status() { "$PY" -c 'import sys, urllib.request as u
try: print(u.urlopen(sys.argv[1], timeout=3).status)
except Exception as e: print(getattr(e, "code", 0))' "$1"; }

service_ready() { [[ $(http_status "http://127.0.0.1:${PORT[$1]}/health/ready/") == 200 ]]; }

# ---------------------------------------------------------------- commands

setup() {
  mkdir -p "$VAR"
  ensure_system_packages
  ensure_venv
  ensure_secrets
  load_secrets
  ensure_signing_key
  ensure_pg_cluster
  write_env_files
  write_supervisor_conf
}

manage() {
  local service=$1
  shift
  (cd "$ROOT/$service" && DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-$service.settings.local}" "$PY" manage.py "$@")
}

cmd_up() {
  local started=$SECONDS
  setup
  if ! start_supervisord; then
    # supervisord already runs: reread the configuration in case ports or paths changed.
    supervisorctl reread >/dev/null && supervisorctl update >/dev/null
  fi
  start_infrastructure
  bootstrap_database "$DB_NAME"
  local service
  for service in "${SERVICES[@]}"; do
    log "migrating $service"
    manage "$service" migrate --no-input >"$VAR/log/migrate-$service.log" 2>&1 || {
      tail -n 30 "$VAR/log/migrate-$service.log" >&2
      die "migrations of $service failed"
    }
  done
  log "loading the demo catalogue (creates only what is missing)"
  manage catalog_service load_demo_catalog >"$VAR/log/demo-catalog.log" 2>&1 || {
    tail -n 30 "$VAR/log/demo-catalog.log" >&2
    die "loading the demo catalogue failed"
  }
  log "starting web servers, workers and the scheduler"
  local programs=(scheduler)
  for service in "${SERVICES[@]}"; do
    programs+=("${service%_service}-web:${PORT[$service]}" "${service%_service}-worker")
  done
  start_programs "${programs[@]}"
  for service in "${SERVICES[@]}"; do
    wait_until "$READY_TIMEOUT" service_ready "$service" || {
      tail -n 20 "$VAR/log/${service%_service}-web.log" >&2 || true
      die "$service is not ready after ${READY_TIMEOUT}s: http://127.0.0.1:${PORT[$service]}/health/ready/ answers $(http_status "http://127.0.0.1:${PORT[$service]}/health/ready/")"
    }
  done
  log "ready in $((SECONDS - started))s"
  for service in "${SERVICES[@]}"; do
    local base="http://127.0.0.1:${PORT[$service]}"
    printf '  %-16s %s/api/v1/   docs %s/api/docs/   admin %s/admin/\n' "$service" "$base" "$base" "$base"
  done
  echo "  Create an operator: ./manage_all.sh manage users_service createsuperuser"
}

supervisord_pid() {
  local pidfile="$VAR/supervisor/supervisord.pid"
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"
}

cmd_down() {
  local pid
  if pid=$(supervisord_pid); then
    log "stopping every process"
    supervisorctl shutdown >/dev/null 2>&1 || true # fails harmlessly when a shutdown is already under way
    # supervisord exits once every program has stopped (each within its stopwaitsecs).
    wait_until 90 sh -c "! kill -0 $pid" || die "supervisord (pid $pid) did not stop; see $VAR/log/supervisord.log"
  fi
  log "stopped (data kept in .var/)"
}

cmd_status() {
  if ! supervisord_running; then
    echo "not running (./manage_all.sh up starts it)"
    return 3
  fi
  supervisorctl status || true
  local service code
  for service in "${SERVICES[@]}"; do
    code=$(http_status "http://127.0.0.1:${PORT[$service]}/health/ready/")
    printf '%-16s http://127.0.0.1:%s/health/ready/ -> %s\n' "$service" "${PORT[$service]}" "$code"
  done
}

cmd_logs() {
  if [[ $# -gt 0 ]]; then
    [[ -f $VAR/log/$1.log ]] || die "no log for '$1'; there are: $(cd "$VAR/log" && ls ./*.log | xargs -n1 basename | sed 's/\.log$//' | tr '\n' ' ')"
    tail -n 200 -F "$VAR/log/$1.log"
  else
    tail -n 20 -F "$VAR"/log/*.log
  fi
}

run_step() {
  local name=$1
  shift
  log "$name"
  if "$@"; then
    STEPS_PASSED+=("$name")
  else
    STEPS_FAILED+=("$name")
  fi
}

lint() {
  (cd "$ROOT" && "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . &&
    PYTHONPATH="$ROOT/users_service:$ROOT/catalog_service:$ROOT/orders_service" "$VENV/bin/lint-imports")
}

makemigrations_check() {
  local service status=0
  for service in "${SERVICES[@]}"; do
    manage "$service" makemigrations --check --dry-run >/dev/null || {
      echo "$service has model changes without migrations (run: ./manage_all.sh manage $service makemigrations)"
      status=1
    }
  done
  return $status
}

service_tests() { (cd "$ROOT/$1" && "$VENV/bin/pytest" -q -p no:cacheprovider); }

cross_service_tests() {
  (cd "$ROOT" && "$VENV/bin/pytest" -q -p no:cacheprovider tests)
}

stop_if_started_by_test() {
  if [[ ${TEST_STARTED_SUPERVISOR:-0} == 1 ]]; then cmd_down >/dev/null 2>&1 || true; fi
}

# Postgres and Redis for test and bench; stopped on exit only if this command started them.
start_infrastructure_for_command() {
  setup
  TEST_STARTED_SUPERVISOR=0
  if start_supervisord; then TEST_STARTED_SUPERVISOR=1; fi
  # Stop only what this command started; a running `up` is left as it was.
  trap stop_if_started_by_test EXIT
  start_infrastructure
  bootstrap_database "$DB_NAME"
  export SHOP_ADMIN_DATABASE_URL
  SHOP_ADMIN_DATABASE_URL="$(admin_database_url postgres)"
}

cmd_bench() {
  command -v wrk >/dev/null || apt_install wrk
  start_infrastructure_for_command
  (cd "$ROOT" && "$PY" bench/run.py "$@")
}

bench_quick() {
  command -v wrk >/dev/null || apt_install wrk
  (cd "$ROOT" && "$PY" bench/run.py --quick --output "$VAR/bench/quick")
}

cmd_test() {
  local started=$SECONDS
  start_infrastructure_for_command

  STEPS_PASSED=()
  STEPS_FAILED=()
  run_step "lint (ruff, import-linter)" lint
  run_step "makemigrations --check" makemigrations_check
  local service
  for service in "${SERVICES[@]}"; do run_step "$service tests" service_tests "$service"; done
  run_step "cross-service tests" cross_service_tests
  run_step "benchmark harness (bench --quick: errors fail, figures never do)" bench_quick

  echo
  log "test summary ($((SECONDS - started))s)"
  local step
  for step in "${STEPS_PASSED[@]}"; do echo "  passed: $step"; done
  for step in "${STEPS_FAILED[@]}"; do echo "  FAILED: $step"; done
  [[ ${#STEPS_FAILED[@]} -eq 0 ]]
}

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

main() {
  local command=${1:-}
  [[ $# -gt 0 ]] && shift
  case "$command" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    manage)
      [[ $# -ge 1 ]] || die "usage: ./manage_all.sh manage <service> <args>  (services: ${SERVICES[*]})"
      [[ " ${SERVICES[*]} " == *" $1 "* ]] || die "unknown service '$1' (services: ${SERVICES[*]})"
      setup
      manage "$@"
      ;;
    test) cmd_test ;;
    bench) cmd_bench "$@" ;;
    -h | --help | help | "") usage ;;
    *)
      echo "unknown command '$command'" >&2
      usage 2
      ;;
  esac
}

main "$@"
