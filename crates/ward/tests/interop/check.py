"""Independent implementations against a running Ward.

1. PyJWT verifies Ward's JWT access tokens using only the published JWKS (and the RFC 8414
   metadata to find it).
2. Authlib, a standard OAuth 2.0 client library, completes the client-credentials flow and the
   refresh flow against Ward's token endpoint.

Usage: check.py BASE_URL ADMIN_KEY. Exits non-zero with a message on the first failure.
"""
import json
import sys
import urllib.request

import jwt  # PyJWT
from authlib.integrations.requests_client import OAuth2Session

base, admin = sys.argv[1].rstrip("/"), sys.argv[2]


def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method)
    req.add_header("Authorization", "Bearer " + admin)
    data = None
    if body is not None:
        req.add_header("Content-Type", "application/json")
        data = json.dumps(body).encode()
    with urllib.request.urlopen(req, data) as r:
        return json.loads(r.read())


meta = json.loads(urllib.request.urlopen(base + "/.well-known/oauth-authorization-server").read())
issuer, jwks_uri, token_endpoint = meta["issuer"], meta["jwks_uri"], meta["token_endpoint"]

# 1. PyJWT with nothing but the JWKS.
issued = call("POST", "/v1/access-tokens", {"subject": "alice", "audience": "api", "scopes": ["read"]})
token = issued["access_token"]
header = jwt.get_unverified_header(token)
assert header["typ"] == "at+jwt", header
signing_key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
claims = jwt.decode(
    token,
    signing_key.key,
    algorithms=[header["alg"]],
    audience="api",
    issuer=issuer,
    options={"require": ["exp", "iat", "sub", "iss", "jti"]},
)
assert claims["sub"] == "alice" and claims["scope"] == "read", claims
try:
    jwt.decode(token + "x", signing_key.key, algorithms=[header["alg"]], audience="api", issuer=issuer)
    raise SystemExit("PyJWT accepted a tampered token")
except jwt.InvalidSignatureError:
    pass
except jwt.DecodeError:
    pass
print("pyjwt: verified a Ward JWT with the JWKS alone")

# 2. Authlib: client credentials, then refresh.
client = call("POST", "/v1/clients", {"name": "interop", "scopes": ["read"], "audiences": ["api"]})
cid, secret = client["client_id"], client["client_secret"]
session = OAuth2Session(cid, secret, scope="read", token_endpoint_auth_method="client_secret_basic")
cc = session.fetch_token(token_endpoint, grant_type="client_credentials")
assert cc["token_type"].lower() == "bearer" and cc["access_token"], cc
cc_claims = jwt.decode(cc["access_token"], signing_key.key if jwt.get_unverified_header(cc["access_token"])["kid"] == header["kid"]
                       else jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(cc["access_token"]).key,
                       algorithms=[header["alg"]], audience="api", issuer=issuer)
assert cc_claims["client_id"] == cid, cc_claims
print("authlib: client_credentials grant completed")

first = call("POST", "/v1/access-tokens",
             {"subject": "bob", "audience": "api", "scopes": ["read"], "refresh": True, "client_id": cid})
refreshed = session.refresh_token(token_endpoint, refresh_token=first["refresh_token"])
assert refreshed["refresh_token"] != first["refresh_token"], refreshed
assert refreshed["access_token"] != first["access_token"], refreshed
print("authlib: refresh_token grant completed")
