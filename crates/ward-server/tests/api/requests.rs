//! The edges of a request (issue 9): bodies are JSON objects or a 400, a refused request spends
//! nothing of the caller's budget, the Bearer scheme is matched in any case, and a caller whose
//! own credential fails is told a code from the reason table, the same for every failure.

use serde_json::{json, Value};
use ward_core::token;
use ward_core::TokenKind;
use ward_testkit::{assert_problem, HeaderMap, Method, StatusCode, TestApp};

ward_testkit::store_tests!(
    array_and_scalar_bodies_are_refused_and_change_nothing,
    refused_requests_spend_no_use_of_the_callers_key,
    the_bearer_scheme_is_matched_in_any_case,
    a_refused_caller_key_gets_a_code_from_the_reason_table,
    the_forbidden_detail_names_the_scope_once,
);

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    authorization: Option<String>,
    content_type: &str,
    body: impl Into<Vec<u8>>,
) -> (StatusCode, HeaderMap, Value) {
    let mut req =
        axum::http::Request::builder().method(method).uri(path).header("content-type", content_type);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    app.send(req.body(axum::body::Body::from(body.into())).unwrap()).await
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, _, v) = app.call(Method::POST, path, Some(app.admin_token()), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{path}: {v}");
    v
}

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_else(|| panic!("no `{field}` in {v}"))
}

async fn key_count(app: &TestApp) -> usize {
    app.get("/v1/keys").await["keys"].as_array().unwrap().len()
}

/// serde decodes a struct from a positional array: `["x","n",["ward:admin"]]` was an admin key
/// and `[]` revoked a session. Every body must be an object.
async fn array_and_scalar_bodies_are_refused_and_change_nothing(app: TestApp) {
    let key = created(&app, "/v1/keys", json!({"subject": "u"})).await;
    let session = created(&app, "/v1/sessions", json!({"subject": "u"})).await;
    let (kid, sid) = (str_of(&key, "id").to_string(), str_of(&session, "id").to_string());
    let keys_before = key_count(&app).await;
    let paths = [
        "/v1/keys".to_string(),
        format!("/v1/keys/{kid}/revoke"),
        format!("/v1/keys/{kid}/rotate"),
        format!("/v1/sessions/{sid}/revoke"),
        "/v1/sessions".into(),
        "/v1/sessions/revoke".into(),
        "/v1/one-time".into(),
        "/v1/subjects/u/revoke".into(),
        "/v1/clients".into(),
        "/v1/access-tokens".into(),
        "/v1/verify".into(),
    ];
    let bodies = [r#"["x","n",["ward:admin"]]"#, "[]", " \n [ ]", "null", "\"u\"", "1", "true"];
    for path in &paths {
        for body in bodies {
            let answer = raw(
                &app,
                Method::POST,
                path,
                Some(format!("Bearer {}", app.admin_token())),
                "application/json",
                body,
            )
            .await;
            assert_problem(&answer, StatusCode::BAD_REQUEST, "invalid_request");
            assert!(str_of(&answer.2, "detail").contains("JSON object"), "{path} {body}: {}", answer.2);
        }
    }
    assert_eq!(key_count(&app).await, keys_before, "no key was made");
    assert_eq!(app.verify(str_of(&key, "key"), &[]).await["reason"], "valid", "the key is untouched");
    assert_eq!(app.verify(str_of(&session, "token"), &[]).await["reason"], "valid", "the session too");
    // An object with whitespace before it is still an object.
    let (s, _, v) = raw(
        &app,
        Method::POST,
        "/v1/verify",
        Some(format!("Bearer {}", app.admin_token())),
        "application/json",
        " \r\n\t{\"token\": \"hello\"}",
    )
    .await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::OK, Some("malformed")), "{v}");
}

