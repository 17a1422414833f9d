//! The HTTP API end to end: the real axum app driven in process, every test on SQLite and on
//! PostgreSQL (`sqlite::name`, `postgres::name`), time moved by a manual clock, never by sleeping.

// Tests fail loudly: unwrapping and indexing JSON answers is the point of an assertion here.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use ward_core::token::{self, CHECKSUM_LEN, ID_LEN};
use ward_core::{Reason, TokenKind};
use ward_testkit::{assert_problem, secret_part, HeaderMap, Method, StatusCode, TestApp, START};

mod dpop;
mod forward;
mod guards;
mod lifecycle;
mod logs;
mod openapi;
mod requests;
mod robustness;
mod scopes;
mod signed;
mod slow_clients;

ward_testkit::store_tests!(
    // verdicts
    a_valid_key_is_valid_and_described,
    no_token_is_missing,
    shapes_that_are_not_tokens_are_malformed,
    typos_and_truncations_are_checksum_mismatches,
    a_never_issued_key_is_unknown,
    a_changed_secret_is_tampered,
    expiry_is_exact_to_the_second,
    a_key_is_not_valid_before_its_start,
    revocation_names_its_reason_and_actor,
    a_disabled_key_works_again_once_enabled,
    uses_count_down_then_run_out,
    a_missing_scope_is_named,
    a_key_of_another_environment_is_wrong_type,
    a_store_outage_is_unavailable_not_a_verdict,
    // disclosure
    anonymous_callers_see_the_category_only,
    anonymous_verify_can_be_turned_off,
    a_verify_key_gets_full_answers_but_cannot_administer,
    admin_endpoints_need_a_valid_admin_key,
    // concurrency and the cache
    concurrent_verifies_spend_exactly_the_uses,
    local_writes_apply_to_the_next_verify_despite_the_cache,
    // bad input
    bad_create_requests_are_problems_and_change_nothing,
    bad_verify_requests_are_problems,
    unknown_routes_methods_and_queries_are_problems,
    bad_revocations_and_unknown_ids_are_problems,
    // reading
    keys_are_listed_and_shown_without_secrets,
    reasons_openapi_and_health,
    // secrets at rest
    no_secret_reaches_the_store,
);

const JSON: Option<&str> = Some("application/json");

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

fn key_of(created: &Value) -> String {
    created["key"].as_str().unwrap_or_else(|| panic!("no key in {created}")).to_string()
}

fn id_of(created: &Value) -> String {
    created["id"].as_str().unwrap_or_else(|| panic!("no id in {created}")).to_string()
}

/// A freshly created key with no limits: (raw key, id).
async fn plain_key(app: &TestApp, subject: &str) -> (String, String) {
    let created = app.create_key(json!({ "subject": subject, "scopes": ["read"] })).await;
    (key_of(&created), id_of(&created))
}

async fn reason(app: &TestApp, token: &str) -> Value {
    app.verify(token, &[]).await["reason"].clone()
}

async fn post_admin(app: &TestApp, path: &str, body: Value) -> (StatusCode, HeaderMap, Value) {
    app.call(Method::POST, path, Some(app.admin_token()), Some(body)).await
}

/// A string field of a verify answer, e.g. its `detail`.
fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field].as_str().unwrap_or_else(|| panic!("no `{field}` in {body}"))
}

// ---------------------------------------------------------------------------------------------
// verdicts
// ---------------------------------------------------------------------------------------------

async fn a_valid_key_is_valid_and_described(app: TestApp) {
    let created = app
        .create_key(
            json!({ "subject": "user_42", "name": "ci", "scopes": ["read"], "meta": { "team": "blue" } }),
        )
        .await;
    let token = key_of(&created);
    assert!(token.starts_with("ward_live_ak_"), "{token}");
    assert_eq!(created["status"], "active");

    let body = app.verify(&token, &["read"]).await;
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["reason"], "valid");
    assert_eq!(body["key"]["id"], id_of(&created));
    assert_eq!(body["key"]["subject"], "user_42");
    assert_eq!(body["key"]["meta"], json!({ "team": "blue" }));
    let text = body.to_string();
    assert!(!text.contains(secret_part(&token).unwrap()), "a verify answer must not echo the secret");

    // The second answer comes from the cache entry's serialised view: the same as the first, and
    // the same as the metadata endpoint shows.
    let again = app.verify(&token, &["read"]).await;
    assert_eq!(again, body);
    let shown = app.get(&format!("/v1/keys/{}", id_of(&created))).await;
    assert_eq!(body["key"], shown);
}

