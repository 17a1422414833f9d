#!/usr/bin/env bash
# The failure throttle against a real `ward serve` (issue 11): 1,000 random API keys verified for
# one end-user address (`context.client_ip`), with a valid key verified for another address after
# every ten guesses. Prints how many guesses were answered as misses (`unknown`, ...) before the
# address was locked out, how many were refused `rate_limited`, and how the valid key fared.
# Passes (exit 0) when the lockout came before 100 misses and the valid key never failed.
#
# Settings (environment): GUESSES=1000, PORT=18798, PROFILE=dev. Loopback only; the server is
# stopped on exit. The same property is a test: crates/ward-server/tests/api/guards.rs
# (guessing_from_one_address_is_locked_out_while_others_verify).
set -euo pipefail

GUESSES=${GUESSES:-1000}
PORT=${PORT:-18798}
PROFILE=${PROFILE:-dev}

cd "$(dirname "$0")/.."
cargo build --profile "$PROFILE" --quiet -p ward --bin ward
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
out_dir=$PROFILE
[ "$PROFILE" = dev ] && out_dir=debug
ward_bin="${target_dir:-$(pwd)/target}/$out_dir/ward"

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

env -u WARD_CONFIG -u WARD_STORE -u WARD_DATA -u WARD_LISTEN WARD_LOG=warn \
  "$ward_bin" serve --data "$work/data" --listen "127.0.0.1:$PORT" >"$work/out" 2>"$work/err" &
pid=$!
url="http://127.0.0.1:$PORT"
for _ in $(seq 300); do
  curl -fsS -o /dev/null --max-time 1 "$url/healthz" 2>/dev/null && break
  sleep 0.1
done
admin=$(grep -o 'ward_[A-Za-z0-9_]*' "$work/data/admin.key" 2>/dev/null | head -n 1 || true)
[ -n "$admin" ] || admin=$(grep -o 'ward_[A-Za-z0-9_]*' "$work/out" | head -n 1 || true)
[ -n "$admin" ] || { echo "throttle.sh: no admin key; ward said:" >&2; cat "$work/err" >&2; exit 1; }

GUESSES=$GUESSES python3 - "$url" "$admin" <<'PYEOF'
import json, os, secrets, string, sys, urllib.request

url, admin = sys.argv[1], sys.argv[2]
guesses = int(os.environ["GUESSES"])

def call(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"authorization": f"Bearer {admin}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)

status, created = call("/v1/keys", {"subject": "throttle-check"})
assert status == 201, created
good = created["key"]
prefix = good[: good.rindex("_") + 1]  # ward_<env>_<kind>_: the guesses look like real keys
alphabet = string.ascii_letters + string.digits

misses_before_lockout, refused, other_reasons = 0, 0, {}
good_ok, good_failed = 0, []
for i in range(guesses):
    fake = prefix + "".join(secrets.choice(alphabet) for _ in range(len(good) - len(prefix)))
    status, v = call("/v1/verify", {"token": fake, "context": {"client_ip": "203.0.113.7"}})
    if v["reason"] == "rate_limited":
        refused += 1
    elif refused == 0:
        misses_before_lockout += 1
    else:
        other_reasons[v["reason"]] = other_reasons.get(v["reason"], 0) + 1
    if i % 10 == 9:
        status, v = call("/v1/verify", {"token": good, "context": {"client_ip": "198.51.100.9"}})
        if v.get("valid") is True:
            good_ok += 1
        else:
            good_failed.append(v["reason"])

print(f"guesses from 203.0.113.7:          {guesses}")
print(f"  answered as misses before lockout: {misses_before_lockout}")
print(f"  refused rate_limited:             {refused}")
print(f"  misses after the first lockout:   {sum(other_reasons.values())} {other_reasons or ''}")
print(f"valid key from 198.51.100.9:       {good_ok} valid, {len(good_failed)} failed {good_failed or ''}")
ok = 0 < refused and misses_before_lockout < 100 and not good_failed
print("throttle.sh: " + ("the address was locked out before 100 misses; the valid key kept verifying"
                         if ok else "FAILED"))
sys.exit(0 if ok else 1)
PYEOF
