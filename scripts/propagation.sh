#!/usr/bin/env bash
# Propagation between nodes: one PostgreSQL, three Ward nodes of one deployment; a change on node 1
# (revoke, disable, rotate, logout, subject, signed jti, refresh family), and how long until nodes
# 2 and 3 answer for it. scripts/propagation.py does the measuring and prints p50/p99 per kind
# (target: p99 < 100 ms); docs/benchmarks.md records runs.
#
# Settings (environment): ROUNDS=100 per kind, TARGET_MS=100, PROFILE=release,
# PORT_BASE=19780 (PostgreSQL on PORT_BASE, the nodes on the next three ports).
# Loopback only; everything started here is stopped on exit.
set -euo pipefail

ROUNDS=${ROUNDS:-100}
PROFILE=${PROFILE:-release}
PORT_BASE=${PORT_BASE:-19780}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

cd "$(dirname "$0")/.."
[ -x "$PG_BIN/initdb" ] || { echo "propagation.sh: PostgreSQL 15 is not installed (apt-get install postgresql-15)" >&2; exit 2; }

echo "== building ward ($PROFILE)"
cargo build --profile "$PROFILE" --quiet -p ward --bin ward
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
ward_bin="${target_dir:-$(pwd)/target}/$PROFILE/ward"

work=$(mktemp -d)
chmod 755 "$work"
pids=()
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== PostgreSQL on 127.0.0.1:$PORT_BASE"
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
"${as_pg[@]}" "$PG_BIN/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$work/pg" -o "-p $PORT_BASE -k $work/pg -c listen_addresses=127.0.0.1" \
  -l "$work/pg/log" -w start >/dev/null
store="postgres://postgres@127.0.0.1:$PORT_BASE/postgres"

env_clean=(env -u WARD_CONFIG -u WARD_STORE -u WARD_ENV -u WARD_LOG -u WARD_DATA -u WARD_LISTEN -u WARD_ADMIN_KEY)
admin=$("${env_clean[@]}" "$ward_bin" init --data "$work/n1" --store "$store" --json |
  sed -n 's/.*"admin_key":"\([^"]*\)".*/\1/p')
[ -n "$admin" ] || { echo "propagation.sh: ward init printed no admin key" >&2; exit 1; }
urls=()
for i in 1 2 3; do
  port=$((PORT_BASE + i))
  if [ "$i" != 1 ]; then
    mkdir -m 700 "$work/n$i"
    cp -p "$work/n1/master.key" "$work/n$i/master.key"
  fi
  "${env_clean[@]}" WARD_LOG=warn "$ward_bin" serve --data "$work/n$i" --store "$store" \
    --listen "127.0.0.1:$port" >"$work/n$i.out" 2>"$work/n$i.err" &
  pids+=($!)
  urls+=("http://127.0.0.1:$port")
done
for u in "${urls[@]}"; do
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "$u/healthz" && break
    sleep 0.1
  done
  curl -s -o /dev/null --max-time 1 "$u/healthz" || { echo "propagation.sh: $u did not start" >&2; cat "$work"/n*.err >&2; exit 1; }
done

echo "== $ROUNDS rounds per kind: change on node 1, time until nodes 2 and 3 answer for it"
ROUNDS=$ROUNDS python3 scripts/propagation.py "${urls[@]}" "$admin"
