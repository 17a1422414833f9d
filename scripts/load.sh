#!/usr/bin/env bash
# Load test of POST /v1/verify: Ward against a trivial axum baseline, measured in the same run.
#
# Builds both servers (release profile by default), starts a fresh Ward (SQLite in a temporary directory) and the `baseline` example
# (crates/ward-server/examples/baseline.rs: parse the JSON body, answer {"valid":true}), creates one
# unlimited API key, checks that Ward really answers "valid":true for it, then runs wrk against the
# baseline first and Ward second with the same settings and prints requests/s, latency and the
# ratio ward/baseline (target >= 0.8). Each request carries the admin key as its Bearer caller, as
# a backend would, so Ward authenticates the caller and verifies the token: two cached verifies.
#
# Loopback only; bounded by DURATION; both servers are stopped on exit. docs/benchmarks.md records
# runs and how to read them.
#
# Settings (environment):
#   DURATION=10s     measured time per server and round (wrk -d)
#   WARMUP=2s        unmeasured wrk run per server before each measured one ("0" to skip)
#   THREADS=1        wrk threads
#   CONNECTIONS=32   wrk connections
#   ROUNDS=1         baseline-then-Ward pairs; with more than one, the ratio is the median of the
#                    rounds' ratios (other load on the machine then skews one round, not the result)
#   PIN=0            1: wrk on CPU 0, both servers on the other CPUs, so the servers do not compete
#                    with wrk for a core and the ratio is one of server CPU per request
#   WARD_PORT=18787  BASE_PORT=18788   loopback ports
#   TARGET=0.8       the ratio ward/baseline to reach
#   PROFILE=release  the cargo profile both servers are built with (`dist`: with LTO, Cargo.toml)
#   BASE_REV=        a git revision (e.g. `BASE_REV=HEAD~3`): also build Ward as it was there, serve it
#                    beside today's, measure it in the same rounds and print ward/ward@BASE_REV, so
#                    a change is shown not to cost throughput (its build goes to target/base-rev)
#   REV_PORT=18789   its loopback port
set -euo pipefail

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-1}
PIN=${PIN:-0}
WARD_PORT=${WARD_PORT:-18787}
BASE_PORT=${BASE_PORT:-18788}
TARGET=${TARGET:-0.8}
PROFILE=${PROFILE:-release}
BASE_REV=${BASE_REV:-}
REV_PORT=${REV_PORT:-18789}

cd "$(dirname "$0")/.."
root=$(pwd)

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing wrk"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null
  else
    echo "load.sh: wrk is not installed (Debian: apt-get install wrk)" >&2
    exit 2
  fi
fi

client=()
server=()
if [ "$PIN" = 1 ]; then
  cpus=$(nproc)
  if [ "$cpus" -lt 2 ] || ! command -v taskset >/dev/null; then
    echo "load.sh: PIN=1 needs at least 2 CPUs and taskset" >&2
    exit 2
  fi
  client=(taskset -c 0)
  server=(taskset -c "1-$((cpus - 1))")
fi

echo "== building with the $PROFILE profile (ward binary, baseline example)"
cargo build --profile "$PROFILE" --quiet -p ward --bin ward -p ward-server --example baseline
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir=${target_dir:-$root/target}
ward_bin="$target_dir/$PROFILE/ward"
base_bin="$target_dir/$PROFILE/examples/baseline"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$BASE_REV" ] && [ -d "$work/rev" ]; then
    git worktree remove --force "$work/rev" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rev_bin=""
if [ -n "$BASE_REV" ]; then
  echo "== building Ward at $BASE_REV ($(git rev-parse --short "$BASE_REV")) with the $PROFILE profile"
  git worktree add --quiet --detach "$work/rev" "$BASE_REV"
  cargo build --profile "$PROFILE" --quiet -p ward --bin ward --manifest-path "$work/rev/Cargo.toml" \
    --target-dir "$target_dir/base-rev"
  rev_bin="$target_dir/base-rev/$PROFILE/ward"
fi