/// A usage-limited caller key spends a use only when its request is accepted (issue 9).
async fn refused_requests_spend_no_use_of_the_callers_key(app: TestApp) {
    let limited =
        created(&app, "/v1/keys", json!({"subject": "ops", "scopes": ["ward:admin"], "uses": 3})).await;
    let (caller, caller_id) = (str_of(&limited, "key").to_string(), str_of(&limited, "id").to_string());
    let target = created(&app, "/v1/keys", json!({"subject": "u"})).await;
    let tid = str_of(&target, "id").to_string();
    let bearer = || Some(format!("Bearer {caller}"));
    let too_big = format!("{{\"subject\": \"{}\"}}", "x".repeat(70 * 1024));
    let bad: Vec<(Method, String, &str, String, StatusCode)> = vec![
        (
            Method::POST,
            "/v1/keys".into(),
            "application/json",
            r#"["x","n",["ward:admin"]]"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/keys".into(),
            "text/plain",
            r#"{"subject": "x"}"#.into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (Method::POST, "/v1/keys".into(), "application/json", too_big, StatusCode::PAYLOAD_TOO_LARGE),
        (Method::POST, "/v1/keys".into(), "application/json", "{not json".into(), StatusCode::BAD_REQUEST),
        (
            Method::POST,
            "/v1/keys".into(),
            "application/json",
            r#"{"subject": "x", "nope": 1}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/keys".into(),
            "application/json",
            r#"{"subject": ""}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/keys".into(),
            "application/json",
            r#"{"subject": "x", "uses": 0}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            format!("/v1/keys/{tid}/revoke"),
            "application/json",
            r#"{"reason": "bored"}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (Method::POST, "/v1/keys/nope/revoke".into(), "application/json", "{}".into(), StatusCode::NOT_FOUND),
        (
            Method::POST,
            "/v1/sessions".into(),
            "application/json",
            r#"{"subject": "x", "idle_timeout": 0}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/one-time".into(),
            "application/json",
            r#"{"subject": "x", "purpose": "Bad Purpose"}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/clients".into(),
            "application/json",
            r#"{"name": "c", "audiences": []}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/access-tokens".into(),
            "application/json",
            r#"{"subject": "x", "audience": []}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/verify".into(),
            "application/json",
            r#"{"token": "x", "type": "nope"}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/verify".into(),
            "application/json",
            r#"{"token": "x", "scopes": ["a b"]}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (Method::GET, "/v1/keys?limit=0".into(), "application/json", String::new(), StatusCode::BAD_REQUEST),
        (Method::GET, "/v1/keys?bogus=1".into(), "application/json", String::new(), StatusCode::BAD_REQUEST),
        (
            Method::POST,
            "/v1/keyring/rotate".into(),
            "application/json",
            r#"{"alg": "none"}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, path, ct, body, status) in bad {
        let (s, _, v) = raw(&app, method.clone(), &path, bearer(), ct, body).await;
        assert_eq!(s, status, "{method} {path}: {v}");
        let left = app.get(&format!("/v1/keys/{caller_id}")).await["remaining_uses"].clone();
        assert_eq!(left, 3, "{method} {path} was refused ({s}) and must not spend a use");
    }
    // A request the caller's scopes do not allow spends nothing either.
    let verifier =
        created(&app, "/v1/keys", json!({"subject": "gw", "scopes": ["ward:verify"], "uses": 1})).await;
    let (vk, vid) = (str_of(&verifier, "key").to_string(), str_of(&verifier, "id").to_string());
    let answer = app.call(Method::POST, "/v1/keys", Some(&vk), Some(json!({"subject": "x"}))).await;
    assert_problem(&answer, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(app.get(&format!("/v1/keys/{vid}")).await["remaining_uses"], 1);

    // Accepted requests spend, one each, until the budget is gone.
    for left in [2, 1, 0] {
        let (s, _, v) =
            app.call(Method::POST, "/v1/verify", Some(&caller), Some(json!({"token": "hello"}))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(app.get(&format!("/v1/keys/{caller_id}")).await["remaining_uses"], left);
    }
    let spent = app.call(Method::POST, "/v1/verify", Some(&caller), Some(json!({"token": "hello"}))).await;
    assert_problem(&spent, StatusCode::UNAUTHORIZED, "credential_refused");
}

/// RFC 9110 §11.1: the auth scheme is case-insensitive.
async fn the_bearer_scheme_is_matched_in_any_case(app: TestApp) {
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let auth = Some(format!("{scheme} {}", app.admin_token()));
        let (s, _, v) = raw(&app, Method::GET, "/v1/keys", auth.clone(), "application/json", "").await;
        assert_eq!(s, StatusCode::OK, "{scheme}: {v}");
        let (s, _, v) =
            raw(&app, Method::POST, "/v1/verify", auth.clone(), "application/json", r#"{"token": "hello"}"#)
                .await;
        assert_eq!(
            (s, v["reason"].as_str()),
            (StatusCode::OK, Some("malformed")),
            "{scheme}: the full answer, {v}"
        );
        // Spaces around the token are not part of it.
        let (s, _, _) =
            raw(&app, Method::GET, "/v1/keys", Some(format!("{scheme}   {} ", app.admin_token())), "", "")
                .await;
        assert_eq!(s, StatusCode::OK, "{scheme} with padding");
    }
    // Another scheme is no Bearer credential: a challenge with no error code (RFC 6750 §3.1).
    for other in ["Basic YWxpY2U6cw==", "Token abc", "Bearer"] {
        let answer = raw(&app, Method::GET, "/v1/keys", Some(other.into()), "", "").await;
        assert_problem(&answer, StatusCode::UNAUTHORIZED, "missing");
        assert_eq!(answer.1["www-authenticate"], "Bearer realm=\"ward\"", "{other}");
    }
}

/// A caller whose key is revoked, unknown or tampered is told `credential_refused` (a code in
/// `GET /v1/reasons`), and the same body whichever it was: nothing tells which ids exist.
async fn a_refused_caller_key_gets_a_code_from_the_reason_table(app: TestApp) {
    let (_, _, table) = app.call(Method::GET, "/v1/reasons", None, None).await;
    let codes: Vec<&str> =
        table["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    let revoked = created(&app, "/v1/keys", json!({"subject": "ops", "scopes": ["ward:admin"]})).await;
    let id = str_of(&revoked, "id");
    let (s, _, _) = app
        .call(Method::POST, &format!("/v1/keys/{id}/revoke"), Some(app.admin_token()), Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let unknown = token::mint(&mut rand::rngs::OsRng, "live", TokenKind::ApiKey).token.to_string();
    let mut bodies = Vec::new();
    for caller in [str_of(&revoked, "key"), unknown.as_str()] {
        let answer = app.call(Method::GET, "/v1/keys", Some(caller), None).await;
        assert_problem(&answer, StatusCode::UNAUTHORIZED, "credential_refused");
        assert!(codes.contains(&str_of(&answer.2, "reason")), "{} is in the reason table", answer.2);
        let challenge = answer.1["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("error=\"invalid_token\""), "the RFC 6750 category stays: {challenge}");
        assert!(answer.2.get("detail").is_none(), "no particulars: {}", answer.2);
        bodies.push(answer.2);
    }
    assert_eq!(bodies[0], bodies[1], "a revoked key and an unknown one read alike");
}

/// "needs the `ward:admin` scope (or `ward:admin`)" said the scope twice.
async fn the_forbidden_detail_names_the_scope_once(app: TestApp) {
    let verifier = created(&app, "/v1/keys", json!({"subject": "gw", "scopes": ["ward:verify"]})).await;
    let vk = str_of(&verifier, "key");
    let listing = app.call(Method::GET, "/v1/keys", Some(vk), None).await;
    assert_problem(&listing, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(str_of(&listing.2, "detail"), "this endpoint needs the `ward:admin` scope");
    let minting = app.call(Method::POST, "/v1/sessions", Some(vk), Some(json!({"subject": "u"}))).await;
    assert_problem(&minting, StatusCode::FORBIDDEN, "insufficient_scope");
    let detail = str_of(&minting.2, "detail");
    assert!(detail.contains("`ward:issue`") && detail.matches("ward:").count() == 2, "{detail}");
}