async fn no_token_is_missing(app: TestApp) {
    assert_eq!(reason(&app, "").await, "missing");
    let (status, _, body) = post_admin(&app, "/v1/verify", json!({ "scopes": [] })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["reason"], "missing", "{body}");
    assert_eq!(body["valid"], false);
}

async fn shapes_that_are_not_tokens_are_malformed(app: TestApp) {
    for t in ["hello", "ward_live_ak_!!", "Bearer ward_live_ak_x", "ward_live_ak_"] {
        assert_eq!(reason(&app, t).await, "malformed", "{t:?}");
    }
}

async fn typos_and_truncations_are_checksum_mismatches(app: TestApp) {
    let (token, _) = plain_key(&app, "u").await;
    // Change one character of the secret, leaving the checksum as it was.
    let at = token.len() - CHECKSUM_LEN - 3;
    let mut typo = token.clone().into_bytes();
    typo[at] = if typo[at] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    let body = app.verify(&typo, &[]).await;
    assert_eq!(body["reason"], "checksum_mismatch", "{body}");

    for cut in [1, 7] {
        let short = &token[..token.len() - cut];
        let body = app.verify(short, &[]).await;
        assert_eq!(body["reason"], "checksum_mismatch", "cut {cut}: {body}");
        assert!(text(&body, "detail").contains("truncated"), "{body}");
    }
    assert_eq!(reason(&app, &token).await, "valid", "the original still works");
}

async fn a_never_issued_key_is_unknown(app: TestApp) {
    let minted = token::mint(&mut rand::rngs::OsRng, "live", TokenKind::ApiKey);
    let body = app.verify(&minted.token, &[]).await;
    assert_eq!(body["reason"], "unknown", "{body}");
    assert!(text(&body, "detail").contains(&minted.id), "{body}");
}

async fn a_changed_secret_is_tampered(app: TestApp) {
    let (token, id) = plain_key(&app, "u").await;
    // Same id, one secret character changed, checksum recomputed: passes parsing, fails the hash.
    let mut hashed = token[..token.len() - CHECKSUM_LEN].to_string();
    let last = hashed.pop().unwrap();
    hashed.push(if last == 'Q' { 'R' } else { 'Q' });
    let forged = token::with_checksum(&hashed);
    assert!(forged.contains(&id) && forged != token);
    let body = app.verify(&forged, &[]).await;
    assert_eq!(body["reason"], "tampered", "{body}");
    assert_eq!(reason(&app, &token).await, "valid");
}

async fn expiry_is_exact_to_the_second(app: TestApp) {
    let created = app.create_key(json!({ "subject": "u", "expires_in": 60 })).await;
    let token = key_of(&created);
    app.clock.set(START + 59);
    assert_eq!(reason(&app, &token).await, "valid", "one second before expiry");
    app.clock.set(START + 60);
    let body = app.verify(&token, &[]).await;
    assert_eq!(body["reason"], "expired", "at expiry: {body}");
    app.clock.set(START + 61);
    assert_eq!(reason(&app, &token).await, "expired", "after expiry");
    assert_eq!(app.get(&format!("/v1/keys/{}", id_of(&created))).await["status"], "expired");
}

async fn a_key_is_not_valid_before_its_start(app: TestApp) {
    let token = key_of(&app.create_key(json!({ "subject": "u", "starts_in": 30, "expires_in": 90 })).await);
    let body = app.verify(&token, &[]).await;
    assert_eq!(body["reason"], "not_yet_valid", "{body}");
    app.clock.set(START + 29);
    assert_eq!(reason(&app, &token).await, "not_yet_valid");
    app.clock.set(START + 30);
    assert_eq!(reason(&app, &token).await, "valid");
}