# Waits (at most 30 s) until `url` answers, failing early if the server process `pid` has exited.
wait_ready() {
  local url=$1 pid=$2 log=$3
  for _ in $(seq 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "load.sh: the server exited before answering; its log:" >&2
      cat "$log" >&2
      exit 1
    fi
    if curl -s -o /dev/null --max-time 1 "$url"; then
      return 0
    fi
    sleep 0.1
  done
  echo "load.sh: $url did not answer within 30 s" >&2
  exit 1
}

# Starts a fresh Ward from `bin` on `port` (data in `$work/name.data`), creates one unlimited API
# key, writes the wrk script `$work/name.lua` that verifies it, and checks that it verifies.
start_ward() {
  local name=$1 bin=$2 port=$3
  # Ward's own settings come from flags only: no inherited WARD_* variable or config file.
  env -u WARD_CONFIG -u WARD_STORE -u WARD_ENV -u WARD_LOG -u WARD_DATA -u WARD_LISTEN \
    "${server[@]}" "$bin" serve --data "$work/$name.data" --listen "127.0.0.1:$port" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  wait_ready "http://127.0.0.1:$port/healthz" "${pids[-1]}" "$work/$name.err"
  local admin
  admin=$(cat "$work/$name.out" "$work/$name.data/admin.key" 2>/dev/null | grep '^ward_' | tail -n 1 || true)
  if [ -z "$admin" ]; then
    echo "load.sh: $name printed no admin key on its first run; its output:" >&2
    cat "$work/$name.out" "$work/$name.err" >&2
    exit 1
  fi
  local created key
  created=$(curl -sS --fail-with-body --max-time 5 -X POST "http://127.0.0.1:$port/v1/keys" \
    -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"subject":"load-test","name":"scripts/load.sh","scopes":["read"]}')
  key=$(printf '%s' "$created" | sed -n 's/.*"key":"\(ward_[A-Za-z0-9_]*\)".*/\1/p')
  if [ -z "$key" ]; then
    echo "load.sh: could not create an API key on $name; it answered: $created" >&2
    exit 1
  fi
  {
    echo 'wrk.method = "POST"'
    echo "wrk.body = '{\"token\":\"$key\"}'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo "wrk.headers[\"Authorization\"] = \"Bearer $admin\""
  } >"$work/$name.lua"
  printf '%s\n%s\n' "$admin" "$key" >"$work/$name.creds"
  check_valid "$name" "$port" "before the run"
}

# Fails unless the Ward called `name` on `port` says its key is valid, so the load below measures
# real, successful verifies.
check_valid() {
  local name=$1 port=$2 when=$3 admin key answer
  admin=$(sed -n 1p "$work/$name.creds")
  key=$(sed -n 2p "$work/$name.creds")
  answer=$(curl -sS --max-time 5 -X POST "http://127.0.0.1:$port/v1/verify" \
    -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "{\"token\":\"$key\"}")
  case $answer in
    *'"valid":true'*) echo "   $name, $when: \"valid\":true" ;;
    *)
      echo "load.sh: $name did not answer \"valid\":true ($when): $answer" >&2
      exit 1
      ;;
  esac
}

echo "== starting Ward on 127.0.0.1:$WARD_PORT and the baseline on 127.0.0.1:$BASE_PORT"
start_ward ward "$ward_bin" "$WARD_PORT"
if [ -n "$rev_bin" ]; then
  echo "== starting Ward at $BASE_REV on 127.0.0.1:$REV_PORT"
  start_ward rev "$rev_bin" "$REV_PORT"
fi
"${server[@]}" "$base_bin" "127.0.0.1:$BASE_PORT" >/dev/null 2>"$work/baseline.err" &
pids+=($!)
# The baseline has only POST /v1/verify: any HTTP answer (405 to a GET) means it is up.
wait_ready "http://127.0.0.1:$BASE_PORT/v1/verify" "${pids[-1]}" "$work/baseline.err"
# The baseline ignores the body and the caller: Ward's script does for it.
cp "$work/ward.lua" "$work/baseline.lua"

# wrk's duration (`10s`, `2m`, `1h`, or plain seconds) in seconds.
seconds() {
  case $1 in
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *h) echo $((${1%h} * 3600)) ;;
    *) echo "$1" ;;
  esac
}

# Runs wrk against `port` with the script `$work/name.lua`, leaving its report in `out`.
run_wrk() {
  local name=$1 port=$2 out=$3
  local url="http://127.0.0.1:$port/v1/verify" lua="$work/$1.lua"
  local limit=$(($(seconds "$DURATION") + $(seconds "$WARMUP") + 30))
  if [ "$WARMUP" != 0 ]; then
    timeout "$limit" "${client[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$lua" "$url" \
      >/dev/null
  fi
  timeout "$limit" "${client[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s "$lua" "$url" >"$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    echo "load.sh: $name had failed requests:" >&2
    cat "$out" >&2
    exit 1
  fi
}

