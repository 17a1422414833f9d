//! Least privilege (issue 9): every route requires the least of `ward:verify`, `ward:issue`,
//! `ward:revoke` and `ward:admin`; `ward:admin` allows everything; a key hands out no `ward:`
//! scope it does not hold. One table, checked against the behaviour and the OpenAPI document.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use ward_testkit::{assert_problem, Method, StatusCode, TestApp};

ward_testkit::store_tests!(every_route_requires_its_least_scope, a_key_cannot_hand_out_more_than_it_holds);

const SCOPES: [&str; 4] = ["ward:verify", "ward:issue", "ward:revoke", "ward:admin"];

/// One route: method, the path as documented, the path as called, the body, the least scope.
struct Route {
    method: Method,
    template: &'static str,
    path: String,
    body: Option<Value>,
    scope: &'static str,
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, _, v) = app.call(Method::POST, path, Some(app.admin_token()), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{path}: {v}");
    v
}

fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_else(|| panic!("no `{field}` in {v}")).to_string()
}

fn routes(key: &str, session: &str, session_token: &str, client: &str) -> Vec<Route> {
    let r = |method: Method, template: &'static str, path: String, body: Option<Value>, scope| Route {
        method,
        template,
        path,
        body,
        scope,
    };
    let none = || Some(json!({}));
    vec![
        r(Method::POST, "/v1/verify", "/v1/verify".into(), Some(json!({"token": "hello"})), "ward:verify"),
        r(Method::POST, "/v1/keys", "/v1/keys".into(), Some(json!({"subject": "made"})), "ward:issue"),
        r(Method::GET, "/v1/keys", "/v1/keys".into(), None, "ward:admin"),
        r(Method::GET, "/v1/keys/{id}", format!("/v1/keys/{key}"), None, "ward:admin"),
        r(Method::POST, "/v1/keys/{id}/disable", format!("/v1/keys/{key}/disable"), None, "ward:revoke"),
        r(Method::POST, "/v1/keys/{id}/enable", format!("/v1/keys/{key}/enable"), None, "ward:revoke"),
        r(Method::POST, "/v1/keys/{id}/rotate", format!("/v1/keys/{key}/rotate"), none(), "ward:issue"),
        r(Method::POST, "/v1/keys/{id}/revoke", format!("/v1/keys/{key}/revoke"), none(), "ward:revoke"),
        r(
            Method::POST,
            "/v1/sessions",
            "/v1/sessions".into(),
            Some(json!({"subject": "made"})),
            "ward:issue",
        ),
        r(Method::GET, "/v1/sessions", "/v1/sessions?subject=target".into(), None, "ward:verify"),
        r(Method::GET, "/v1/sessions/{id}", format!("/v1/sessions/{session}"), None, "ward:verify"),
        r(
            Method::POST,
            "/v1/sessions/renew",
            "/v1/sessions/renew".into(),
            Some(json!({"token": session_token})),
            "ward:issue",
        ),
        r(
            Method::POST,
            "/v1/sessions/revoke",
            "/v1/sessions/revoke".into(),
            Some(json!({"token": session_token})),
            "ward:revoke",
        ),
        r(
            Method::POST,
            "/v1/sessions/{id}/revoke",
            format!("/v1/sessions/{session}/revoke"),
            none(),
            "ward:revoke",
        ),
        r(
            Method::POST,
            "/v1/one-time",
            "/v1/one-time".into(),
            Some(json!({"subject": "made", "purpose": "magic_link"})),
            "ward:issue",
        ),
        r(
            Method::POST,
            "/v1/one-time/redeem",
            "/v1/one-time/redeem".into(),
            Some(json!({"token": "x", "purpose": "p"})),
            "ward:verify",
        ),
        r(Method::POST, "/v1/nonces", "/v1/nonces".into(), none(), "ward:issue"),
        r(
            Method::POST,
            "/v1/nonces/consume",
            "/v1/nonces/consume".into(),
            Some(json!({"nonce": "x"})),
            "ward:verify",
        ),
        r(
            Method::POST,
            "/v1/replay/check",
            "/v1/replay/check".into(),
            Some(json!({"nonce": "n-0123456789", "timestamp": 0})),
            "ward:verify",
        ),
        r(Method::GET, "/v1/lockouts", "/v1/lockouts".into(), None, "ward:admin"),
        r(
            Method::POST,
            "/v1/lockouts/unlock",
            "/v1/lockouts/unlock".into(),
            Some(json!({"address": "203.0.113.9"})),
            "ward:admin",
        ),
        r(
            Method::PUT,
            "/v1/subjects/{subject}/ratelimits",
            "/v1/subjects/target/ratelimits".into(),
            Some(json!({"ratelimits": []})),
            "ward:issue",
        ),
        r(
            Method::GET,
            "/v1/subjects/{subject}/ratelimits",
            "/v1/subjects/target/ratelimits".into(),
            None,
            "ward:verify",
        ),
        r(
            Method::POST,
            "/v1/subjects/{subject}/revoke",
            "/v1/subjects/target/revoke".into(),
            none(),
            "ward:revoke",
        ),
        r(
            Method::POST,
            "/v1/clients",
            "/v1/clients".into(),
            Some(json!({"name": "c", "audiences": ["api"]})),
            "ward:issue",
        ),
        r(Method::GET, "/v1/clients/{id}", format!("/v1/clients/{client}"), None, "ward:admin"),
        r(
            Method::POST,
            "/v1/clients/{id}/revoke",
            format!("/v1/clients/{client}/revoke"),
            none(),
            "ward:revoke",
        ),
        r(
            Method::POST,
            "/v1/access-tokens",
            "/v1/access-tokens".into(),
            Some(json!({"subject": "made", "audience": "api"})),
            "ward:issue",
        ),
        r(
            Method::POST,
            "/v1/access-tokens/refresh",
            "/v1/access-tokens/refresh".into(),
            Some(json!({"refresh_token": "x"})),
            "ward:issue",
        ),
        r(
            Method::POST,
            "/v1/access-tokens/revoke",
            "/v1/access-tokens/revoke".into(),
            Some(json!({"jti": "j1"})),
            "ward:revoke",
        ),
        r(Method::GET, "/v1/keyring", "/v1/keyring".into(), None, "ward:admin"),
        r(Method::POST, "/v1/keyring/rotate", "/v1/keyring/rotate".into(), none(), "ward:admin"),
        // Introspection with a Ward key (OAuth clients authenticate otherwise).
        r(Method::POST, "/oauth2/introspect", "/oauth2/introspect".into(), None, "ward:verify"),
    ]
}