async fn revocation_names_its_reason_and_actor(app: TestApp) {
    let (token, id) = plain_key(&app, "u").await;
    app.clock.advance(120);
    let revoke = json!({ "reason": "compromised", "note": "pasted in a ticket" });
    let (status, _, view) = post_admin(&app, &format!("/v1/keys/{id}/revoke"), revoke).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "revoked");
    let actor = format!("key:{}", app.admin_id());
    assert_eq!(view["revoked"]["actor"], actor.as_str());

    let body = app.verify(&token, &[]).await;
    assert_eq!(body["reason"], "revoked", "{body}");
    let detail = text(&body, "detail");
    for part in ["compromised", actor.as_str(), "pasted in a ticket"] {
        assert!(detail.contains(part), "detail {detail:?} lacks {part:?}");
    }

    // The first revocation stands.
    let (status, _, again) =
        post_admin(&app, &format!("/v1/keys/{id}/revoke"), json!({ "reason": "logout" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["revoked"]["reason"], "compromised", "{again}");
}

async fn a_disabled_key_works_again_once_enabled(app: TestApp) {
    let (token, id) = plain_key(&app, "u").await;
    let (status, _, view) = post_admin(&app, &format!("/v1/keys/{id}/disable"), json!({})).await;
    assert_eq!((status, &view["status"]), (StatusCode::OK, &json!("disabled")), "{view}");
    assert_eq!(reason(&app, &token).await, "disabled");
    let (status, _, view) = post_admin(&app, &format!("/v1/keys/{id}/enable"), json!({})).await;
    assert_eq!((status, &view["status"]), (StatusCode::OK, &json!("active")), "{view}");
    assert_eq!(reason(&app, &token).await, "valid");
}

async fn uses_count_down_then_run_out(app: TestApp) {
    let created = app.create_key(json!({ "subject": "u", "uses": 2 })).await;
    let token = key_of(&created);
    assert_eq!(created["remaining_uses"], 2);
    for left in [1, 0] {
        let body = app.verify(&token, &[]).await;
        assert_eq!(body["reason"], "valid", "{body}");
        assert_eq!(body["key"]["remaining_uses"], left, "{body}");
    }
    assert_eq!(reason(&app, &token).await, "usage_exceeded");
    assert_eq!(reason(&app, &token).await, "usage_exceeded", "and it stays exhausted");
    let view = app.get(&format!("/v1/keys/{}", id_of(&created))).await;
    assert_eq!((&view["remaining_uses"], &view["status"]), (&json!(0), &json!("usage_exceeded")));
}

async fn a_missing_scope_is_named(app: TestApp) {
    let (token, _) = plain_key(&app, "u").await;
    assert_eq!(app.verify(&token, &["read"]).await["reason"], "valid");
    let body = app.verify(&token, &["read", "write"]).await;
    assert_eq!(body["reason"], "insufficient_scope", "{body}");
    assert!(text(&body, "detail").contains("write"), "{body}");
}

async fn a_key_of_another_environment_is_wrong_type(app: TestApp) {
    let test_key = token::mint(&mut rand::rngs::OsRng, "test", TokenKind::ApiKey);
    let body = app.verify(&test_key.token, &[]).await;
    assert_eq!(body["reason"], "wrong_type", "{body}");
    assert!(text(&body, "detail").contains("`test`"), "{body}");
}

async fn a_store_outage_is_unavailable_not_a_verdict(app: TestApp) {
    let (token, _) = plain_key(&app, "u").await; // created, never verified: not cached
    app.close_store().await;

    let (status, _, body) = post_admin(&app, "/v1/verify", json!({ "token": token })).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!((&body["reason"], &body["valid"]), (&json!("unavailable"), &json!(false)), "{body}");

    let anonymous = app.call(Method::POST, "/v1/verify", None, Some(json!({ "token": token }))).await;
    assert_eq!(anonymous.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(anonymous.2, json!({ "valid": false, "error": "temporarily_unavailable" }));

    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_problem(&ready, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.0,
        StatusCode::OK,
        "alive though not ready"
    );
}

// ---------------------------------------------------------------------------------------------
// disclosure
// ---------------------------------------------------------------------------------------------

async fn anonymous_callers_see_the_category_only(app: TestApp) {
    let (token, id) = plain_key(&app, "u").await;
    let anon = |req: Value| app.call(Method::POST, "/v1/verify", None, Some(req));

    let (status, _, body) = anon(json!({ "token": token })).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "valid": true })));
    let (_, _, body) = anon(json!({ "token": token, "scopes": ["write"] })).await;
    assert_eq!(body, json!({ "valid": false, "error": "insufficient_scope" }));
    let (_, _, body) = anon(json!({ "token": "hello" })).await;
    assert_eq!(body, json!({ "valid": false, "error": "invalid_token" }));

    post_admin(&app, &format!("/v1/keys/{id}/revoke"), json!({ "note": "secret note" })).await;
    let (_, _, body) = anon(json!({ "token": token })).await;
    assert_eq!(body, json!({ "valid": false, "error": "invalid_token" }), "no reason, detail or key");
    let (_, _, body) = anon(json!({})).await;
    assert_eq!(body, json!({ "valid": false }), "missing has no RFC 6750 error code");
}

