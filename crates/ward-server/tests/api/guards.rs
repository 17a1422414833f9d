//! Replay defense and rate limits (issue 11): server nonces and client nonces accepted exactly
//! once under concurrency, sender binding of API keys, named GCRA limits with their headers, and
//! the failure throttle that locks out an address guessing keys.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use serde_json::{json, Value};
use ward_testkit::{assert_problem, HeaderMap, Method, StatusCode, TestApp, START};

ward_testkit::store_tests!(
    a_server_nonce_is_accepted_exactly_once_under_concurrency,
    a_server_nonce_expires_and_keeps_to_its_purpose,
    a_client_nonce_is_accepted_once_inside_its_window,
    a_bound_key_works_only_from_its_networks,
    a_named_limit_allows_exactly_its_budget_and_says_so,
    a_subjects_limit_is_shared_by_its_tokens,
    guessing_from_one_address_is_locked_out_while_others_verify,
);

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, HeaderMap, Value) {
    app.call(Method::POST, path, Some(app.admin_token()), Some(body)).await
}

async fn a_server_nonce_is_accepted_exactly_once_under_concurrency(app: TestApp) {
    let app = Arc::new(app);
    for round in 0..10 {
        let (s, _, issued) = post(&app, "/v1/nonces", json!({"purpose": "login"})).await;
        assert_eq!(s, StatusCode::CREATED, "{issued}");
        let nonce = issued["nonce"].as_str().unwrap().to_string();
        let answers = futures_join(64, |_| {
            let app = app.clone();
            let nonce = nonce.clone();
            async move { post(&app, "/v1/nonces/consume", json!({"nonce": nonce, "purpose": "login"})).await }
        })
        .await;
        let accepted = answers.iter().filter(|a| a.2["valid"] == true).count();
        assert_eq!(accepted, 1, "round {round}: exactly one of 64 consumes wins");
        for a in answers.iter().filter(|a| a.2["valid"] != true) {
            assert_eq!(a.0, StatusCode::OK);
            assert_eq!(a.2["reason"], "replayed", "{}", a.2);
        }
    }
}

async fn a_server_nonce_expires_and_keeps_to_its_purpose(app: TestApp) {
    let (_, _, issued) = post(&app, "/v1/nonces", json!({"purpose": "login", "ttl": 60})).await;
    let nonce = issued["nonce"].as_str().unwrap().to_string();
    let (_, _, v) = post(&app, "/v1/nonces/consume", json!({"nonce": nonce, "purpose": "signup"})).await;
    assert_eq!(v["reason"], "tampered", "another purpose: {v}");
    // One character of the tag changed (not the last, whose low bits base64 does not carry).
    let at = nonce.len() - 4;
    let swap = if &nonce[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swap}{}", &nonce[..at], &nonce[at + 1..]);
    let (_, _, v) = post(&app, "/v1/nonces/consume", json!({"nonce": forged, "purpose": "login"})).await;
    assert_eq!(v["reason"], "tampered", "{v}");
    let (_, _, v) = post(&app, "/v1/nonces/consume", json!({"nonce": "hello", "purpose": "login"})).await;
    assert_eq!(v["reason"], "malformed", "{v}");
    app.clock.advance(60);
    let (_, _, v) = post(&app, "/v1/nonces/consume", json!({"nonce": nonce, "purpose": "login"})).await;
    assert_eq!(v["reason"], "expired", "at its expiry: {v}");
    // The wrong purpose and the forgery spent nothing: a fresh nonce still works once.
    let (_, _, issued) = post(&app, "/v1/nonces", json!({})).await;
    let fresh = issued["nonce"].as_str().unwrap();
    let (_, _, v) = post(&app, "/v1/nonces/consume", json!({"nonce": fresh})).await;
    assert_eq!(v["valid"], true, "{v}");
    let answer = post(&app, "/v1/nonces", json!({"ttl": 100_000})).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "invalid_request");
}