async fn call(app: &TestApp, route: &Route, key: &str) -> (StatusCode, Value) {
    if route.template == "/oauth2/introspect" {
        let (s, _, v) = app
            .call_raw(
                Method::POST,
                &route.path,
                Some(key),
                Some("application/x-www-form-urlencoded"),
                "token=x",
            )
            .await;
        return (s, v);
    }
    let (s, _, v) = app.call(route.method.clone(), &route.path, Some(key), route.body.clone()).await;
    (s, v)
}

async fn every_route_requires_its_least_scope(app: TestApp) {
    let target = created(&app, "/v1/keys", json!({"subject": "target", "scopes": ["read"]})).await;
    let session = created(&app, "/v1/sessions", json!({"subject": "target"})).await;
    let client = created(&app, "/v1/clients", json!({"name": "c", "audiences": ["api"]})).await;
    let mut holders = Vec::new();
    for scope in SCOPES {
        let k =
            created(&app, "/v1/keys", json!({"subject": format!("holder-{scope}"), "scopes": [scope]})).await;
        holders.push((scope, text(&k, "key")));
    }
    let table = routes(
        &text(&target, "id"),
        &text(&session, "id"),
        &text(&session, "token"),
        &text(&client, "client_id"),
    );

    for route in &table {
        for (held, key) in &holders {
            let allowed = *held == route.scope || *held == "ward:admin";
            let (s, v) = call(&app, route, key).await;
            if allowed {
                assert_ne!(s, StatusCode::FORBIDDEN, "{held} may {} {}: {v}", route.method, route.path);
                assert_ne!(s, StatusCode::UNAUTHORIZED, "{held} {} {}: {v}", route.method, route.path);
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{held} may not {} {}: {v}", route.method, route.path);
                assert_eq!(v["reason"], "insufficient_scope", "{v}");
                assert!(
                    v["detail"].as_str().unwrap().contains(route.scope),
                    "{} names {}: {v}",
                    route.path,
                    route.scope
                );
            }
        }
    }

    // The table is every route that takes a Ward key, with the scope the document declares.
    let (_, _, doc) = app.call(Method::GET, "/openapi.json", None, None).await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(security) = op.get("security").and_then(Value::as_array) else { continue };
            for bearer in security.iter().filter_map(|r| r.get("bearer")) {
                let scope = bearer[0].as_str().unwrap().to_string();
                documented.insert((method.to_uppercase(), path.clone(), scope));
            }
        }
    }
    let tested: BTreeSet<(String, String, String)> =
        table.iter().map(|r| (r.method.to_string(), r.template.to_string(), r.scope.to_string())).collect();
    assert_eq!(tested, documented, "the table and the OpenAPI document agree on every route's scope");
}

async fn a_key_cannot_hand_out_more_than_it_holds(app: TestApp) {
    let issuer =
        text(&created(&app, "/v1/keys", json!({"subject": "web", "scopes": ["ward:issue"]})).await, "key");
    // An issue-only key mints keys with the application's scopes and with what it holds itself.
    for scopes in [json!(["read", "write"]), json!(["ward:issue"]), json!([])] {
        let (s, _, v) = app
            .call(Method::POST, "/v1/keys", Some(&issuer), Some(json!({"subject": "u", "scopes": scopes})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{scopes}: {v}");
    }
    let before = app.get("/v1/keys").await["keys"].as_array().unwrap().len();
    for scopes in
        [json!(["ward:admin"]), json!(["read", "ward:revoke"]), json!(["ward:verify"]), json!(["ward:new"])]
    {
        let answer = app
            .call(Method::POST, "/v1/keys", Some(&issuer), Some(json!({"subject": "u", "scopes": scopes})))
            .await;
        assert_problem(&answer, StatusCode::FORBIDDEN, "insufficient_scope");
    }
    assert_eq!(app.get("/v1/keys").await["keys"].as_array().unwrap().len(), before, "no key was made");
    // Nor can it rotate a key whose scopes it could not mint: that would hand out its secret.
    let admin_id = app.admin_id().to_string();
    let answer =
        app.call(Method::POST, &format!("/v1/keys/{admin_id}/rotate"), Some(&issuer), Some(json!({}))).await;
    assert_problem(&answer, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(app.get(&format!("/v1/keys/{admin_id}")).await["status"], "active");
    // An admin key may hand out anything.
    let (s, _, v) = app
        .call(
            Method::POST,
            "/v1/keys",
            Some(app.admin_token()),
            Some(json!({"subject": "u", "scopes": ["ward:admin"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