# Share of CPU time used by anything (this script included) over one second: another build or
# test run on the machine skews a load test, so the run says how quiet the machine was.
busy_percent() {
  local a b
  read -ra a < <(head -n 1 /proc/stat)
  sleep 1
  read -ra b < <(head -n 1 /proc/stat)
  awk -v u=$((b[1] + b[2] + b[3] + b[6] + b[7] - a[1] - a[2] - a[3] - a[6] - a[7])) \
    -v i=$((b[4] + b[5] - a[4] - a[5])) 'BEGIN { printf "%.0f", (u + i) ? 100 * u / (u + i) : 0 }'
}

rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
lat() { awk -v p="$2" '$1 == p { print $2 }' "$1"; }
avg() { awk '$1 == "Latency" { print $2; exit }' "$1"; }

busy=$(busy_percent)
echo "== machine: $(nproc) CPUs, ${busy}% busy before the run (want ~0%)"
pinning="not pinned"
if [ "$PIN" = 1 ]; then
  pinning="wrk on CPU 0, servers on CPUs 1-$(($(nproc) - 1))"
fi
echo "== wrk: $THREADS thread(s), $CONNECTIONS connections, $DURATION per server and round" \
  "(warm-up $WARMUP), $ROUNDS round(s), $pinning"
ratios=()
rev_ratios=()
servers=(baseline ward)
[ -n "$rev_bin" ] && servers+=(rev)
for round in $(seq "$ROUNDS"); do
  run_wrk baseline "$BASE_PORT" "$work/baseline.$round.wrk"
  run_wrk ward "$WARD_PORT" "$work/ward.$round.wrk"
  base_rps=$(rps "$work/baseline.$round.wrk")
  ward_rps=$(rps "$work/ward.$round.wrk")
  ratios+=("$(awk -v w="$ward_rps" -v b="$base_rps" 'BEGIN { printf "%.3f", w / b }')")
  line="   round $round: baseline $base_rps req/s, ward $ward_rps req/s, ratio ${ratios[-1]}"
  if [ -n "$rev_bin" ]; then
    run_wrk rev "$REV_PORT" "$work/rev.$round.wrk"
    rev_rps=$(rps "$work/rev.$round.wrk")
    rev_ratios+=("$(awk -v w="$ward_rps" -v r="$rev_rps" 'BEGIN { printf "%.3f", w / r }')")
    line="$line; ward@$BASE_REV $rev_rps req/s, ward/ward@$BASE_REV ${rev_ratios[-1]}"
  fi
  echo "$line"
done
check_valid ward "$WARD_PORT" "after the run"

median() {
  printf '%s\n' "$@" | sort -n | awk '{ r[NR] = $1 } END {
    printf "%.2f", (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }'
}
ratio=$(median "${ratios[@]}")
verdict=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN { print (r >= t ? "meets" : "BELOW") }')

echo
echo "== results (POST /v1/verify, loopback, $(nproc) CPUs, $pinning)"
printf '%-6s %-9s %12s %10s %10s %10s %10s\n' round server 'req/s' 'avg' 'p50' 'p90' 'p99'
for round in $(seq "$ROUNDS"); do
  for name in "${servers[@]}"; do
    f="$work/$name.$round.wrk"
    printf '%-6s %-9s %12s %10s %10s %10s %10s\n' "$round" "$name" "$(rps "$f")" "$(avg "$f")" \
      "$(lat "$f" 50%)" "$(lat "$f" 90%)" "$(lat "$f" 99%)"
  done
done
label=""
if [ "$ROUNDS" -gt 1 ]; then
  label=" (median of $ROUNDS rounds)"
fi
echo "ratio ward/baseline: $ratio$label: $verdict the target of $TARGET"
if [ -n "$rev_bin" ]; then
  echo "ratio ward/ward@$BASE_REV: $(median "${rev_ratios[@]}")$label (1.00: the same throughput)"
fi
busy=$(busy_percent)
if [ "$busy" -gt 20 ]; then
  echo "note: the machine was ${busy}% busy right after the run (other work?): numbers may be skewed"
fi
