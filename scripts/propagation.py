#!/usr/bin/env python3
"""Measures how long a revocation on one Ward node takes to reach the others.

Run by scripts/propagation.sh, which starts one PostgreSQL and three Ward nodes and passes their
URLs and the admin key. For each kind of change and each round: create a token on node 1, verify
it on nodes 2 and 3 (so each holds it in its cache, valid), change it on node 1, then poll nodes 2
and 3 as fast as one connection allows until each gives the expected answer. The time from the 2xx
of the change to the first such answer is the propagation time. Prints p50, p99 and max per kind,
and exits 1 if any p99 is at or above the target.

Loopback only; every wait is bounded.
"""

import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse

ROUNDS = int(os.environ.get("ROUNDS", "100"))
TARGET_MS = float(os.environ.get("TARGET_MS", "100"))
TIMEOUT_S = 10.0


class Node:
    def __init__(self, url, admin):
        u = urllib.parse.urlparse(url)
        self.host, self.port, self.admin = u.hostname, u.port, admin
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=5)

    def post(self, path, body):
        data = json.dumps(body)
        headers = {"Authorization": f"Bearer {self.admin}", "Content-Type": "application/json"}
        for attempt in range(2):
            try:
                self.conn.request("POST", path, data, headers)
                r = self.conn.getresponse()
                return r.status, json.loads(r.read() or b"null")
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def reason(self, token):
        s, v = self.post("/v1/verify", {"token": token})
        return v.get("reason")


def created(node, path, body):
    s, v = node.post(path, body)
    if s != 201:
        sys.exit(f"propagation: {path} answered {s}: {v}")
    return v


def ok(node, path, body):
    s, v = node.post(path, body)
    if s != 200 and s != 201:
        sys.exit(f"propagation: {path} answered {s}: {v}")
    return v


# Each kind: make(node1, round) -> (token, change), where change() performs it on node 1; and
# the reason the other nodes must then give.
def api_key(n1, r):
    k = created(n1, "/v1/keys", {"subject": f"p-key-{r}"})
    return k["key"], lambda: ok(n1, f"/v1/keys/{k['id']}/revoke", {"reason": "compromised"}), "revoked"


def disable(n1, r):
    k = created(n1, "/v1/keys", {"subject": f"p-dis-{r}"})
    return k["key"], lambda: ok(n1, f"/v1/keys/{k['id']}/disable", {}), "disabled"


def rotation(n1, r):
    k = created(n1, "/v1/keys", {"subject": f"p-rot-{r}"})
    return k["key"], lambda: ok(n1, f"/v1/keys/{k['id']}/rotate", {"overlap_seconds": 0}), "superseded"


def logout(n1, r):
    s = created(n1, "/v1/sessions", {"subject": f"p-ses-{r}"})
    return s["token"], lambda: ok(n1, "/v1/sessions/revoke", {"token": s["token"]}), "revoked"


def subject(n1, r):
    name = f"p-sub-{r}"
    k = created(n1, "/v1/keys", {"subject": name})
    return k["key"], lambda: ok(n1, f"/v1/subjects/{name}/revoke", {"reason": "offboarded"}), "revoked"


def jwt(n1, r):
    t = created(n1, "/v1/access-tokens", {"subject": f"p-jwt-{r}", "audience": "api"})
    return (
        t["access_token"],
        lambda: ok(n1, "/v1/access-tokens/revoke", {"token": t["access_token"]}),
        "revoked",
    )


def family(n1, r):
    t = created(n1, "/v1/access-tokens", {"subject": f"p-fam-{r}", "audience": "api", "refresh": True})
    return (
        t["access_token"],
        lambda: ok(n1, "/v1/access-tokens/revoke", {"token": t["refresh_token"]}),
        "revoked",
    )


KINDS = [
    ("api_key revoke", api_key),
    ("api_key disable", disable),
    ("api_key rotate", rotation),
    ("session logout", logout),
    ("subject revoke", subject),
    ("jwt revoke (jti)", jwt),
    ("refresh family revoke", family),
]


def wait_for(node, token, want, t0, out, idx):
    deadline = t0 + TIMEOUT_S
    while time.monotonic() < deadline:
        if node.reason(token) == want:
            out[idx] = (time.monotonic() - t0) * 1000.0
            return
    out[idx] = None


def pct(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    urls, admin = sys.argv[1:4], sys.argv[4]
    n1, others = Node(urls[0], admin), [Node(u, admin) for u in urls[1:]]
    pollers = [[Node(u, admin) for u in urls[1:]]]
    failed = False
    print(f"{'kind':<24} {'samples':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, make in KINDS:
        samples = []
        for r in range(ROUNDS):
            token, change, want = make(n1, f"{name.split()[0]}-{r}")
            for n in others:
                got = n.reason(token)
                if got != "valid":
                    sys.exit(f"propagation: {name}: a node answered {got} before the change")
            change()
            t0 = time.monotonic()
            out = [None] * len(others)
            threads = [
                threading.Thread(target=wait_for, args=(p, token, want, t0, out, i))
                for i, p in enumerate(pollers[0])
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if any(o is None for o in out):
                sys.exit(f"propagation: {name}: a node did not answer {want} within {TIMEOUT_S} s")
            samples.extend(out)
        p50, p99, mx = statistics.median(samples), pct(samples, 99), max(samples)
        mark = "" if p99 < TARGET_MS else f"  (p99 >= {TARGET_MS:.0f} ms)"
        failed |= p99 >= TARGET_MS
        print(f"{name:<24} {len(samples):>7} {p50:>8.1f} {p99:>8.1f} {mx:>8.1f}{mark}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
