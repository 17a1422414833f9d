#!/usr/bin/env bash
# Forward-auth behind a real nginx (issue 14): nginx `auth_request` in front of a do-nothing
# upstream, with Ward deciding. A good API key, session and JWT pass and the upstream sees the
# subject; a missing token, a revoked one and a missing scope get 401, 401 and 403 with Ward's
# reason in the challenge. The nginx config is the one in docs/forward-auth.md.
#
# Needs nginx with the auth_request module (Debian `nginx-light`; .ci/run installs it). Settings
# (environment): PORT=18810 (Ward; nginx on +1, the upstream on +2), PROFILE=dev.
set -euo pipefail
[ -n "${DEBUG:-}" ] && set -x

PORT=${PORT:-18810}
PROFILE=${PROFILE:-dev}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
cd "$(dirname "$0")/.."
[ -x "$NGINX" ] || { echo "nginx.sh: nginx is not installed (apt-get install nginx-light)" >&2; exit 2; }

cargo build --profile "$PROFILE" --quiet -p ward --bin ward
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
out_dir=$PROFILE
[ "$PROFILE" = dev ] && out_dir=debug
ward_bin="${target_dir:-$(pwd)/target}/$out_dir/ward"

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ward="127.0.0.1:$PORT"
front="127.0.0.1:$((PORT + 1))"
upstream="127.0.0.1:$((PORT + 2))"

printf 'version = 1\ntrusted_proxies = ["127.0.0.1"]\n' >"$work/ward.toml"
env -u WARD_CONFIG -u WARD_STORE -u WARD_DATA -u WARD_LISTEN WARD_LOG=warn \
  "$ward_bin" serve --config "$work/ward.toml" --data "$work/data" --listen "$ward" >"$work/ward.out" 2>"$work/ward.err" &
pids+=($!)

# The upstream: answers 200 with the subject nginx passed on.
python3 - "$upstream" >"$work/upstream.log" 2>&1 <<'PYEOF' &
import http.server, sys
host, port = sys.argv[1].split(":")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"upstream saw subject={self.headers.get('X-Ward-Subject', '')}\n".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer((host, int(port)), H).serve_forever()
PYEOF
pids+=($!)

cat >"$work/nginx.conf" <<NGINXEOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  server {
    listen $front;

    location = /_ward_reports_read {
      internal;
      proxy_pass              http://$ward/v1/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header        Content-Length "";
      proxy_set_header        X-Original-URI \$request_uri;
      proxy_set_header        X-Original-Method \$request_method;
      proxy_set_header        X-Forwarded-For \$remote_addr;
      proxy_set_header        X-Ward-Require-Scopes "reports:read";
    }

    location = /_ward {
      internal;
      proxy_pass              http://$ward/v1/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header        Content-Length "";
      proxy_set_header        X-Original-URI \$request_uri;
      proxy_set_header        X-Original-Method \$request_method;
      proxy_set_header        X-Forwarded-For \$remote_addr;
    }

    location /reports/ {
      auth_request     /_ward_reports_read;
      auth_request_set \$ward_subject \$upstream_http_x_ward_subject;
      auth_request_set \$ward_challenge \$upstream_http_www_authenticate;
      proxy_set_header X-Ward-Subject \$ward_subject;
      proxy_pass       http://$upstream;
      error_page 401 = @ward_401;
      error_page 403 = @ward_403;
    }

    location /home/ {
      auth_request     /_ward;
      auth_request_set \$ward_subject \$upstream_http_x_ward_subject;
      auth_request_set \$ward_challenge \$upstream_http_www_authenticate;
      proxy_set_header X-Ward-Subject \$ward_subject;
      proxy_pass       http://$upstream;
      error_page 401 = @ward_401;
    }

    location @ward_401 {
      add_header WWW-Authenticate \$ward_challenge always;
      return 401;
    }

    location @ward_403 {
      add_header WWW-Authenticate \$ward_challenge always;
      return 403;
    }
  }
}
NGINXEOF
"$NGINX" -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"

for u in "http://$ward/healthz" "http://$front/"; do
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "$u" && break
    sleep 0.1
  done
done
admin=$(grep -o 'ward_[A-Za-z0-9_]*' "$work/data/admin.key" | head -n 1)

api() { # POST to Ward as admin; prints the answer
  curl -fsS "http://$ward$1" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "$2"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

key_json=$(api /v1/keys '{"subject": "svc_reports", "scopes": ["reports:read"]}')
key=$(echo "$key_json" | field key)
key_id=$(echo "$key_json" | field id)
narrow=$(api /v1/keys '{"subject": "svc_other", "scopes": ["other:read"]}' | field key)
session=$(api /v1/sessions '{"subject": "alice"}' | field token)
jwt=$(api /v1/access-tokens '{"subject": "carol", "audience": "api", "scopes": ["reports:read"]}' | field access_token)
# A session carries no scopes: it passes only a route that requires none (/home/).

failed=0
check() { # name, path, expected status, expected text in body or challenge, curl args...
  local name=$1 path=$2 want=$3 text=$4
  shift 4
  local status all
  status=$(curl -s -D "$work/resp.headers" -o "$work/resp.body" -w '%{http_code}' "http://$front$path" "$@" || true)
  all="$(tr -d '\r' <"$work/resp.headers")$(cat "$work/resp.body")"
  if [ "$status" = "$want" ] && grep -q -- "$text" <<<"$all"; then
    echo "  ok    $name: $status ($text)"
  else
    echo "  FAIL  $name: got $status, wanted $want with '$text'"
    echo "$all" | sed 's/^/        /'
    failed=1
  fi
}

echo "== nginx auth_request in front of an upstream, Ward deciding"
r=/reports/42?x=1
check "a good API key passes, the subject reaches the upstream" $r 200 "subject=svc_reports" -H "Authorization: Bearer $key"
check "a good JWT passes" $r 200 "subject=carol" -H "Authorization: Bearer $jwt"
check "a good session passes a route that needs no scope" /home/ 200 "subject=alice" -H "Authorization: Bearer $session"
check "a session lacks the reports route's scope: 403" $r 403 'error="insufficient_scope"' -H "Authorization: Bearer $session"
check "no token: 401 with a Bearer challenge" $r 401 'Bearer realm="ward"'
check "a key without the scope: 403 naming the reason" $r 403 'error_description="insufficient_scope' -H "Authorization: Bearer $narrow"
api "/v1/keys/$key_id/revoke" '{"reason": "compromised"}' >/dev/null
check "the revoked key: 401 naming the reason" $r 401 'error_description="revoked' -H "Authorization: Bearer $key"
check "a made-up key: 401 naming the reason" $r 401 'error_description="checksum_mismatch' -H "Authorization: Bearer ward_live_ak_nonsense"

if [ "$failed" != 0 ]; then
  echo "nginx.sh: FAILED; nginx's log:" >&2
  cat "$work/nginx-error.log" >&2
  exit 1
fi
echo "nginx.sh: nginx with auth_request and Ward's forward-auth behave as documented"
