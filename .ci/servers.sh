#!/usr/bin/env bash
# Real PostgreSQL and Redis servers on localhost for the production example.
#
#   .ci/servers.sh start DIR   install (Debian packages) if missing, start both in DIR,
#                              print DATABASE_URL=... and REDIS_URL=... lines
#   .ci/servers.sh stop DIR    stop both and remove DIR
#
# Throwaway servers: trust auth on 127.0.0.1 only, no persistence, ports picked free.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?a scratch directory}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_pg() {  # initdb and postgres refuse to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$pgbin" ] || ! command -v redis-server >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq --no-install-recommends postgresql redis-server >&2
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  pg_port=$(free_port)
  as_pg "$pgbin/initdb" -D "$dir/pg" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_pg "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 60 \
    -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >&2 ||
    { cat "$dir/pg.log" >&2; exit 1; }
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >&2
  for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  redis-cli -p "$redis_port" ping | grep -q PONG || { cat "$dir/redis.log" >&2; exit 1; }
  echo "DATABASE_URL=postgresql://postgres@127.0.0.1:$pg_port/postgres"
  echo "REDIS_URL=redis://127.0.0.1:$redis_port/0"
  ;;
stop)
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$pgbin" ] && [ -f "$dir/pg/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$dir/pg" -m fast -w stop >&2 || true
  fi
  if [ -f "$dir/redis.pid" ]; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
