#!/usr/bin/env bash
# Run, inspect and test the whole shop system on one machine, no container engine needed.
#
#   ./manage_all.sh up [--scale PROCESS=N ...]   set up what is missing, start everything, wait until ready
#   ./manage_all.sh down      stop everything (data is kept under .var/)
#   ./manage_all.sh status    each process, and each service's readiness
#   ./manage_all.sh logs [process]
#   ./manage_all.sh manage <service> <args>   e.g. manage users_service createsuperuser
#   ./manage_all.sh test      lint, each service's tests, the cross-service tests
#   ./manage_all.sh bench [--quick] [--telemetry-only] [--profile]   throughput, saga latency, memory, telemetry's
#                             cost, where an order's CPU goes (results in .var/bench/)
#   ./manage_all.sh chaos [--minutes N] [--seed S]   mixed load while random processes die, then reconciliation
#
# This script only bootstraps: Python's venv module (apt) and the virtual environment with the pinned
# dependencies in .var/venv. The commands themselves are Python: shopctl/cli.py, drawing every process
# from shopctl/processes.py. Ports and external servers come from the environment (README, Configuration).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VAR="$ROOT/.var"
VENV="$VAR/venv"
PY="$VENV/bin/python"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
  printf '\033[31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

ensure_python() {
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
    die "Python 3.11 or newer is needed as python3"
  python3 -c 'import venv, ensurepip' 2>/dev/null && return
  [[ $EUID -eq 0 ]] || die "missing: python3-venv. Install with: sudo apt-get update && sudo apt-get install -y python3-venv"
  command -v apt-get >/dev/null || die "missing: python3-venv, and this machine has no apt-get"
  log "installing python3-venv (apt)"
  mkdir -p "$VAR"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv; } \
    >>"$VAR/apt.log" 2>&1 || die "apt-get install python3-venv failed; see $VAR/apt.log"
}

# The pinned dependencies, installed again whenever the requirements change.
ensure_venv() {
  [[ -x $PY ]] || {
    log "creating the virtual environment in .var/venv"
    mkdir -p "$VAR"
    python3 -m venv "$VENV"
  }
  local stamp="$VENV/.requirements.sha256" wanted
  wanted=$(cat "$ROOT/requirements/base.txt" "$ROOT/requirements/dev.txt" "$ROOT/common/pyproject.toml" "$ROOT/common/testing/pyproject.toml" | sha256sum | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
    log "installing pinned dependencies (requirements/base.txt, requirements/dev.txt)"
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements/base.txt" -r "$ROOT/requirements/dev.txt" 2> >(grep -v "is ignored: it is neither" >&2) ||
      die "pip install failed (see above)"
    "$PY" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT/common" -e "$ROOT/common/testing" 2> >(grep -v "is ignored: it is neither" >&2) ||
      die "pip install -e common failed (see above)"
    echo "$wanted" >"$stamp"
  fi
}

case "${1:-}" in
  "" | -h | --help | help)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
ensure_python
ensure_venv
cd "$ROOT"
exec "$PY" -m shopctl "$@"
