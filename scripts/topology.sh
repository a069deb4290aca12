#!/usr/bin/env bash
# The several-server topology on one box (docs/topology.md): a primary PostgreSQL with a synchronous
# hot-standby streaming replica, two `huying serve` instances behind HAProxy, two `huying worker`s.
#
#   bash scripts/topology.sh up        create and start everything (says so if it is already up)
#   bash scripts/topology.sh status    what runs, on which port
#   bash scripts/topology.sh down      stop everything it started; nothing is left running
#   bash scripts/topology.sh failover  the failover procedure, once the primary is dead: promote the
#                                      standby (the app's URL names both servers, read-write only, so it
#                                      reconnects by itself), then narrow DATABASE_URL to the promoted
#                                      server and restart the web and worker processes one by one
#   bash scripts/topology.sh restart-app   restart the two web instances and the two workers from var/topology/env
#
# Everything listens on 127.0.0.1 only; all state is under var/topology/ (ignored by git). The
# PostgreSQL clusters use trust authentication: local and throwaway, never a production setting.
# Debian's PostgreSQL 15 binaries (PGBIN) and HAProxy; the machine's own cluster on 5432 is not touched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
T="$ROOT/var/topology"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
PY="$ROOT/.venv/bin/python"
PG1_PORT="${HUYING_TOPO_PG1_PORT:-5442}"    # the first primary
PG2_PORT="${HUYING_TOPO_PG2_PORT:-5443}"    # its streaming standby (the primary after a failover)
LB_PORT="${HUYING_TOPO_LB_PORT:-8100}"      # HAProxy: the application's one address
WEB1_PORT="${HUYING_TOPO_WEB1_PORT:-8101}"
WEB2_PORT="${HUYING_TOPO_WEB2_PORT:-8102}"
STATS_PORT="${HUYING_TOPO_STATS_PORT:-8109}" # HAProxy's statistics page, /stats
DB=huying
SLOT=huying_standby                          # replication slot and the standby's application_name
API_USER=topology-api