async fn anonymous_verify_can_be_turned_off(app: TestApp) {
    let http =
        ward_server::HttpConfig { allow_anonymous_verify: false, ..ward_server::HttpConfig::default() };
    let app = TestApp::with_config(app.backend(), ward_engine::Policy::default(), http)
        .await
        .expect("the same backend again");
    let answer = app.call(Method::POST, "/v1/verify", None, Some(json!({ "token": "hello" }))).await;
    assert_problem(&answer, StatusCode::UNAUTHORIZED, "missing");
    assert!(answer.1.contains_key("www-authenticate"));
}

async fn a_verify_key_gets_full_answers_but_cannot_administer(app: TestApp) {
    let verifier = key_of(&app.create_key(json!({ "subject": "gateway", "scopes": ["ward:verify"] })).await);
    let (token, _) = plain_key(&app, "u").await;

    let req = json!({ "token": token, "scopes": ["write"] });
    let (status, _, body) = app.call(Method::POST, "/v1/verify", Some(&verifier), Some(req)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["reason"], "insufficient_scope", "{body}");
    assert!(body["hint"].is_string() && body["detail"].is_string(), "{body}");

    let answer = app.call(Method::POST, "/v1/keys", Some(&verifier), Some(json!({ "subject": "x" }))).await;
    assert_problem(&answer, StatusCode::FORBIDDEN, "insufficient_scope");
    let challenge = answer.1["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer ") && challenge.contains("ward:issue"), "{challenge}");
    let listing = app.call(Method::GET, "/v1/keys", Some(&verifier), None).await;
    assert_problem(&listing, StatusCode::FORBIDDEN, "insufficient_scope");
}

async fn admin_endpoints_need_a_valid_admin_key(app: TestApp) {
    let create = json!({ "subject": "x" });
    let none = app.call(Method::POST, "/v1/keys", None, Some(create.clone())).await;
    assert_problem(&none, StatusCode::UNAUTHORIZED, "missing");
    assert!(none.1["www-authenticate"].to_str().unwrap().starts_with("Bearer "));

    let unknown = token::mint(&mut rand::rngs::OsRng, "live", TokenKind::ApiKey);
    let bad = app.call(Method::POST, "/v1/keys", Some(&unknown.token), Some(create.clone())).await;
    // Unauthenticated callers learn the RFC 6750 category (in the challenge) and a code from the
    // reason table that every refused credential shares, not that the id is unknown (issue 9).
    assert_problem(&bad, StatusCode::UNAUTHORIZED, "credential_refused");
    let challenge = bad.1["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""), "{challenge}");

    let listing = app.call(Method::GET, "/v1/keys", Some("hello"), None).await;
    assert_problem(&listing, StatusCode::UNAUTHORIZED, "malformed");

    let req = axum::http::Request::post("/v1/keys")
        .header("authorization", "Basic YWxpY2U6cw==")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(create.to_string()))
        .unwrap();
    let basic = app.send(req).await;
    // Basic is no Bearer credential at all: a challenge without an error code (RFC 6750 §3.1).
    assert_problem(&basic, StatusCode::UNAUTHORIZED, "missing");
    assert_eq!(basic.1["www-authenticate"], "Bearer realm=\"ward\"");
    assert_eq!(app.get("/v1/keys").await["keys"].as_array().unwrap().len(), 1, "only the admin key");
}

