//! DPoP (RFC 9449, issue 11): tokens issued with a proof are bound to its key (`cnf.jkt`,
//! `token_type: DPoP`), a bound token verifies only with a fresh proof from that key for the
//! request at hand, a proof's `jti` is accepted once (also under concurrency), a bound refresh
//! token needs its key, and server nonces (`DPoP-Nonce`, `use_dpop_nonce`) when required.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use ward_signed::raw::sign_jws;
use ward_signed::{access_token_hash, Algorithm, SigningKey};
use ward_testkit::{assert_problem, HeaderMap, Method, StatusCode, TestApp, START};

ward_testkit::store_tests!(
    a_token_issued_with_a_proof_is_bound_to_its_key,
    a_bound_token_verifies_only_with_a_fresh_proof_from_its_key,
    a_proof_is_accepted_once_under_concurrency,
    a_bound_refresh_token_needs_a_proof_from_its_key,
    the_token_endpoint_binds_client_credentials,
    server_nonces_are_required_when_configured,
);

const API: &str = "https://api.example.com/reports";

fn client_key(seed: u8) -> SigningKey {
    SigningKey::from_secret_bytes("client", Algorithm::ES256, &[seed; 32]).unwrap()
}

fn jkt(k: &SigningKey) -> String {
    k.verifying_key().thumbprint().unwrap()
}

/// A proof by `k` for `htm htu` made at `iat`, with `extra` claims (`ath`, `nonce`).
fn proof(k: &SigningKey, htm: &str, htu: &str, jti: &str, iat: i64, extra: Value) -> String {
    let mut jwk = k.verifying_key().to_jwk().unwrap();
    for name in ["kid", "alg", "use"] {
        jwk.as_object_mut().unwrap().remove(name);
    }
    let header: Map<String, Value> =
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}).as_object().unwrap().clone();
    let mut claims = json!({"jti": jti, "htm": htm, "htu": htu, "iat": iat});
    for (name, v) in extra.as_object().unwrap() {
        claims[name] = v.clone();
    }
    sign_jws(k, &header, &serde_json::to_vec(&claims).unwrap()).unwrap()
}

fn endpoint(app: &TestApp, path: &str) -> String {
    format!("{}{path}", app.engine.issuer().trim_end_matches('/'))
}

/// `POST path` with the admin key, a JSON body and, if given, a `DPoP` header.
async fn post_with(
    app: &TestApp,
    path: &str,
    dpop: Option<&str>,
    body: Value,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {}", app.admin_token()))
        .header("content-type", "application/json");
    if let Some(p) = dpop {
        req = req.header("dpop", p);
    }
    app.send(req.body(axum::body::Body::from(body.to_string())).unwrap()).await
}