say() { echo "topology: $*"; }
die() { echo "topology: ERROR: $*" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (Debian's postgresql package)"
  pg() { runuser -u postgres -- "$@"; }
  PGOWNER=postgres
else
  pg() { "$@"; }
  PGOWNER="$(id -un)"
fi

pid_alive() {  # a zombie (killed, not yet reaped by its parent) counts as gone
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
pid_of() { [ -f "$T/pids" ] && awk -v n="$1" '$1 == n {print $2}' "$T/pids" | tail -1 || true; }
set_pid() {  # name pid
  touch "$T/pids"
  { grep -v "^$1 " "$T/pids" || true; echo "$1 $2"; } > "$T/pids.new"
  mv "$T/pids.new" "$T/pids"
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pg_running() {  # datadir: its postmaster lives (a live pid whose working directory is the data dir)
  local pid
  [ -f "$1/postmaster.pid" ] || return 1
  pid="$(head -1 "$1/postmaster.pid")"
  pid_alive "$pid" && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$1" ]
}
psql_at() { local port="$1"; shift; "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }

wait_http() {  # port seconds
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    if "$PY" - "$1" <<'EOF' 2>/dev/null; then return 0; fi
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
c.request("GET", "/healthz")
sys.exit(0 if c.getresponse().status == 200 else 1)
EOF
    sleep 0.2
  done
  return 1
}

# -- the application processes --------------------------------------------------------------------

app_env() {  # the application's environment: var/topology/env plus the secret key
  set -a
  # shellcheck disable=SC1091
  . "$T/env"
  set +a
  HUYING_SECRET_KEY="$(cat "$T/secret_key")"
  export HUYING_SECRET_KEY
}

launch_web() {  # name port
  local name="$1" port="$2"
  port_busy "$port" && die "port $port (for $name) is taken by another process"
  (app_env; cd "$ROOT"; exec setsid "$ROOT/.venv/bin/huying" serve --host 127.0.0.1 --port "$port" \
      --workers "${HUYING_TOPO_WEB_WORKERS:-2}" --threads "${HUYING_TOPO_WEB_THREADS:-4}") \
    >>"$T/log/$name.log" 2>&1 < /dev/null &
  set_pid "$name" "$!"
}

await_web() {  # name port
  wait_http "$2" 90 || die "$1 did not answer on 127.0.0.1:$2 within 90 s; see $T/log/$1.log"
  say "$1: huying serve (gunicorn) on 127.0.0.1:$2, pid $(pid_of "$1")"
}

start_web() { launch_web "$1" "$2"; await_web "$1" "$2"; }

start_worker() {  # name
  local name="$1"
  (app_env; cd "$ROOT"; exec setsid "$ROOT/.venv/bin/huying" worker) >>"$T/log/$name.log" 2>&1 < /dev/null &
  set_pid "$name" "$!"
  sleep 0.5
  pid_alive "$(pid_of "$name")" || die "$name exited at once; see $T/log/$name.log"
  say "$name: huying worker, pid $(pid_of "$name")"
}

stop_pid() {  # name [signal]: SIGTERM (gunicorn: graceful) or the one given, then SIGKILL after 20 s
  local name="$1" sig="${2:-TERM}" pid i
  pid="$(pid_of "$name")"
  if pid_alive "$pid"; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do pid_alive "$pid" || break; sleep 0.2; done
    if pid_alive "$pid"; then
      say "$name (pid $pid) did not stop in 20 s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    say "$name stopped (pid $pid)"
  fi
}

restart_app() {
  # A planned restart (restart-app): one web instance at a time, gracefully (SIGTERM lets requests
  # finish); HAProxy sends everything to the other meanwhile.
  local n
  for n in web1 web2; do
    stop_pid "$n"
    if [ "$n" = web1 ]; then start_web web1 "$WEB1_PORT"; else start_web web2 "$WEB2_PORT"; fi
  done
  for n in worker1 worker2; do stop_pid "$n"; start_worker "$n"; done
}

# -- PostgreSQL ---------------------------------------------------------------------------------------

pg_conf() {  # datadir port cluster-name: the settings both clusters share
  cat >> "$1/postgresql.conf" <<EOF

# --- scripts/topology.sh ---
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = ''
cluster_name = '$3'
wal_level = replica
max_wal_senders = 8
max_replication_slots = 8
hot_standby = on
hot_standby_feedback = on
wal_log_hints = on                     # lets pg_rewind turn a failed primary into a standby
synchronous_commit = on                # with synchronous_standby_names: a commit waits for the standby's flush
max_connections = 200
logging_collector = off
EOF
}

start_pg() {  # datadir name
  pg "$PGBIN/pg_ctl" -D "$1" -l "$T/log/$2.log" -w -t 60 start >/dev/null \
    || die "PostgreSQL $2 did not start; see $T/log/$2.log"
}

kill_orphans() {  # datadir: backends a SIGKILLed postmaster left behind (their working directory is the data dir)
  local dir="$1" p
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/cwd" 2>/dev/null || true)" = "$dir" ]; then
      kill -KILL "${p#/proc/}" 2>/dev/null || true
    fi
  done
}

stop_pg() {  # datadir name
  if pg_running "$1"; then
    pg "$PGBIN/pg_ctl" -D "$1" -m fast -w -t 60 stop >/dev/null || die "could not stop PostgreSQL $2"
    say "$2 stopped"
  elif [ -d "$1" ]; then
    say "$2 is not running (already stopped or killed)"
  fi
  kill_orphans "$1"
}

# -- up / down / status -------------------------------------------------------------------------------

is_up() {
  local n
  for n in haproxy web1 web2 worker1 worker2; do pid_alive "$(pid_of "$n")" && return 0; done
  pg_running "$T/pg1" && return 0
  pg_running "$T/pg2" && return 0
  return 1
}

cmd_status() {
  local n pid state
  if [ ! -d "$T" ]; then echo "topology: not set up (no $T)"; return 0; fi
  for n in pg1 pg2; do
    if pg_running "$T/$n"; then
      local port role
      port="$(grep -E '^port = ' "$T/$n/postgresql.conf" | tail -1 | awk '{print $3}')"
      role="$(psql_at "$port" -d postgres -Atc "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END" 2>/dev/null || echo '?')"
      echo "$n   PostgreSQL 127.0.0.1:$port  $role  pid $(head -1 "$T/$n/postmaster.pid")"
    else
      echo "$n   PostgreSQL  not running"
    fi
  done
  for n in haproxy web1 web2 worker1 worker2; do
    pid="$(pid_of "$n")"
    if pid_alive "$pid"; then state="running pid $pid"; else state="not running"; fi
    echo "$n $state"
  done
  [ -f "$T/env" ] && grep -E '^(DATABASE_URL|HUYING_REPLICA_URL|HUYING_TOPOLOGY_PRIMARY|HUYING_TOPOLOGY_URL)=' "$T/env" || true
  for n in pg1 pg2; do
    if pg_running "$T/$n"; then
      local port
      port="$(grep -E '^port = ' "$T/$n/postgresql.conf" | tail -1 | awk '{print $3}')"
      psql_at "$port" -d postgres -Atc \
        "SELECT 'replication from $n: ' || application_name || ' ' || state || ' ' || sync_state FROM pg_stat_replication" 2>/dev/null || true
    fi
  done
}

cmd_up() {
  local started=$SECONDS
  if [ -d "$T" ] && is_up; then
    say "already up (run 'bash scripts/topology.sh down' first to rebuild it)"
    cmd_status
    return 0
  fi
  [ -x "$PGBIN/initdb" ] || die "no PostgreSQL binaries in $PGBIN (apt-get install postgresql-15, or set PGBIN)"
  [ -x "$PY" ] || die "no $PY: set up the venv first (README: python3 -m venv .venv && .venv/bin/pip install -e .)"
  if ! command -v haproxy >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      say "installing HAProxy (apt-get install haproxy)"
      apt-get install -y -qq haproxy >/dev/null || die "apt-get install haproxy failed"
    else
      die "HAProxy is missing: sudo apt-get install haproxy"
    fi
  fi
  local p
  for p in "$PG1_PORT" "$PG2_PORT" "$LB_PORT" "$WEB1_PORT" "$WEB2_PORT" "$STATS_PORT"; do
    port_busy "$p" && die "port 127.0.0.1:$p is taken by another process (see docs/topology.md for the ports)"
  done

  # A fresh start: earlier clusters (a stopped or failed-over topology) are removed; the key stays.
  mkdir -p "$T"
  rm -rf "$T/pg1" "$T/pg2" "$T/log" "$T/pids" "$T/env" "$T/token" "$T/haproxy.cfg" "$T/haproxy.pid"
  mkdir -p "$T/log" "$T/app"
  chmod 0755 "$T" "$T/log"
  [ "$(id -u)" = 0 ] && chown "$PGOWNER" "$T/log"
  if [ ! -s "$T/secret_key" ]; then
    (umask 077; "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' > "$T/secret_key")
  fi

  say "primary PostgreSQL pg1: initdb, 127.0.0.1:$PG1_PORT"
  mkdir -p "$T/pg1" && chown "$PGOWNER" "$T/pg1" && chmod 700 "$T/pg1"
  pg "$PGBIN/initdb" -D "$T/pg1" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$T/log/initdb.log" 2>&1 \
    || die "initdb failed; see $T/log/initdb.log"
  pg_conf "$T/pg1" "$PG1_PORT" huying-pg1
  # Every commit waits until the standby has flushed it: an acknowledged order is on two servers.
  echo "synchronous_standby_names = '$SLOT'" >> "$T/pg1/postgresql.conf"
  start_pg "$T/pg1" pg1

  say "standby PostgreSQL pg2: pg_basebackup -R with the physical slot '$SLOT', 127.0.0.1:$PG2_PORT"
  mkdir -p "$T/pg2" && chown "$PGOWNER" "$T/pg2" && chmod 700 "$T/pg2"
  pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG1_PORT" -U postgres -D "$T/pg2" -R -C -S "$SLOT" -X stream -c fast \
    >"$T/log/basebackup.log" 2>&1 || die "pg_basebackup failed; see $T/log/basebackup.log"
  # The copied postgresql.conf is pg1's: the standby gets its own port and name, no standby of its
  # own to wait for (after a promotion it would otherwise hang every commit), and names itself to
  # the primary so synchronous_standby_names matches.
  cat >> "$T/pg2/postgresql.conf" <<EOF
port = $PG2_PORT
cluster_name = 'huying-pg2'
synchronous_standby_names = ''
EOF
  echo "primary_conninfo = 'host=127.0.0.1 port=$PG1_PORT user=postgres application_name=$SLOT'" \
    >> "$T/pg2/postgresql.auto.conf"
  start_pg "$T/pg2" pg2
  local i state=""
  for ((i = 0; i < 100; i++)); do
    state="$(psql_at "$PG1_PORT" -d postgres -Atc \
      "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$SLOT'" 2>/dev/null || true)"
    [ "$state" = sync ] && break
    sleep 0.2
  done
  [ "$state" = sync ] || die "the standby is not streaming synchronously (state '$state'); see $T/log/pg2.log"
  say "pg2 streams from pg1, sync_state=sync"

  psql_at "$PG1_PORT" -d postgres -c "CREATE DATABASE $DB" >/dev/null || die "CREATE DATABASE failed"
  local url="postgres://postgres@127.0.0.1:$PG1_PORT/$DB"
  # The application's URL names both servers; libpq connects to the one that accepts writes
  # (target_session_attrs=read-write), so after a promotion new connections find the new primary
  # without a restart. `failover` then narrows it to the promoted server alone (docs/topology.md).
  local app_url="postgres://postgres@/$DB?host=127.0.0.1,127.0.0.1&port=$PG1_PORT,$PG2_PORT&target_session_attrs=read-write&connect_timeout=2"
  local replica_line="HUYING_REPLICA_URL=postgres://postgres@127.0.0.1:$PG2_PORT/$DB"
  cat > "$T/env" <<EOF
# written by scripts/topology.sh up (sourced by bash: quote what has & or spaces); 'failover' rewrites DATABASE_URL, HUYING_TOPOLOGY_PRIMARY and the replica line
DATABASE_URL='$app_url'
HUYING_TOPOLOGY_PRIMARY=$url
$replica_line
HUYING_TOPOLOGY_URL=http://127.0.0.1:$LB_PORT
HUYING_TOPOLOGY_PG1=postgres://postgres@127.0.0.1:$PG1_PORT/$DB
HUYING_TOPOLOGY_PG2=postgres://postgres@127.0.0.1:$PG2_PORT/$DB
HUYING_VAR_DIR=$T/app
DJANGO_SETTINGS_MODULE=huying.settings
HUYING_DISPATCH_AUTO=1
HUYING_CONN_HEALTH_CHECKS=1
HUYING_RATE_API=1000000/m
HUYING_TRUSTED_PROXIES=127.0.0.1
HUYING_LOG_LEVEL=WARNING
EOF

  say "huying migrate, then 越秀区, the demo organisation and the subjects (into $url)"
  (app_env; cd "$ROOT"
   "$ROOT/.venv/bin/huying" migrate --verbosity 0
   "$ROOT/.venv/bin/huying" createcachetable --verbosity 0
   "$PY" - "$T/token" "$API_USER" <<'EOF'
import os
import sys
import time

import django

django.setup()
from huying.dispatch import reference  # noqa: E402
from huying.dispatch.seed import dispatch_seed  # noqa: E402
from huying.people.demo import COMMAND_CODE, demo_org_seed  # noqa: E402
from huying.people.models import Unit, User  # noqa: E402
from huying.people.services import api_token_create, user_create  # noqa: E402
from huying.territory.models import UNIFIED_LAYER, Grid  # noqa: E402
from huying.territory.testing import load_territory  # noqa: E402

from django.db import connection  # noqa: E402

if connection.vendor != "postgresql":
    sys.exit(f"topology: the application is on {connection.vendor}, not the topology's PostgreSQL: check {sys.argv[1]}/../env")
t = time.perf_counter()
if not Grid.objects.filter(layer=UNIFIED_LAYER, code__startswith="440104").exists():
    load_territory(districts=("440104",))
if not Unit.objects.filter(code=COMMAND_CODE).exists():
    demo_org_seed(password=os.environ["HUYING_SECRET_KEY"][:24])
dispatch_seed()
reference.reset()
user = User.objects.filter(username=sys.argv[2]).first() or user_create(
    username=sys.argv[2], password=os.environ["HUYING_SECRET_KEY"][:24], display_name="拓扑演练接口",
    actor=None, check_password=False)
_row, token = api_token_create(user, name="scripts/topology.sh", actor=None)
with open(sys.argv[1], "w") as f:
    os.chmod(sys.argv[1], 0o600)
    f.write(token + "\n")
print(f"topology: data loaded in {time.perf_counter() - t:.1f} s "
      f"({Grid.objects.filter(layer=UNIFIED_LAYER).count()} grids, {Unit.objects.count()} units)")
EOF
  ) || die "migrate or the data load failed"

  start_web web1 "$WEB1_PORT"
  start_web web2 "$WEB2_PORT"
  start_worker worker1
  start_worker worker2

  cat > "$T/haproxy.cfg" <<EOF
# written by scripts/topology.sh: HAProxy in front of the two web instances
global
    maxconn 2000
    log stderr format short local0 warning

defaults
    mode http
    log global
    option httplog
    option forwardfor
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 10s
    # A refused connection (an instance restarting) is retried on the other instance; the request
    # had not reached any application, so this cannot run it twice. Nothing else is retried here:
    # a request that reached an instance is the client's to repeat, with its Idempotency-Key.
    retries 3
    option redispatch 1
    retry-on conn-failure

frontend huying
    bind 127.0.0.1:$LB_PORT
    default_backend web

backend web
    balance leastconn
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 1s fall 2 rise 1
    server web1 127.0.0.1:$WEB1_PORT check
    server web2 127.0.0.1:$WEB2_PORT check

listen stats
    bind 127.0.0.1:$STATS_PORT
    stats enable
    stats uri /stats
EOF
  haproxy -c -q -f "$T/haproxy.cfg" || die "the HAProxy configuration does not check: $T/haproxy.cfg"
  haproxy -D -f "$T/haproxy.cfg" -p "$T/haproxy.pid" 2>>"$T/log/haproxy.log" || die "HAProxy did not start; see $T/log/haproxy.log"
  set_pid haproxy "$(head -1 "$T/haproxy.pid")"
  wait_http "$LB_PORT" 30 || die "HAProxy does not answer on 127.0.0.1:$LB_PORT"
  say "haproxy: 127.0.0.1:$LB_PORT -> web1, web2 (health checks GET /healthz every second: database answers and takes writes); stats 127.0.0.1:$STATS_PORT/stats"
  say "up in $((SECONDS - started)) s: application http://127.0.0.1:$LB_PORT/, env in $T/env, API token in $T/token"
}

cmd_down() {
  if [ ! -d "$T" ]; then say "nothing to stop (no $T)"; return 0; fi
  local n
  for n in haproxy web1 web2 worker1 worker2; do stop_pid "$n"; done
  stop_pg "$T/pg1" pg1
  stop_pg "$T/pg2" pg2
  rm -f "$T/pids" "$T/haproxy.pid"
  say "down: nothing of the topology runs (data left in $T until the next 'up')"
}

cmd_failover() {
  # The procedure once the primary is lost. Which server is which comes from the env's DATABASE_URL.
  [ -f "$T/env" ] || die "no $T/env: the topology is not up"
  local cur new_dir new_port old_dir old_name new_name i
  cur="$(grep -E '^HUYING_TOPOLOGY_PRIMARY=' "$T/env" | sed -E 's/.*:([0-9]+)\/.*/\1/')"
  if [ "$cur" = "$PG1_PORT" ]; then old_dir="$T/pg1"; old_name=pg1; new_dir="$T/pg2"; new_name=pg2; new_port="$PG2_PORT"
  else old_dir="$T/pg2"; old_name=pg2; new_dir="$T/pg1"; new_name=pg1; new_port="$PG1_PORT"; fi
  # 1. Fence: never promote while the old primary still answers (two primaries would split the orders).
  # (A killed postmaster takes a moment to be reaped and to close its port: wait up to 15 s.)
  for ((i = 0; i < 75; i++)); do
    pg_running "$old_dir" || "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$cur" -t 1 || break
    sleep 0.2
  done
  if pg_running "$old_dir" || "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$cur" -t 1; then
    die "the primary $old_name (port $cur) still runs: stop it first (pg_ctl stop -m immediate), then fail over"
  fi
  kill_orphans "$old_dir"
  say "1/3 $old_name is down ($(date +%T.%3N)); promoting $new_name (127.0.0.1:$new_port)"
  pg "$PGBIN/pg_ctl" -D "$new_dir" -w -t 60 promote >/dev/null || die "pg_ctl promote failed; see $T/log/$new_name.log"
  for ((i = 0; i < 100; i++)); do
    [ "$(psql_at "$new_port" -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null || true)" = f ] && break
    sleep 0.1
  done
  # 2. The running processes reconnect by themselves (their URL names both servers, read-write
  #    only). Fence the old primary out: the URL names the promoted server alone from now on.
  sed -i -E "s#^DATABASE_URL=.*#DATABASE_URL='postgres://postgres@127.0.0.1:$new_port/$DB'#" "$T/env"
  sed -i -E "s#^HUYING_TOPOLOGY_PRIMARY=.*#HUYING_TOPOLOGY_PRIMARY=postgres://postgres@127.0.0.1:$new_port/$DB#" "$T/env"
  sed -i -E "s#^HUYING_REPLICA_URL=.*#\# HUYING_REPLICA_URL: none until a new standby is built (docs/topology.md)#" "$T/env"
  say "2/3 promoted ($(date +%T.%3N)); DATABASE_URL=postgres://postgres@127.0.0.1:$new_port/$DB in $T/env"
  # 3. Restart the web instances one at a time (gracefully: the other serves meanwhile) and the
  #    workers, so that they read the new URL.
  say "3/3 rolling restart with the new URL: web1, web2, worker1, worker2 ($(date +%T.%3N))"
  restart_app
  say "failover done: the application writes to $new_name; it has no standby now (see docs/topology.md)"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  failover) cmd_failover ;;
  restart-app) [ -f "$T/env" ] || die "not up"; restart_app ;;
  *) echo "usage: bash scripts/topology.sh up|down|status|failover|restart-app" >&2; exit 2 ;;
esac