// ---------------------------------------------------------------------------------------------
// concurrency and the cache
// ---------------------------------------------------------------------------------------------

async fn concurrent_verifies_spend_exactly_the_uses(app: TestApp) {
    let token = key_of(&app.create_key(json!({ "subject": "u", "uses": 10 })).await);
    let app = Arc::new(app);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move { app.verify(&token, &[]).await })
        })
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut left: Vec<i64> = Vec::new();
    for task in tasks {
        let body = task.await.unwrap();
        *counts.entry(text(&body, "reason").to_string()).or_default() += 1;
        if body["valid"] == true {
            left.push(body["key"]["remaining_uses"].as_i64().unwrap());
        }
    }
    let expected = BTreeMap::from([("usage_exceeded".to_string(), 54), ("valid".to_string(), 10)]);
    assert_eq!(counts, expected);
    left.sort_unstable();
    assert_eq!(left, (0..10).collect::<Vec<i64>>(), "each use spent exactly once");
}

async fn local_writes_apply_to_the_next_verify_despite_the_cache(app: TestApp) {
    let (token, id) = plain_key(&app, "u").await;
    assert_eq!(reason(&app, &token).await, "valid"); // now cached
    post_admin(&app, &format!("/v1/keys/{id}/disable"), json!({})).await;
    assert_eq!(reason(&app, &token).await, "disabled");
    post_admin(&app, &format!("/v1/keys/{id}/enable"), json!({})).await;
    assert_eq!(reason(&app, &token).await, "valid");
    let (status, _, _) =
        post_admin(&app, &format!("/v1/keys/{id}/revoke"), json!({ "reason": "logout" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reason(&app, &token).await, "revoked", "the very next verify");
}

// ---------------------------------------------------------------------------------------------
// bad input
// ---------------------------------------------------------------------------------------------

async fn bad_create_requests_are_problems_and_change_nothing(app: TestApp) {
    let before = app.get("/v1/keys").await;
    let admin = Some(app.admin_token());
    let invalid = [
        ("malformed JSON", r#"{"subject": "#),
        ("no subject", r#"{"scopes": ["read"]}"#),
        ("unknown field", r#"{"subject": "x", "colour": 1}"#),
        ("subject not a string", r#"{"subject": 5}"#),
        ("empty subject", r#"{"subject": ""}"#),
        ("uses 0", r#"{"subject": "x", "uses": 0}"#),
        ("expires_in -5", r#"{"subject": "x", "expires_in": -5}"#),
        ("starts when it ends", r#"{"subject": "x", "starts_in": 60, "expires_in": 60}"#),
        ("scope with a space", r#"{"subject": "x", "scopes": ["read all"]}"#),
        ("meta a string", r#"{"subject": "x", "meta": "team"}"#),
        ("meta an array", r#"{"subject": "x", "meta": [1]}"#),
    ];
    for (what, body) in invalid {
        let answer = app.call_raw(Method::POST, "/v1/keys", admin, JSON, body).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{what}: {}", answer.2);
        assert_problem(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    }

    let huge = json!({ "subject": "x", "name": "n".repeat(70 * 1024) }).to_string();
    let answer = app.call_raw(Method::POST, "/v1/keys", admin, JSON, huge).await;
    assert_problem(&answer, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    for content_type in [Some("text/plain"), None] {
        let answer = app.call_raw(Method::POST, "/v1/keys", admin, content_type, r#"{"subject":"x"}"#).await;
        assert_problem(&answer, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    assert_eq!(app.get("/v1/keys").await, before, "a failed create must write nothing");
}

async fn bad_verify_requests_are_problems(app: TestApp) {
    let cases = [
        ("token not a string", json!({ "token": 5 })),
        ("unknown field", json!({ "tokn": "x" })),
        ("scope with a space", json!({ "token": "x", "scopes": ["a b"] })),
        ("client_ip not an IP", json!({ "token": "x", "context": { "client_ip": "nope" } })),
        ("unknown context field", json!({ "token": "x", "context": { "colour": "red" } })),
    ];
    for (what, body) in cases {
        let answer = post_admin(&app, "/v1/verify", body).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{what}: {}", answer.2);
        assert_problem(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let form = app
        .call_raw(Method::POST, "/v1/verify", None, Some("application/x-www-form-urlencoded"), "token=x")
        .await;
    assert_problem(&form, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

async fn unknown_routes_methods_and_queries_are_problems(app: TestApp) {
    let admin = Some(app.admin_token());
    assert_problem(&app.call(Method::GET, "/v1/nope", admin, None).await, StatusCode::NOT_FOUND, "not_found");
    assert_problem(&app.call(Method::GET, "/", None, None).await, StatusCode::NOT_FOUND, "not_found");
    for (method, path) in
        [(Method::DELETE, "/v1/keys"), (Method::GET, "/v1/verify"), (Method::PUT, "/v1/keys/x/revoke")]
    {
        let answer = app.call(method.clone(), path, admin, None).await;
        assert_problem(&answer, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
    for query in ["limit=0", "limit=1001", "limit=many", "colour=red"] {
        let answer = app.call(Method::GET, &format!("/v1/keys?{query}"), admin, None).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{query}: {}", answer.2);
        assert_problem(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    }
}

async fn bad_revocations_and_unknown_ids_are_problems(app: TestApp) {
    let (token, id) = plain_key(&app, "u").await;
    let path = format!("/v1/keys/{id}/revoke");
    let bored = post_admin(&app, &path, json!({ "reason": "bored" })).await;
    assert_problem(&bored, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(text(&bored.2, "detail").contains("compromised"), "lists the reasons: {}", bored.2);
    let long_note = post_admin(&app, &path, json!({ "note": "n".repeat(1001) })).await;
    assert_problem(&long_note, StatusCode::BAD_REQUEST, "invalid_request");
    let unknown_field = post_admin(&app, &path, json!({ "why": "x" })).await;
    assert_problem(&unknown_field, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(app.get(&format!("/v1/keys/{id}")).await["status"], "active", "nothing was revoked");
    assert_eq!(reason(&app, &token).await, "valid");

    let missing = "0000000000000000";
    let admin = Some(app.admin_token());
    assert_problem(
        &app.call(Method::GET, &format!("/v1/keys/{missing}"), admin, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    for action in ["revoke", "disable", "enable"] {
        let answer = post_admin(&app, &format!("/v1/keys/{missing}/{action}"), json!({})).await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
    }
}

// ---------------------------------------------------------------------------------------------
// reading
// ---------------------------------------------------------------------------------------------

async fn keys_are_listed_and_shown_without_secrets(app: TestApp) {
    let (_, alice_old) = plain_key(&app, "alice").await;
    app.clock.advance(1);
    let (_, _bob) = plain_key(&app, "bob").await;
    app.clock.advance(1);
    let (_, alice_new) = plain_key(&app, "alice").await;
    let seen = app.seen_tokens().len();

    let alice = app.get("/v1/keys?subject=alice").await;
    let ids: Vec<&str> =
        alice["keys"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [alice_new.as_str(), alice_old.as_str()], "alice's keys, newest first");
    let newest = app.get("/v1/keys?limit=1").await;
    assert_eq!(newest["keys"].as_array().unwrap().len(), 1);
    assert_eq!(newest["keys"][0]["id"], alice_new.as_str());
    assert_eq!(app.get("/v1/keys").await["keys"].as_array().unwrap().len(), 4, "three and the admin key");

    let shown = app.get(&format!("/v1/keys/{alice_old}")).await;
    assert_eq!((&shown["subject"], &shown["status"]), (&json!("alice"), &json!("active")));
    assert_eq!(shown["created_at"], "2027-01-15T08:00:00Z");
    assert!(shown.get("key").is_none(), "a key is shown only when created: {shown}");
    assert_eq!(app.seen_tokens().len(), seen, "listing and showing returned no key");
}

async fn reasons_openapi_and_health(app: TestApp) {
    let table = app.get("/v1/reasons").await;
    let rows = table["reasons"].as_array().unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    let expected: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(codes, expected);
    for (row, reason) in rows.iter().zip(Reason::ALL) {
        let info = reason.info();
        assert_eq!((&row["status"], &row["hint"]), (&json!(info.status), &json!(info.hint)), "{row}");
    }

    let doc = app.get("/openapi.json").await;
    assert!(text(&doc, "openapi").starts_with("3."), "{}", doc["openapi"]);
    for path in [
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/v1/reasons",
        "/v1/verify",
        "/v1/keys",
        "/v1/keys/{id}",
        "/v1/keys/{id}/revoke",
        "/v1/keys/{id}/disable",
        "/v1/keys/{id}/enable",
    ] {
        assert!(doc["paths"].get(path).is_some(), "openapi.json lacks {path}");
    }

    assert_eq!(app.call(Method::GET, "/healthz", None, None).await.2, json!({ "status": "ok" }));
    assert_eq!(app.call(Method::GET, "/readyz", None, None).await.2, json!({ "status": "ready" }));
}

// ---------------------------------------------------------------------------------------------
// secrets at rest
// ---------------------------------------------------------------------------------------------

async fn no_secret_reaches_the_store(app: TestApp) {
    // A full flow: every write path and every kind of verify.
    let (plain, plain_id) = plain_key(&app, "subject-plain").await;
    let limited = key_of(&app.create_key(json!({ "subject": "subject-limited", "uses": 3 })).await);
    let (revoked, revoked_id) = plain_key(&app, "subject-revoked").await;
    for t in [&plain, &limited, &limited, &revoked] {
        assert_eq!(reason(&app, t).await, "valid");
    }
    post_admin(&app, &format!("/v1/keys/{revoked_id}/revoke"), json!({ "reason": "rotated" })).await;
    post_admin(&app, &format!("/v1/keys/{plain_id}/disable"), json!({})).await;
    post_admin(&app, &format!("/v1/keys/{plain_id}/enable"), json!({})).await;
    assert_eq!(reason(&app, &revoked).await, "revoked");
    assert_eq!(app.seen_tokens().len(), 4, "the admin key and three created keys");
    assert!(app.seen_tokens().iter().all(|t| secret_part(t).is_some_and(|s| s.len() == 32)));

    let at_rest = app.store_bytes().await;
    // The check must be able to fail: what is stored in clear is found in these bytes.
    assert!(at_rest.windows(plain_id.len()).any(|w| w == plain_id.as_bytes()), "the ids are at rest");
    assert!(at_rest.windows(15).any(|w| w == b"subject-limited"), "the subjects are at rest");
    assert_eq!(app.leaks_in(&at_rest), Vec::<String>::new(), "secrets at rest");

    if let Some(path) = app.sqlite_path() {
        // Closing checkpoints the WAL into the main file: check that form too.
        app.close_store().await;
        let main_file = std::fs::read(path).unwrap();
        assert!(main_file.windows(ID_LEN).any(|w| w == revoked_id.as_bytes()), "checkpointed");
        assert_eq!(app.leaks_in(&app.store_bytes().await), Vec::<String>::new(), "after checkpoint");
    }
    if let Some(dump) = app.pg_dump().await {
        assert!(dump.contains("CREATE TABLE public.api_keys"), "a real dump");
    }
}
