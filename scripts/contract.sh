#!/usr/bin/env bash
# The OpenAPI contract, checked against a live server (issue 9):
#
#   1. `openapi-spec-validator` validates GET /openapi.json (OpenAPI 3.1);
#   2. the strict `oauth4webapi` client (npm) drives the OAuth endpoints (discovery, both client
#      authentication methods, RFC 9068 validation of the JWT from the JWKS, introspection,
#      revocation, DPoP: crates/ward/tests/interop/oauth4webapi/check.mjs; DPoP nonces against a
#      second server with `dpop_require_nonce = true`: nonce.mjs);
#   3. Schemathesis runs every check (`--checks all`) against `ward serve`, once with the bootstrap
#      admin key as the Bearer caller and once anonymously, and fails on any finding.
#
# Builds the `ward` binary (debug profile by default), starts it on a loopback port with a fresh
# SQLite data directory, reads the admin key (from `admin.key` in the data directory, or from the
# first-run output), and stops it on exit. Installs the two Python tools itself (pinned versions).
# Bounded in time: MAX_EXAMPLES test cases per operation and phase, and TIMEOUT for each run.
# scripts/contract.toml holds Schemathesis' settings and says where they differ from its defaults,
# and why.
#
# Settings (environment):
#   PORT=18797          loopback port
#   MAX_EXAMPLES=50     Schemathesis test cases per operation and phase
#   TIMEOUT=300         seconds each Schemathesis run may take
#   PROFILE=dev         cargo profile of the `ward` binary
#   SEED=               a fixed Schemathesis seed, to replay a run
set -euo pipefail

PORT=${PORT:-18797}
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
TIMEOUT=${TIMEOUT:-300}
PROFILE=${PROFILE:-dev}
SEED=${SEED:-}

cd "$(dirname "$0")/.."
root=$(pwd)

echo "== python tools (openapi-spec-validator, schemathesis)"
python3 -m pip install -q --disable-pip-version-check "openapi-spec-validator==0.9.0" "schemathesis==4.32.5"

echo "== building ward ($PROFILE profile)"
cargo build --profile "$PROFILE" --quiet -p ward --bin ward
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir=${target_dir:-$root/target}
out_dir=$PROFILE
[ "$PROFILE" = dev ] && out_dir=debug
ward_bin="$target_dir/$out_dir/ward"

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

url="http://127.0.0.1:$PORT"
# Schemathesis sends thousands of made-up tokens from one address: with the failure throttle on,
# 127.0.0.1 would be locked out after ten and every later answer would be a 429. The throttle has
# its own tests (crates/ward-server/tests/api/guards.rs); the contract run turns it off.
mkdir -p "$work"
printf 'version = 1\nthrottle_max_failures = 0\n' >"$work/ward.toml"
WARD_LOG=warn "$ward_bin" serve --config "$work/ward.toml" --data "$work/data" --listen "127.0.0.1:$PORT" >"$work/ward.out" 2>"$work/ward.err" &
pid=$!
for _ in $(seq 1 300); do
  curl -fsS --max-time 1 "$url/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "contract.sh: ward serve exited:" >&2
    cat "$work/ward.err" >&2
    exit 1
  fi
  sleep 0.1
done

# The bootstrap admin key: a 0600 file in the data directory, or the first run's stdout.
admin=
for f in "$work/data/admin.key" "$work/data/admin_key" "$work/data/bootstrap.key"; do
  if [ -f "$f" ]; then
    admin=$(grep -o 'ward_[A-Za-z0-9_]*' "$f" | head -n 1 || true)
    break
  fi
done
[ -n "$admin" ] || admin=$(grep -o 'ward_[A-Za-z0-9_]*' "$work/ward.out" | head -n 1 || true)
if [ -z "$admin" ]; then
  echo "contract.sh: found no bootstrap admin key; ward's output:" >&2
  cat "$work/ward.out" "$work/ward.err" >&2
  exit 1
fi

echo "== openapi-spec-validator"
curl -fsS --max-time 5 "$url/openapi.json" >"$work/openapi.json"
openapi-spec-validator "$work/openapi.json"

echo "== oauth4webapi (npm): discovery, client credentials, RFC 9068 validation, introspection, revocation"
o4w="$work/oauth4webapi"
cp -r crates/ward/tests/interop/oauth4webapi "$o4w"
(cd "$o4w" && npm install --no-audit --no-fund --silent)
node "$o4w/check.mjs" "$url" "$admin"

echo "== oauth4webapi (npm): DPoP server nonces, against a second ward with dpop_require_nonce = true"
nonce_port=$((PORT + 1))
printf 'version = 1\ndpop_require_nonce = true\n' >"$work/nonce.toml"
WARD_LOG=warn "$ward_bin" serve --config "$work/nonce.toml" --data "$work/nonce-data" --listen "127.0.0.1:$nonce_port" \
  >"$work/nonce.out" 2>"$work/nonce.err" &
nonce_pid=$!
for _ in $(seq 1 300); do
  curl -fsS --max-time 1 "http://127.0.0.1:$nonce_port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
nonce_admin=$(grep -o 'ward_[A-Za-z0-9_]*' "$work/nonce-data/admin.key" 2>/dev/null | head -n 1 || true)
[ -n "$nonce_admin" ] || nonce_admin=$(grep -o 'ward_[A-Za-z0-9_]*' "$work/nonce.out" | head -n 1 || true)
node "$o4w/nonce.mjs" "http://127.0.0.1:$nonce_port" "$nonce_admin" || { kill "$nonce_pid"; cat "$work/nonce.err" >&2; exit 1; }
kill "$nonce_pid" 2>/dev/null || true
wait "$nonce_pid" 2>/dev/null || true

seed=()
[ -n "$SEED" ] && seed=(--seed "$SEED")
# --checks all, every phase (examples, coverage, fuzzing, stateful: links are inferred from the
# answers), two workers; failures print a curl line and an `st replay` id.
st() {
  local name=$1
  shift
  echo "== schemathesis --checks all ($name)"
  timeout --kill-after=10 "$TIMEOUT" schemathesis --config-file scripts/contract.toml run "$work/openapi.json" \
    --url "$url" --checks all --max-examples "$MAX_EXAMPLES" --workers 2 --no-color \
    --generation-database none --report junit --report-junit-path "$work/$name.xml" "${seed[@]}" "$@"
}
failed=()
st admin -H "Authorization: Bearer $admin" || failed+=(admin)
st anonymous || failed+=(anonymous)
if [ ${#failed[@]} -gt 0 ]; then
  echo "contract.sh: Schemathesis failed (${failed[*]}); 'st replay <id>' or the curl lines above reproduce each finding" >&2
  exit 1
fi
echo "contract.sh: the document is valid and Schemathesis found nothing, with and without a caller"