/// An access token (and refresh token) bound to `k`.
async fn bound_pair(app: &TestApp, k: &SigningKey) -> Value {
    let p = proof(k, "POST", &endpoint(app, "/v1/access-tokens"), "issue-1", START, json!({}));
    let body = json!({"subject": "alice", "audience": "api", "scopes": ["read"], "refresh": true});
    let (status, _, v) = post_with(app, "/v1/access-tokens", Some(&p), body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

fn payload(jwt: &str) -> Value {
    serde_json::from_slice(&B64.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

async fn verify_with(app: &TestApp, token: &str, dpop: Option<Value>) -> Value {
    let mut body = json!({"token": token});
    if let Some(d) = dpop {
        body["dpop"] = d;
    }
    post_with(app, "/v1/verify", None, body).await.2
}

/// The `dpop` member of a verify: a proof by `k` for `GET` of the API, carrying `ath`.
fn resource_proof(k: &SigningKey, token: &str, jti: &str, iat: i64) -> Value {
    let p = proof(k, "GET", API, jti, iat, json!({"ath": access_token_hash(token)}));
    json!({"proof": p, "htm": "GET", "htu": API})
}

async fn a_token_issued_with_a_proof_is_bound_to_its_key(app: TestApp) {
    let k = client_key(0x11);
    let pair = bound_pair(&app, &k).await;
    assert_eq!(pair["token_type"], "DPoP", "{pair}");
    let claims = payload(pair["access_token"].as_str().unwrap());
    assert_eq!(claims["cnf"]["jkt"], jkt(&k), "{claims}");
    // Without a proof, the same request issues a Bearer token with no `cnf`.
    let body = json!({"subject": "alice", "audience": "api"});
    let (_, _, plain) = post_with(&app, "/v1/access-tokens", None, body.clone()).await;
    assert_eq!(plain["token_type"], "Bearer", "{plain}");
    assert!(payload(plain["access_token"].as_str().unwrap()).get("cnf").is_none());
    // A proof made for another URL or method binds nothing: the request is refused.
    let wrong = proof(&k, "POST", "https://elsewhere.example/v1/access-tokens", "issue-2", START, json!({}));
    let answer = post_with(&app, "/v1/access-tokens", Some(&wrong), body.clone()).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "binding_mismatch");
    assert!(answer.2["detail"].as_str().unwrap().contains("this request is to"), "{}", answer.2);
    let answer = post_with(&app, "/v1/access-tokens", Some("not-a-proof"), body).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "malformed");
}

async fn a_bound_token_verifies_only_with_a_fresh_proof_from_its_key(app: TestApp) {
    let mut events = app.engine.subscribe();
    let k = client_key(0x11);
    let pair = bound_pair(&app, &k).await;
    let token = pair["access_token"].as_str().unwrap();

    let v = verify_with(&app, token, None).await;
    assert_eq!(v["reason"], "binding_mismatch", "presented as a bearer token: {v}");
    assert!(v["detail"].as_str().unwrap().contains("without a DPoP proof"), "{v}");

    let v = verify_with(&app, token, Some(resource_proof(&k, token, "r-1", START))).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["access_token"]["claims"]["cnf"]["jkt"], jkt(&k), "{v}");

    let v = verify_with(&app, token, Some(resource_proof(&k, token, "r-1", START))).await;
    assert_eq!(v["reason"], "replayed", "the same proof again: {v}");

    let thief = client_key(0x22);
    let v = verify_with(&app, token, Some(resource_proof(&thief, token, "r-2", START))).await;
    assert_eq!(v["reason"], "binding_mismatch", "a proof from another key: {v}");

    let no_ath = proof(&k, "GET", API, "r-3", START, json!({}));
    let v = verify_with(&app, token, Some(json!({"proof": no_ath, "htm": "GET", "htu": API}))).await;
    assert_eq!(v["reason"], "binding_mismatch", "a proof without the token's hash: {v}");

    let p = resource_proof(&k, token, "r-4", START);
    let v = verify_with(&app, token, Some(json!({"proof": p["proof"], "htm": "DELETE", "htu": API}))).await;
    assert_eq!(v["reason"], "binding_mismatch", "a proof for another method: {v}");

    let v = verify_with(&app, token, Some(resource_proof(&k, token, "r-5", START - 3600))).await;
    assert_eq!(v["reason"], "expired", "an old proof: {v}");

    // The proof's window moves with the clock: a fresh proof later still works.
    app.clock.advance(120);
    let v = verify_with(&app, token, Some(resource_proof(&k, token, "r-6", START + 120))).await;
    assert_eq!(v["valid"], true, "{v}");
    // Every refused proof is an event, named by its reason.
    let mut refused = Vec::new();
    while let Some(e) = events.try_recv() {
        if e.kind == ward_engine::EventKind::ReplayRefused {
            assert!(e.detail.as_deref().unwrap_or_default().starts_with("DPoP proof"), "{e:?}");
            refused.push(e.reason.map(|r| r.as_str()));
        }
    }
    assert_eq!(
        refused,
        [
            Some("replayed"),
            Some("binding_mismatch"),
            Some("binding_mismatch"),
            Some("binding_mismatch"),
            Some("expired")
        ],
        "the refusals in order"
    );
}

async fn a_proof_is_accepted_once_under_concurrency(app: TestApp) {
    let app = Arc::new(app);
    let k = client_key(0x11);
    let pair = bound_pair(&app, &k).await;
    let token = pair["access_token"].as_str().unwrap().to_string();
    for round in 0..10 {
        let dpop = resource_proof(&k, &token, &format!("jti-{round}"), START);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (app, token, dpop) = (app.clone(), token.clone(), dpop.clone());
                tokio::spawn(async move { verify_with(&app, &token, Some(dpop)).await })
            })
            .collect();
        let mut reasons = Vec::new();
        for t in tasks {
            reasons.push(t.await.unwrap()["reason"].as_str().unwrap().to_string());
        }
        assert_eq!(reasons.iter().filter(|r| *r == "valid").count(), 1, "round {round}: {reasons:?}");
        assert_eq!(reasons.iter().filter(|r| *r == "replayed").count(), 63, "round {round}: {reasons:?}");
    }
}

async fn a_bound_refresh_token_needs_a_proof_from_its_key(app: TestApp) {
    let k = client_key(0x11);
    let pair = bound_pair(&app, &k).await;
    let rt = pair["refresh_token"].as_str().unwrap();
    let url = endpoint(&app, "/v1/access-tokens/refresh");
    let body = json!({"refresh_token": rt});

    let answer = post_with(&app, "/v1/access-tokens/refresh", None, body.clone()).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "binding_mismatch");
    let thief = proof(&client_key(0x22), "POST", &url, "t-1", START, json!({}));
    let answer = post_with(&app, "/v1/access-tokens/refresh", Some(&thief), body.clone()).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "binding_mismatch");
    assert!(answer.2["detail"].as_str().unwrap().contains(&jkt(&k)), "{}", answer.2);

    let good = proof(&k, "POST", &url, "t-2", START, json!({}));
    let (status, _, next) = post_with(&app, "/v1/access-tokens/refresh", Some(&good), body).await;
    assert_eq!(status, StatusCode::CREATED, "{next}");
    assert_eq!(next["token_type"], "DPoP", "{next}");
    assert_eq!(payload(next["access_token"].as_str().unwrap())["cnf"]["jkt"], jkt(&k));
    // The successor stays bound.
    let body = json!({"refresh_token": next["refresh_token"]});
    let answer = post_with(&app, "/v1/access-tokens/refresh", None, body).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "binding_mismatch");
}

