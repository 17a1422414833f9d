//! Forward-auth (issue 14): `/v1/forward-auth` as nginx `auth_request`, Traefik `forwardAuth` and
//! Envoy `ext_authz` call it — the identity headers on a pass, an RFC 6750 challenge with Ward's
//! reason on a refusal, and a malformed original request refused, never passed.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use ward_testkit::{HeaderMap, Method, StatusCode, TestApp};

ward_testkit::store_tests!(
    good_tokens_pass_with_their_identity,
    refusals_are_challenges_with_the_reason,
    a_malformed_original_request_is_refused_not_passed,
    the_token_can_come_from_a_cookie,
);

async fn forward(app: &TestApp, method: Method, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap) {
    let mut req = Request::builder().method(method).uri("/v1/forward-auth");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let (s, h, _) = app.send(req.body(Body::empty()).unwrap()).await;
    (s, h)
}

fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

async fn good_tokens_pass_with_their_identity(app: TestApp) {
    let key = app.create_key(json!({"subject": "svc_billing", "scopes": ["reports:read"]})).await;
    let key = key["key"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {key}");
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let (s, headers) = forward(
            &app,
            method.clone(),
            &[("authorization", &bearer), ("x-original-uri", "/reports/42?x=1")],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{method}");
        assert_eq!(h(&headers, "x-ward-subject"), "svc_billing");
        assert_eq!(h(&headers, "x-ward-kind"), "api_key");
        assert_eq!(h(&headers, "x-ward-scopes"), "reports:read");
        assert_eq!(h(&headers, "x-ward-token-id").len(), 16, "{headers:?}");
    }
    let (s, _) =
        forward(&app, Method::GET, &[("authorization", &bearer), ("x-ward-require-scopes", "reports:read")])
            .await;
    assert_eq!(s, StatusCode::OK);

    let (s, _, session) = app
        .call(Method::POST, "/v1/sessions", Some(app.admin_token()), Some(json!({"subject": "alice"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{session}");
    let bearer = format!("Bearer {}", session["token"].as_str().unwrap());
    let (s, headers) = forward(&app, Method::GET, &[("authorization", &bearer)]).await;
    assert_eq!(
        (s, h(&headers, "x-ward-subject"), h(&headers, "x-ward-kind")),
        (StatusCode::OK, "alice", "session")
    );

    let body = json!({"subject": "carol", "audience": "api", "scopes": ["read"]});
    let (s, _, at) = app.call(Method::POST, "/v1/access-tokens", Some(app.admin_token()), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{at}");
    let bearer = format!("Bearer {}", at["access_token"].as_str().unwrap());
    let (s, headers) = forward(&app, Method::GET, &[("authorization", &bearer)]).await;
    assert_eq!(
        (s, h(&headers, "x-ward-subject"), h(&headers, "x-ward-kind")),
        (StatusCode::OK, "carol", "access_token")
    );
    assert_eq!(h(&headers, "x-ward-scopes"), "read");
}

async fn refusals_are_challenges_with_the_reason(app: TestApp) {
    let (s, headers) = forward(&app, Method::GET, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        h(&headers, "www-authenticate"),
        "Bearer realm=\"ward\"",
        "no token: no error code (RFC 6750 §3.1)"
    );

    let key = app.create_key(json!({"subject": "svc", "scopes": ["reports:read"]})).await;
    let bearer = format!("Bearer {}", key["key"].as_str().unwrap());
    let (s, headers) = forward(
        &app,
        Method::GET,
        &[("authorization", &bearer), ("x-ward-require-scopes", "reports:read reports:write")],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let challenge = h(&headers, "www-authenticate");
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert!(challenge.contains("error_description=\"insufficient_scope: "), "{challenge}");

    let id = key["id"].as_str().unwrap();
    let (s, _, v) = app
        .call(Method::POST, &format!("/v1/keys/{id}/revoke"), Some(app.admin_token()), Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, headers) = forward(&app, Method::GET, &[("authorization", &bearer)]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let challenge = h(&headers, "www-authenticate");
    assert!(challenge.contains("error=\"invalid_token\", error_description=\"revoked: "), "{challenge}");
    assert_eq!(h(&headers, "x-ward-reason"), "revoked");
    assert!(headers.get("x-ward-subject").is_none(), "nothing for the upstream on a refusal");

    let (s, headers) = forward(&app, Method::GET, &[("authorization", "Bearer ward_live_ak_nonsense")]).await;
    assert_eq!((s, h(&headers, "x-ward-reason")), (StatusCode::UNAUTHORIZED, "checksum_mismatch"));
}

async fn a_malformed_original_request_is_refused_not_passed(app: TestApp) {
    let key = app.create_key(json!({"subject": "svc"})).await;
    let bearer = format!("Bearer {}", key["key"].as_str().unwrap());
    for uri in ["http://evil.example/x", "//evil.example/x", "reports", "/a b", ""] {
        let mut req =
            Request::builder().method(Method::GET).uri("/v1/forward-auth").header("authorization", &bearer);
        req = req.header("x-original-uri", axum::http::HeaderValue::from_bytes(uri.as_bytes()).unwrap());
        let (s, _, v) = app.send(req.body(Body::empty()).unwrap()).await;
        assert_eq!(
            (s, v["reason"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{uri:?}: {v}"
        );
    }
    let (s, _) = forward(
        &app,
        Method::GET,
        &[("authorization", &bearer), ("x-original-uri", "/a"), ("x-forwarded-uri", "/b")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "two URIs that disagree");
    let (s, _) =
        forward(&app, Method::GET, &[("authorization", &bearer), ("x-original-method", "GE T")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = forward(
        &app,
        Method::GET,
        &[("authorization", &bearer), ("x-ward-require-scopes", &"x".repeat(200))],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = forward(&app, Method::GET, &[("authorization", "Basic Zm9vOmJhcg==")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "another scheme");
}

async fn the_token_can_come_from_a_cookie(app: TestApp) {
    let http =
        ward_server::HttpConfig { forward_auth_cookie: Some("__Host-session".into()), ..Default::default() };
    let app = TestApp::with_config(app.backend(), ward_engine::Policy::default(), http).await.unwrap();
    let (s, _, session) = app
        .call(Method::POST, "/v1/sessions", Some(app.admin_token()), Some(json!({"subject": "alice"})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{session}");
    let cookie = format!("theme=dark; __Host-session={}; other=1", session["token"].as_str().unwrap());
    let (s, headers) = forward(&app, Method::GET, &[("cookie", &cookie)]).await;
    assert_eq!((s, h(&headers, "x-ward-subject")), (StatusCode::OK, "alice"));
    let (s, _) = forward(&app, Method::GET, &[("cookie", "session=x")]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "another cookie is not read");
}