async fn a_client_nonce_is_accepted_once_inside_its_window(app: TestApp) {
    let app = Arc::new(app);
    let now = START;
    for round in 0..10 {
        let nonce = format!("c-round-{round:04}");
        let answers = futures_join(64, |_| {
            let app = app.clone();
            let nonce = nonce.clone();
            async move { post(&app, "/v1/replay/check", json!({"nonce": nonce, "timestamp": now})).await }
        })
        .await;
        assert_eq!(answers.iter().filter(|a| a.2["valid"] == true).count(), 1, "round {round}: one of 64");
        assert!(answers.iter().filter(|a| a.2["valid"] != true).all(|a| a.2["reason"] == "replayed"));
    }
    let (_, _, v) = post(&app, "/v1/replay/check", json!({"nonce": "c-0123456789", "timestamp": now})).await;
    assert_eq!(v["valid"], true, "{v}");
    // Another scope is another namespace.
    let (_, _, v) =
        post(&app, "/v1/replay/check", json!({"nonce": "c-0123456789", "timestamp": now, "scope": "b"}))
            .await;
    assert_eq!(v["valid"], true, "{v}");
    let (_, _, v) =
        post(&app, "/v1/replay/check", json!({"nonce": "c-old-000001", "timestamp": now - 301})).await;
    assert_eq!(v["reason"], "expired", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("5 minutes old"), "the skew in words: {v}");
    let (_, _, v) =
        post(&app, "/v1/replay/check", json!({"nonce": "c-new-000001", "timestamp": now + 400})).await;
    assert_eq!(v["reason"], "not_yet_valid", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("in the future"), "{v}");
    let (_, _, v) =
        post(&app, "/v1/replay/check", json!({"nonce": "c-edge-00001", "timestamp": now - 300})).await;
    assert_eq!(v["valid"], true, "the window's edge is inside it: {v}");
    // Found by Schemathesis: the far ends of the range are answered, not a dropped connection.
    for far in [i64::MIN, i64::MAX] {
        let (status, _, v) =
            post(&app, "/v1/replay/check", json!({"nonce": "c-far-000001", "timestamp": far})).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert!(["expired", "not_yet_valid"].contains(&v["reason"].as_str().unwrap()), "{v}");
    }
    // Below i64::MIN (read as a float that rounds to it): not a timestamp Ward can hold.
    let below = json!({"nonce": "c-far-000001", "timestamp": -9_223_372_036_854_775_809.0});
    assert_problem(&post(&app, "/v1/replay/check", below).await, StatusCode::BAD_REQUEST, "invalid_request");
    let answer = post(&app, "/v1/replay/check", json!({"nonce": "short", "timestamp": now})).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "invalid_request");
}

async fn a_bound_key_works_only_from_its_networks(app: TestApp) {
    let app = Arc::new(app);
    let created = app
        .create_key(json!({"subject": "svc", "allowed_ips": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]}))
        .await;
    assert_eq!(created["allowed_ips"], json!(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]));
    let key = created["key"].as_str().unwrap();
    let verify = |ip: Option<&str>| {
        let body = match ip {
            Some(ip) => json!({"token": key, "context": {"client_ip": ip}}),
            None => json!({"token": key}),
        };
        let app = app.clone();
        async move { post(&app, "/v1/verify", body).await.2 }
    };
    assert_eq!(verify(Some("10.20.30.40")).await["valid"], true);
    assert_eq!(verify(Some("2001:db8::5")).await["valid"], true);
    let v = verify(Some("203.0.113.9")).await;
    assert_eq!(v["reason"], "binding_mismatch", "{v}");
    let d = v["detail"].as_str().unwrap();
    assert!(d.contains("203.0.113.9") && d.contains("10.0.0.0/8"), "names the address and the list: {d}");
    assert_eq!(verify(None).await["reason"], "binding_mismatch");
    let bad = app
        .call(
            Method::POST,
            "/v1/keys",
            Some(app.admin_token()),
            Some(json!({"subject": "s", "allowed_ips": ["10.0.0.1/8"]})),
        )
        .await;
    assert_problem(&bad, StatusCode::BAD_REQUEST, "invalid_request");
}