async fn client(app: &TestApp) -> (String, String) {
    let body = json!({"name": "billing", "scopes": ["read"], "audiences": ["api"]});
    let (s, _, v) = post_with(app, "/v1/clients", None, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (v["client_id"].as_str().unwrap().to_string(), v["client_secret"].as_str().unwrap().to_string())
}

async fn token_request(
    app: &TestApp,
    id: &str,
    secret: &str,
    dpop: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let form = serde_urlencoded::to_string([("grant_type", "client_credentials")]).unwrap();
    let cred = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let mut req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {cred}"));
    if let Some(p) = dpop {
        req = req.header("dpop", p);
    }
    app.send(req.body(axum::body::Body::from(form)).unwrap()).await
}

async fn the_token_endpoint_binds_client_credentials(app: TestApp) {
    let (id, secret) = client(&app).await;
    let k = client_key(0x33);
    let p = proof(&k, "POST", &endpoint(&app, "/oauth2/token"), "cc-1", START, json!({}));
    let (status, _, v) = token_request(&app, &id, &secret, Some(&p)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["token_type"], "DPoP", "{v}");
    let token = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(payload(&token)["cnf"]["jkt"], jkt(&k));
    // The token verifies only with a proof from its key.
    let v = verify_with(&app, &token, Some(resource_proof(&client_key(0x22), &token, "cc-r1", START))).await;
    assert_eq!(v["reason"], "binding_mismatch", "{v}");
    let v = verify_with(&app, &token, None).await;
    assert_eq!(v["reason"], "binding_mismatch", "{v}");
    let v = verify_with(&app, &token, Some(resource_proof(&k, &token, "cc-r2", START))).await;
    assert_eq!(v["valid"], true, "{v}");
    // The same proof twice is refused as RFC 9449 §5 says: `invalid_dpop_proof`.
    let (status, _, v) = token_request(&app, &id, &secret, Some(&p)).await;
    assert_eq!((status, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")), "{v}");
    assert_eq!(v["ward_reason"], "replayed", "{v}");
    let (_, _, meta) = app.call(Method::GET, "/.well-known/oauth-authorization-server", None, None).await;
    let algs = meta["dpop_signing_alg_values_supported"].as_array().unwrap();
    assert!(algs.contains(&json!("ES256")), "{meta}");
}

async fn server_nonces_are_required_when_configured(app: TestApp) {
    let mut policy = ward_engine::Policy::default();
    policy.guard.dpop_require_nonce = true;
    policy.guard.dpop_nonce_period = 300;
    let app = TestApp::with_config(app.backend(), policy, ward_server::HttpConfig::default()).await.unwrap();
    let (id, secret) = client(&app).await;
    let k = client_key(0x44);
    let url = endpoint(&app, "/oauth2/token");

    let p = proof(&k, "POST", &url, "n-1", START, json!({}));
    let (status, headers, v) = token_request(&app, &id, &secret, Some(&p)).await;
    assert_eq!((status, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("use_dpop_nonce")), "{v}");
    let nonce = headers.get("dpop-nonce").expect("a DPoP-Nonce header").to_str().unwrap().to_string();

    let p = proof(&k, "POST", &url, "n-2", START, json!({"nonce": nonce}));
    let (status, headers, v) = token_request(&app, &id, &secret, Some(&p)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(headers.get("dpop-nonce").is_some(), "successful answers carry the nonce too");
    let token = v["access_token"].as_str().unwrap().to_string();

    // A resource server's verify: the answer hands it the nonce to send on.
    let v = verify_with(&app, &token, Some(resource_proof(&k, &token, "n-3", START))).await;
    assert_eq!(v["reason"], "nonce_required", "{v}");
    assert_eq!(v["dpop_nonce"], json!(nonce), "{v}");

    // A nonce lives for its period and the next, then is stale.
    app.clock.advance(600);
    let p = proof(&k, "POST", &url, "n-4", START + 600, json!({"nonce": nonce}));
    let (_, headers, v) = token_request(&app, &id, &secret, Some(&p)).await;
    assert_eq!(v["error"], "use_dpop_nonce", "{v}");
    assert_ne!(headers.get("dpop-nonce").unwrap().to_str().unwrap(), nonce, "a new nonce");
}