async fn a_named_limit_allows_exactly_its_budget_and_says_so(app: TestApp) {
    let app = Arc::new(app);
    let created = app
        .create_key(json!({"subject": "rl", "ratelimits": [{"name": "api", "limit": 10, "period": 60}]}))
        .await;
    let key = created["key"].as_str().unwrap().to_string();
    let answers = futures_join(64, |_| {
        let app = app.clone();
        let key = key.clone();
        async move { post(&app, "/v1/verify", json!({"token": key, "ratelimit": {"name": "api"}})).await }
    })
    .await;
    let allowed: Vec<_> = answers.iter().filter(|a| a.2["valid"] == true).collect();
    assert_eq!(allowed.len(), 10, "exactly 10 of 64 concurrent calls");
    for a in &answers {
        if a.2["valid"] == true {
            assert_eq!(a.0, StatusCode::OK);
            assert_eq!(a.1["ratelimit-policy"], "\"api\";q=10;w=60");
        } else {
            assert_eq!(a.0, StatusCode::TOO_MANY_REQUESTS, "{}", a.2);
            assert_eq!(a.2["reason"], "rate_limited");
            assert_eq!(a.1["retry-after"], "6", "one unit is back after 60/10 s");
        }
    }
    let mut remaining: Vec<u64> =
        allowed.iter().map(|a| a.2["ratelimit"]["remaining"].as_u64().unwrap()).collect();
    remaining.sort_unstable();
    assert_eq!(remaining, (0..10).collect::<Vec<_>>());
    // At the boundary (fixed clock): 5 s later still refused, at 6 s one unit is back.
    app.clock.advance(5);
    let (s, h, _) = post(&app, "/v1/verify", json!({"token": key, "ratelimit": {"name": "api"}})).await;
    assert_eq!((s, h["retry-after"].to_str().unwrap()), (StatusCode::TOO_MANY_REQUESTS, "1"));
    app.clock.advance(1);
    let (s, h, v) = post(&app, "/v1/verify", json!({"token": key, "ratelimit": {"name": "api"}})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(h["ratelimit"], "\"api\";r=0;t=60");
    assert!(h.get("retry-after").is_none());
    // Without `ratelimit` the key is not limited; an unknown limit name is explained.
    assert_eq!(post(&app, "/v1/verify", json!({"token": key})).await.2["valid"], true);
    let (_, _, v) = post(&app, "/v1/verify", json!({"token": key, "ratelimit": {"name": "other"}})).await;
    assert!(v["detail"].as_str().unwrap().contains("no rate limit named `other`"), "{v}");
    // Per address: the token's budget is spent, but each end-user address has a whole one.
    let per = |ip: &str| json!({"token": key, "ratelimit": {"name": "api", "per_address": true}, "context": {"client_ip": ip}});
    for round in 0..10 {
        let (s, _, v) = post(&app, "/v1/verify", per("198.51.100.1")).await;
        assert_eq!(s, StatusCode::OK, "round {round}: {v}");
        assert_eq!(v["ratelimit"]["remaining"], 9 - round, "{v}");
    }
    let (s, _, v) = post(&app, "/v1/verify", per("198.51.100.1")).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{v}");
    let (s, _, v) = post(&app, "/v1/verify", per("198.51.100.2")).await;
    assert_eq!((s, &v["ratelimit"]["remaining"]), (StatusCode::OK, &json!(9)), "another address: {v}");
    let body = json!({"token": key, "ratelimit": {"name": "api", "per_address": true}});
    assert_problem(&post(&app, "/v1/verify", body).await, StatusCode::BAD_REQUEST, "invalid_request");
}

async fn a_subjects_limit_is_shared_by_its_tokens(app: TestApp) {
    let (s, _, v) = app
        .call(
            Method::PUT,
            "/v1/subjects/alice/ratelimits",
            Some(app.admin_token()),
            Some(json!({"ratelimits": [{"name": "login", "limit": 3, "period": 60}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(app.get("/v1/subjects/alice/ratelimits").await["ratelimits"][0]["limit"], 3);
    let a = app.create_key(json!({"subject": "alice"})).await["key"].as_str().unwrap().to_string();
    let b = app.create_key(json!({"subject": "alice"})).await["key"].as_str().unwrap().to_string();
    let mut valid = 0;
    for token in [&a, &b, &a, &b, &a] {
        let (_, _, v) =
            post(&app, "/v1/verify", json!({"token": token, "ratelimit": {"name": "login"}})).await;
        valid += usize::from(v["valid"] == true);
    }
    assert_eq!(valid, 3, "two keys of one subject share its budget of 3");
}

/// `POST /v1/verify` without a key from `ip`, as a real connection from it would arrive.
async fn anonymous_verify_from(app: &TestApp, ip: IpAddr, token: &str) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/v1/verify")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "token": token }).to_string()))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    app.send(req).await
}

async fn guessing_from_one_address_is_locked_out_while_others_verify(app: TestApp) {
    let good = app.create_key(json!({"subject": "bystander"})).await["key"].as_str().unwrap().to_string();
    let attacker: IpAddr = "203.0.113.66".parse().unwrap();
    let bystander: IpAddr = "198.51.100.20".parse().unwrap();
    let (mut misses, mut limited) = (0, 0);
    for i in 0..1_000 {
        let env = app.engine.policy().env.clone();
        let guess = ward_core::token::mint(&mut rand::rngs::OsRng, &env, ward_core::TokenKind::ApiKey).token;
        let (s, h, v) = anonymous_verify_from(&app, attacker, &guess).await;
        match s {
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert!(h.get("retry-after").is_some());
            }
            StatusCode::OK => {
                assert_eq!(v["valid"], false);
                misses += 1;
            }
            other => panic!("{other}: {v}"),
        }
        if i % 50 == 0 {
            let (s, _, v) = anonymous_verify_from(&app, bystander, &good).await;
            assert_eq!(
                (s, &v["valid"]),
                (StatusCode::OK, &json!(true)),
                "a valid key from another address: {v}"
            );
        }
    }
    assert!(misses < 100, "throttled before 100 misses: {misses} misses, {limited} limited");
    assert!(limited >= 900, "{limited}");
    // The lockout ends on time, and an authenticated backend's verify naming the attacker's
    // address is refused too.
    let (_, _, v) =
        post(&app, "/v1/verify", json!({"token": good, "context": {"client_ip": attacker.to_string()}}))
            .await;
    assert_eq!(v["reason"], "rate_limited", "{v}");
    // An operator sees the lockout, and can lift it.
    let lockouts = app.get("/v1/lockouts").await;
    let listed = lockouts["lockouts"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{lockouts}");
    assert_eq!(listed[0]["address"], attacker.to_string(), "{lockouts}");
    let (s, _, v) = post(&app, "/v1/lockouts/unlock", json!({"address": attacker.to_string()})).await;
    assert_eq!((s, &v["was_locked"]), (StatusCode::OK, &json!(true)), "{v}");
    let (s, _, v) = anonymous_verify_from(&app, attacker, &good).await;
    assert_eq!((s, &v["valid"]), (StatusCode::OK, &json!(true)), "unlocked at once: {v}");
    assert_eq!(app.get("/v1/lockouts").await["lockouts"], json!([]));
    let (_, _, v) = post(&app, "/v1/lockouts/unlock", json!({"address": attacker.to_string()})).await;
    assert_eq!(v["was_locked"], false, "{v}");
    let answer = post(&app, "/v1/lockouts/unlock", json!({"address": "not-an-ip"})).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    // Locked out again, the lockout (now the second, twice as long) ends on time.
    for _ in 0..app.engine.policy().guard.throttle.max_failures {
        anonymous_verify_from(&app, attacker, "ward_live_ak_nonsense").await;
    }
    let (s, _, v) = anonymous_verify_from(&app, attacker, &good).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    app.clock.advance(3600);
    let (s, _, v) = anonymous_verify_from(&app, attacker, &good).await;
    assert_eq!((s, &v["valid"]), (StatusCode::OK, &json!(true)), "{v}");
}

/// Runs `n` copies of `f` at once and collects their answers.
async fn futures_join<F, Fut>(n: usize, f: F) -> Vec<(StatusCode, HeaderMap, Value)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = (StatusCode, HeaderMap, Value)> + Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
