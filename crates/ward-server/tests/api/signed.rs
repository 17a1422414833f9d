//! Signed access tokens end to end: the key ring and JWKS, JWT and PASETO access tokens with
//! their explanations, rotating refresh tokens with reuse detection, revocation of signed tokens,
//! and the OAuth endpoints. Every test on SQLite and PostgreSQL, time moved by a manual clock.

use base64::Engine;
use serde_json::{json, Value};
use ward_testkit::{Method, StatusCode, TestApp};

ward_testkit::store_tests!(
    jwks_publishes_only_public_keys,
    jwt_access_tokens_verify_and_explain_their_claims,
    paseto_access_tokens_verify,
    expiry_honours_the_leeway_and_names_clock_skew,
    refresh_rotates_retries_inside_the_grace_and_revokes_on_reuse,
    revoking_a_jti_family_or_subject_reaches_signed_tokens,
    another_nodes_revocation_arrives_with_the_next_poll,
    rotated_keys_keep_verifying_until_retired,
    forged_tokens_are_rejected_with_the_right_reason,
    each_format_is_explained_in_its_own_words,
    client_credentials_and_refresh_through_the_token_endpoint,
    introspection_needs_a_caller_and_tells_a_client_only_of_its_own,
    introspecting_a_rotated_refresh_token_revokes_nothing,
    revoking_another_clients_token_is_refused_and_changes_nothing,
    metadata_for_an_issuer_with_a_path,
    oauth_revocation_and_metadata,
    bad_oauth_requests_get_rfc_6749_errors,
    keys_rotate_on_schedule_and_stay_sealed_at_rest,
);

/// ES256, RS256 and HS256 key rings work end to end; HS256 keys are never published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_jwt_algorithm_signs_and_verifies() {
    for alg in ["ES256", "RS256", "HS256"] {
        let policy =
            ward_engine::Policy { signing_alg: alg.parse().unwrap(), ..ward_engine::Policy::default() };
        let app =
            TestApp::with_config(ward_testkit::Backend::Sqlite, policy, ward_server::HttpConfig::default())
                .await
                .unwrap();
        let t = access_token(&app, json!({"subject": "x", "audience": "api"})).await;
        let at = t["access_token"].as_str().unwrap();
        assert_eq!(segments(at).0["alg"], alg);
        assert_eq!(verify(&app, at, Some("api"), &[]).await["reason"], "valid", "{alg}");
        let (_, _, jwks) = app.call(Method::GET, "/.well-known/jwks.json", None, None).await;
        let published = jwks["keys"].as_array().unwrap().iter().any(|k| k["alg"] == alg);
        assert_eq!(published, alg != "HS256", "{alg}: {jwks}");
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let (s, _, v) = app.call(Method::POST, path, Some(app.admin_token()), Some(body)).await;
    (s, v)
}

async fn access_token(app: &TestApp, body: Value) -> Value {
    let (s, v) = post(app, "/v1/access-tokens", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{body}: {v}");
    v
}

async fn verify(app: &TestApp, token: &str, audience: Option<&str>, scopes: &[&str]) -> Value {
    let mut req = json!({ "token": token, "scopes": scopes });
    if let Some(a) = audience {
        req["audience"] = json!(a);
    }
    post(app, "/v1/verify", req).await.1
}

async fn form(
    app: &TestApp,
    path: &str,
    basic: Option<(&str, &str)>,
    params: &[(&str, &str)],
) -> (StatusCode, Value) {
    let body = serde_urlencoded::to_string(params).unwrap();
    let mut req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        let cred = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        req = req.header("authorization", format!("Basic {cred}"));
    }
    let (s, _, v) = app.send(req.body(axum::body::Body::from(body)).unwrap()).await;
    (s, v)
}

fn segments(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let header = serde_json::from_slice(&B64.decode(parts.next().unwrap()).unwrap()).unwrap();
    let payload = serde_json::from_slice(&B64.decode(parts.next().unwrap()).unwrap()).unwrap();
    (header, payload)
}

fn jwt(header: &Value, payload: &Value, sig: &[u8]) -> String {
    format!("{}.{}.{}", B64.encode(header.to_string()), B64.encode(payload.to_string()), B64.encode(sig))
}

async fn client(app: &TestApp) -> (String, String) {
    let (s, v) = post(
        app,
        "/v1/clients",
        json!({"name": "billing", "scopes": ["read", "write"], "audiences": ["api"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (v["client_id"].as_str().unwrap().to_string(), v["client_secret"].as_str().unwrap().to_string())
}

// ---------------------------------------------------------------------------------------------

async fn jwks_publishes_only_public_keys(app: TestApp) {
    let (status, headers, jwks) = app.call(Method::GET, "/.well-known/jwks.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("cache-control").unwrap().to_str().unwrap().contains("max-age"));
    let keys = jwks["keys"].as_array().unwrap();
    assert!(!keys.is_empty(), "{jwks}");
    for k in keys {
        assert!(k["kid"].is_string(), "{k}");
        assert!(k.get("d").is_none() && k.get("k").is_none(), "no private or symmetric material: {k}");
    }
    assert!(keys.iter().any(|k| k["kty"] == "OKP" && k["crv"] == "Ed25519"), "{jwks}");

    // PASETO public keys are published as PASERK, and verify the tokens Ward issues.
    let (status, _, paserk) = app.call(Method::GET, "/.well-known/paserk.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let entry = &paserk["keys"][0];
    let key = ward_signed::VerifyingKey::from_paserk(entry["paserk"].as_str().unwrap()).unwrap();
    let t = access_token(&app, json!({"subject": "pat", "audience": "api", "format": "paseto"})).await;
    let expect = ward_signed::Expect::access_token(app.engine.issuer().to_string(), Some("api".into()));
    let claims = ward_signed::verify(
        t["access_token"].as_str().unwrap(),
        &key,
        &expect,
        ward_core::Clock::now(&*app.clock),
    );
    assert_eq!(claims.map(|c| c.sub), Ok("pat".to_string()));
}

async fn jwt_access_tokens_verify_and_explain_their_claims(app: TestApp) {
    let t = access_token(
        &app,
        json!({"subject": "alice", "audience": "api", "scopes": ["read"], "expires_in": 300}),
    )
    .await;
    assert_eq!((t["token_type"].as_str(), t["expires_in"].as_i64()), (Some("Bearer"), Some(300)));
    assert!(t.get("refresh_token").is_none());
    let at = t["access_token"].as_str().unwrap();
    let (header, payload) = segments(at);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(payload["sub"], "alice");
    assert_eq!(payload["iss"], app.engine.issuer());
    for claim in ["exp", "iat", "jti"] {
        assert!(!payload[claim].is_null(), "{claim} in {payload}");
    }

    let v = verify(&app, at, Some("api"), &["read"]).await;
    assert_eq!(v["reason"], "valid", "{v}");
    assert_eq!(v["access_token"]["claims"]["sub"], "alice");
    assert_eq!(v["access_token"]["format"], "jwt");
    let v = verify(&app, at, Some("billing"), &[]).await;
    assert_eq!(v["reason"], "wrong_audience", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("billing"), "{v}");
    assert_eq!(verify(&app, at, Some("api"), &["write"]).await["reason"], "insufficient_scope");
    // The type filter: an access token is not an API key.
    let (_, v) = post(&app, "/v1/verify", json!({"token": at, "type": "api_key"})).await;
    assert_eq!(v["reason"], "wrong_type", "{v}");
}

async fn paseto_access_tokens_verify(app: TestApp) {
    for (format, prefix) in [("paseto", "v4.public."), ("paseto-local", "v4.local.")] {
        let t = access_token(&app, json!({"subject": "bob", "audience": "api", "format": format})).await;
        let at = t["access_token"].as_str().unwrap();
        assert!(at.starts_with(prefix), "{at}");
        let v = verify(&app, at, Some("api"), &[]).await;
        assert_eq!(v["reason"], "valid", "{format}: {v}");
        assert_eq!(v["access_token"]["format"], format);
        assert_eq!(verify(&app, at, Some("web"), &[]).await["reason"], "wrong_audience");
    }
}

async fn expiry_honours_the_leeway_and_names_clock_skew(app: TestApp) {
    let leeway = app.engine.policy().leeway;
    let t = access_token(&app, json!({"subject": "carol", "audience": "api", "expires_in": 120})).await;
    let at = t["access_token"].as_str().unwrap().to_string();
    app.clock.advance(120 + leeway - 1);
    assert_eq!(verify(&app, &at, None, &[]).await["reason"], "valid", "inside the leeway");
    app.clock.advance(2);
    let v = verify(&app, &at, None, &[]).await;
    assert_eq!(v["reason"], "expired", "{v}");

    // A token from the future: the issuer's clock looks ahead of Ward's.
    let t = access_token(&app, json!({"subject": "carol", "audience": "api"})).await;
    let at = t["access_token"].as_str().unwrap().to_string();
    app.clock.advance(-(leeway + 120));
    let v = verify(&app, &at, None, &[]).await;
    assert_eq!(v["reason"], "not_yet_valid", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("clock"), "{v}");
}

async fn refresh_rotates_retries_inside_the_grace_and_revokes_on_reuse(app: TestApp) {
    let grace = app.engine.policy().refresh_grace;
    let first = access_token(&app, json!({"subject": "dave", "audience": "api", "refresh": true})).await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_string();
    assert!(rt1.starts_with("ward_live_rt_"));
    let (s, second) = post(&app, "/v1/access-tokens/refresh", json!({"refresh_token": rt1})).await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);

    // A retry inside the grace (a lost response, two tabs) gets the very same pair.
    app.clock.advance(grace - 1);
    let (s, retry) = post(&app, "/v1/access-tokens/refresh", json!({"refresh_token": rt1})).await;
    assert_eq!(s, StatusCode::CREATED, "{retry}");
    assert_eq!(retry, second, "same pair, not a theft alarm");
    let at2 = second["access_token"].as_str().unwrap().to_string();
    assert_eq!(verify(&app, &at2, None, &[]).await["reason"], "valid");

    // After the grace it is a stolen copy: refused, and the whole family goes.
    app.clock.advance(2);
    let (s, v) = post(&app, "/v1/access-tokens/refresh", json!({"refresh_token": rt1})).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("refresh_reuse")), "{v}");
    let v = verify(&app, &at2, None, &[]).await;
    assert_eq!(v["reason"], "revoked", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("compromised"), "{v}");
    let (_, v) =
        post(&app, "/v1/access-tokens/refresh", json!({"refresh_token": second["refresh_token"]})).await;
    assert_eq!(v["reason"], "revoked", "the successor dies with its family: {v}");
    // A refresh token is not an access token.
    assert_eq!(verify(&app, &rt1, None, &[]).await["reason"], "wrong_type");
}

async fn revoking_a_jti_family_or_subject_reaches_signed_tokens(app: TestApp) {
    let a = access_token(&app, json!({"subject": "erin", "audience": "api"})).await;
    let at = a["access_token"].as_str().unwrap();
    assert_eq!(verify(&app, at, None, &[]).await["reason"], "valid", "cached as verified");
    let (s, v) = post(&app, "/v1/access-tokens/revoke", json!({"token": at, "reason": "compromised"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(verify(&app, at, None, &[]).await["reason"], "revoked");

    let b = access_token(&app, json!({"subject": "erin", "audience": "api", "refresh": true})).await;
    let (s, _) =
        post(&app, "/v1/access-tokens/revoke", json!({"token": b["refresh_token"], "reason": "logout"}))
            .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(verify(&app, b["access_token"].as_str().unwrap(), None, &[]).await["reason"], "revoked");

    let c = access_token(&app, json!({"subject": "frank", "audience": "api", "format": "paseto"})).await;
    let (s, _) = post(&app, "/v1/subjects/frank/revoke", json!({"reason": "offboarded"})).await;
    assert_eq!(s, StatusCode::OK);
    let v = verify(&app, c["access_token"].as_str().unwrap(), None, &[]).await;
    assert_eq!(v["reason"], "revoked", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("offboarded"));
    // Tokens issued after the subject's revocation work.
    app.clock.advance(1);
    let d = access_token(&app, json!({"subject": "frank", "audience": "api"})).await;
    assert_eq!(verify(&app, d["access_token"].as_str().unwrap(), None, &[]).await["reason"], "valid");
}

async fn another_nodes_revocation_arrives_with_the_next_poll(app: TestApp) {
    let a = access_token(&app, json!({"subject": "gina", "audience": "api"})).await;
    let at = a["access_token"].as_str().unwrap();
    let jti = segments(at).1["jti"].as_str().unwrap().to_string();
    assert_eq!(verify(&app, at, None, &[]).await["reason"], "valid");
    // Another node writes the revocation to the shared store...
    let now = ward_core::Clock::now(&*app.clock);
    let entry = ward_core::deny::entry(
        ward_core::deny::DenyKind::Jti,
        &jti,
        now,
        now + 3600,
        ward_core::RevokeReason::Admin,
        "node-2",
    );
    app.engine.store().add_signed_revocation(&entry).await.unwrap();
    assert_eq!(verify(&app, at, None, &[]).await["reason"], "valid", "not seen before the poll");
    // ...and this node's next read of the change feed picks it up.
    app.engine.sync().await.unwrap();
    let v = verify(&app, at, None, &[]).await;
    assert_eq!(v["reason"], "revoked", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("node-2"));
}

async fn rotated_keys_keep_verifying_until_retired(app: TestApp) {
    let old = access_token(&app, json!({"subject": "hal", "audience": "api"})).await;
    let old_at = old["access_token"].as_str().unwrap().to_string();
    let old_kid = segments(&old_at).0["kid"].as_str().unwrap().to_string();
    let (s, ring) = post(&app, "/v1/keyring/rotate", json!({"alg": "EdDSA", "immediate": true})).await;
    assert_eq!(s, StatusCode::OK, "{ring}");
    let new = access_token(&app, json!({"subject": "hal", "audience": "api"})).await;
    let new_kid = segments(new["access_token"].as_str().unwrap()).0["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);
    let states: Vec<(String, String)> = app.get("/v1/keyring").await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap().to_string(), k["state"].as_str().unwrap().to_string()))
        .collect();
    assert!(states.contains(&(old_kid.clone(), "retiring".into())), "{states:?}");
    assert!(states.contains(&(new_kid.clone(), "active".into())), "{states:?}");
    let (_, _, jwks) = app.call(Method::GET, "/.well-known/jwks.json", None, None).await;
    let published: Vec<&str> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(published.contains(&old_kid.as_str()) && published.contains(&new_kid.as_str()), "{jwks}");

    assert_eq!(verify(&app, &old_at, None, &[]).await["reason"], "valid", "retiring keys still verify");
    app.clock.advance(app.engine.policy().access_token_max_ttl + app.engine.policy().leeway + 1);
    let v = verify(&app, &old_at, None, &[]).await;
    assert_eq!(v["reason"], "unknown_key", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("retired"), "{v}");
}

async fn forged_tokens_are_rejected_with_the_right_reason(app: TestApp) {
    let t = access_token(&app, json!({"subject": "ivy", "audience": "api"})).await;
    let at = t["access_token"].as_str().unwrap();
    let (header, payload) = segments(at);
    let sig = B64.decode(at.rsplit('.').next().unwrap()).unwrap();

    for none in ["none", "None", "NONE", "nOnE"] {
        let forged = jwt(&json!({"alg": none, "typ": "at+jwt", "kid": header["kid"]}), &payload, b"");
        assert_eq!(verify(&app, &forged, None, &[]).await["reason"], "unsupported_algorithm", "{none}");
    }
    let hs = jwt(&json!({"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}), &payload, &sig);
    assert_eq!(verify(&app, &hs, None, &[]).await["reason"], "unsupported_algorithm");

    let mut richer = payload.clone();
    richer["scope"] = json!("admin");
    let swapped = jwt(&header, &richer, &sig);
    assert_eq!(verify(&app, &swapped, None, &[]).await["reason"], "tampered");
    let stripped = format!("{}.", at.rsplit_once('.').unwrap().0);
    let truncated = &at[..at.len() - 4];
    for bad in [stripped.as_str(), truncated] {
        let r = verify(&app, bad, None, &[]).await["reason"].clone();
        assert!(r == "tampered" || r == "malformed", "{bad}: {r}");
    }

    for kid in ["../../etc/passwd", "' OR 1=1 --", "nope"] {
        let forged = jwt(&json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid}), &payload, &sig);
        assert_eq!(verify(&app, &forged, None, &[]).await["reason"], "unknown_key", "{kid}");
    }
    let mut wrong_typ = header.clone();
    wrong_typ["typ"] = json!("JWT");
    assert_eq!(verify(&app, &jwt(&wrong_typ, &payload, &sig), None, &[]).await["reason"], "wrong_type");

    // Signed by Ward's own key, but with a claim of the wrong JSON type: malformed, never absent.
    let signer = app.engine.signer(ward_signed::Algorithm::EdDSA).unwrap();
    let mut soon = payload.clone();
    soon["exp"] = json!("soon");
    let header_map = header.as_object().unwrap().clone();
    let signed =
        ward_signed::raw::sign_jws(&signer.signing, &header_map, soon.to_string().as_bytes()).unwrap();
    let v = verify(&app, &signed, None, &[]).await;
    assert_eq!(v["reason"], "malformed", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("exp"), "{v}");
    // ...and a genuine signature under another issuer names both issuers.
    let mut foreign = payload.clone();
    foreign["iss"] = json!("https://127.0.0.1:7878");
    let signed =
        ward_signed::raw::sign_jws(&signer.signing, &header_map, foreign.to_string().as_bytes()).unwrap();
    let v = verify(&app, &signed, None, &[]).await;
    assert_eq!(v["reason"], "wrong_issuer", "{v}");

    // jku and an embedded jwk are never used to find a key.
    let mut injected = header.clone();
    injected["jku"] = json!("https://attacker.example/jwks.json");
    injected["jwk"] = json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode([7u8; 32])});
    let r = verify(&app, &jwt(&injected, &richer, &sig), None, &[]).await["reason"].clone();
    assert!(r == "tampered" || r == "malformed", "{r}");

    // Another PASETO version is not an algorithm Ward accepts.
    let v = verify(&app, "v2.public.eyJzdWIiOiJ4In0", None, &[]).await;
    assert_eq!(v["reason"], "unsupported_algorithm", "{v}");
}

async fn client_credentials_and_refresh_through_the_token_endpoint(app: TestApp) {
    let (id, secret) = client(&app).await;
    let (s, t) = form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[("grant_type", "client_credentials"), ("scope", "read")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["scope"], "read");
    let at = t["access_token"].as_str().unwrap();
    let claims = segments(at).1;
    assert_eq!(
        (claims["client_id"].as_str(), claims["sub"].as_str()),
        (Some(id.as_str()), Some(id.as_str()))
    );
    assert_eq!(verify(&app, at, Some("api"), &["read"]).await["reason"], "valid");

    // client_secret_post works too.
    let (s, _) = form(
        &app,
        "/oauth2/token",
        None,
        &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // The refresh grant, for a refresh token issued to this client.
    let (s, first) = post(
        &app,
        "/v1/access-tokens",
        json!({"subject": "user-1", "audience": "api", "scopes": ["read"], "refresh": true, "client_id": id}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let rt = first["refresh_token"].as_str().unwrap();
    let (s, next) = form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{next}");
    assert_ne!(next["refresh_token"].as_str(), Some(rt));
    // Another client cannot use it.
    let (id2, secret2) = client(&app).await;
    let (s, v) = form(
        &app,
        "/oauth2/token",
        Some((&id2, &secret2)),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{v}");
}

/// Introspects `token` with a Ward key as `Authorization: <scheme> <key>`.
async fn introspect_with_key(app: &TestApp, scheme: &str, key: &str, token: &str) -> (StatusCode, Value) {
    let body = serde_urlencoded::to_string([("token", token)]).unwrap();
    let req = axum::http::Request::post("/oauth2/introspect")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("{scheme} {key}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let (s, _, v) = app.send(req).await;
    (s, v)
}

/// RFC 7662 §2.1: introspection needs an authorized caller; §2.2 and §4: a client learns about
/// its own tokens only; a Ward key with `ward:verify` learns everything, with Ward's reason
/// (issue 9).
async fn introspection_needs_a_caller_and_tells_a_client_only_of_its_own(app: TestApp) {
    let (id, secret) = client(&app).await;
    let (other_id, other_secret) = client(&app).await;
    let (_, own) =
        form(&app, "/oauth2/token", Some((&id, &secret)), &[("grant_type", "client_credentials")]).await;
    let own = own["access_token"].as_str().unwrap().to_string();
    // Minted by an admin for no client: nobody's but Ward's.
    let t = access_token(&app, json!({"subject": "jo", "audience": "api", "scopes": ["read"]})).await;
    let at = t["access_token"].as_str().unwrap();

    // Anonymous callers are refused, whatever the token.
    for token in [at, own.as_str(), "garbage"] {
        let (s, v) = form(&app, "/oauth2/introspect", None, &[("token", token)]).await;
        assert_eq!((s, v["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")), "{v}");
    }

    // A client's own token: the claims.
    let (s, mine) = form(&app, "/oauth2/introspect", Some((&id, &secret)), &[("token", &own)]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (mine["active"].as_bool(), mine["client_id"].as_str()),
        (Some(true), Some(id.as_str())),
        "{mine}"
    );
    // Another client's (or no client's) token: `active: false` and nothing else, active or not.
    for token in [own.as_str(), at] {
        let (s, v) =
            form(&app, "/oauth2/introspect", Some((&other_id, &other_secret)), &[("token", token)]).await;
        assert_eq!((s, &v), (StatusCode::OK, &json!({"active": false})), "another client's token");
    }
    let (_, v) = form(&app, "/oauth2/introspect", Some((&id, &secret)), &[("token", at)]).await;
    assert_eq!(v, json!({"active": false}), "no client's token");

    // A Ward key with ward:verify gets everything, with Ward's explanation; `BEARER` works too.
    let (s, full) = introspect_with_key(&app, "BEARER", app.admin_token(), at).await;
    assert_eq!(s, StatusCode::OK, "{full}");
    assert_eq!(
        (full["active"].as_bool(), full["sub"].as_str(), full["scope"].as_str()),
        (Some(true), Some("jo"), Some("read"))
    );
    app.clock.advance(3600);
    let (_, full) = introspect_with_key(&app, "bearer", app.admin_token(), at).await;
    assert_eq!(
        (full["active"].as_bool(), full["ward_reason"].as_str()),
        (Some(false), Some("expired")),
        "{full}"
    );
    assert!(full["ward_hint"].is_string());
    for token in [at, own.as_str()] {
        let (_, v) =
            form(&app, "/oauth2/introspect", Some((&other_id, &other_secret)), &[("token", token)]).await;
        assert_eq!(v, json!({"active": false}), "an expired token of another client: still nothing more");
    }
    let (s, v) = introspect_with_key(&app, "Bearer", app.admin_token(), "garbage").await;
    assert_eq!((s, v["ward_reason"].as_str()), (StatusCode::OK, Some("malformed")), "{v}");
    // A key without ward:verify may not; a key that is not valid is refused, never anonymous.
    let issuer = post(&app, "/v1/keys", json!({"subject": "svc", "scopes": ["ward:issue"]})).await.1;
    let (s, v) = introspect_with_key(&app, "Bearer", issuer["key"].as_str().unwrap(), at).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::FORBIDDEN, Some("insufficient_scope")), "{v}");
    let (s, v) = introspect_with_key(&app, "Bearer", "ward_live_ak_nope", at).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")), "{v}");
    // Bad client credentials are refused, not treated as anonymous.
    let (s, v) = form(&app, "/oauth2/introspect", Some((&id, "ward_live_cs_wrong")), &[("token", at)]).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")), "{v}");
}

/// Introspecting a rotated refresh token says it was exchanged, not that its family was
/// revoked: nothing was (issue 9).
async fn introspecting_a_rotated_refresh_token_revokes_nothing(app: TestApp) {
    let (id, secret) = client(&app).await;
    let t = access_token(&app, json!({"subject": "jo", "audience": "api", "refresh": true, "client_id": id}))
        .await;
    let rt = t["refresh_token"].as_str().unwrap().to_string();
    let (s, next) = form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{next}");
    let (_, v) = introspect_with_key(&app, "Bearer", app.admin_token(), &rt).await;
    assert_eq!((v["active"].as_bool(), v["ward_reason"].as_str()), (Some(false), Some("superseded")), "{v}");
    let detail = v["ward_detail"].as_str().unwrap();
    assert!(!detail.contains("has been revoked") && detail.contains("still live"), "{detail}");
    // The client sees the same about its own token, and the family still works.
    let (_, v) = form(&app, "/oauth2/introspect", Some((&id, &secret)), &[("token", &rt)]).await;
    assert_eq!(v["ward_reason"], "superseded", "{v}");
    let fresh = next["refresh_token"].as_str().unwrap();
    let (_, v) = form(&app, "/oauth2/introspect", Some((&id, &secret)), &[("token", fresh)]).await;
    assert_eq!(v["active"], true, "{v}");
}

async fn oauth_revocation_and_metadata(app: TestApp) {
    let (id, secret) = client(&app).await;
    let (_, t) =
        form(&app, "/oauth2/token", Some((&id, &secret)), &[("grant_type", "client_credentials")]).await;
    let at = t["access_token"].as_str().unwrap();
    let (s, _) = form(&app, "/oauth2/revoke", Some((&id, &secret)), &[("token", at)]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(verify(&app, at, None, &[]).await["reason"], "revoked");
    // Revoking garbage still answers 200 (RFC 7009 §2.2).
    let (s, _) = form(&app, "/oauth2/revoke", Some((&id, &secret)), &[("token", "garbage")]).await;
    assert_eq!(s, StatusCode::OK);

    let (s, _, m) = app.call(Method::GET, "/.well-known/oauth-authorization-server", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["issuer"], app.engine.issuer());
    for field in ["token_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"] {
        assert!(m[field].as_str().unwrap().starts_with(app.engine.issuer()), "{field}: {m}");
    }
    // RFC 8414 §2: `response_types_supported` is required and not empty; only registered
    // client authentication methods are listed (`bearer` is not one).
    assert!(!m["response_types_supported"].as_array().unwrap().is_empty(), "{m}");
    for list in [
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        for method in m[list].as_array().unwrap() {
            assert!(
                ["client_secret_basic", "client_secret_post"].contains(&method.as_str().unwrap()),
                "{list}: {m}"
            );
        }
    }
}

/// RFC 7009 §2.1: a client may revoke only tokens issued to it; another client's is refused
/// (`unauthorized_client`) and stays valid (issue 9).
async fn revoking_another_clients_token_is_refused_and_changes_nothing(app: TestApp) {
    let (id, secret) = client(&app).await;
    let (thief, thief_secret) = client(&app).await;
    let (_, t) =
        form(&app, "/oauth2/token", Some((&id, &secret)), &[("grant_type", "client_credentials")]).await;
    let at = t["access_token"].as_str().unwrap();
    let r = access_token(&app, json!({"subject": "jo", "audience": "api", "refresh": true, "client_id": id}))
        .await;
    let rt = r["refresh_token"].as_str().unwrap();
    let admins = access_token(&app, json!({"subject": "jo", "audience": "api"})).await;
    let admins = admins["access_token"].as_str().unwrap();
    for token in [at, rt, admins] {
        let (s, v) = form(&app, "/oauth2/revoke", Some((&thief, &thief_secret)), &[("token", token)]).await;
        assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unauthorized_client")), "{v}");
    }
    assert_eq!(verify(&app, at, None, &[]).await["reason"], "valid", "the access token still works");
    assert_eq!(verify(&app, admins, None, &[]).await["reason"], "valid");
    let (s, v) = form(
        &app,
        "/oauth2/token",
        Some((&id, &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "the refresh token still works: {v}");
}

/// RFC 8414 §3.1: an issuer with a path has its metadata at the well-known URI with the path
/// after it (issue 9).
async fn metadata_for_an_issuer_with_a_path(app: TestApp) {
    let policy = ward_engine::Policy {
        issuer: Some("https://auth.example/tenant".into()),
        ..ward_engine::Policy::default()
    };
    let app = TestApp::with_config(app.backend(), policy, ward_server::HttpConfig::default())
        .await
        .expect("the same backend");
    let (s, _, m) = app.call(Method::GET, "/.well-known/oauth-authorization-server/tenant", None, None).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["issuer"], "https://auth.example/tenant");
    assert_eq!(m["token_endpoint"], "https://auth.example/tenant/oauth2/token");
    let (s, _, _) = app.call(Method::GET, "/.well-known/oauth-authorization-server/other", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another path names no issuer here");
}

async fn bad_oauth_requests_get_rfc_6749_errors(app: TestApp) {
    let (id, secret) = client(&app).await;
    type Case<'a> = (Option<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            Some((&id, "ward_live_cs_nope")),
            vec![("grant_type", "client_credentials")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (None, vec![("grant_type", "client_credentials")], StatusCode::UNAUTHORIZED, "invalid_client"),
        (
            Some((&id, &secret)),
            vec![("grant_type", "password")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (Some((&id, &secret)), vec![], StatusCode::BAD_REQUEST, "invalid_request"),
        (
            Some((&id, &secret)),
            vec![("grant_type", "client_credentials"), ("scope", "admin")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            Some((&id, &secret)),
            vec![("grant_type", "refresh_token"), ("refresh_token", "nonsense")],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
    ];
    for (auth, params, status, error) in cases {
        let (s, v) = form(&app, "/oauth2/token", auth, &params).await;
        assert_eq!((s, v["error"].as_str()), (status, Some(error)), "{params:?}: {v}");
        assert!(v["error_description"].is_string());
    }
    // A JSON body is not a form.
    let (s, _, v) = app
        .call(Method::POST, "/oauth2/token", None, Some(json!({"grant_type": "client_credentials"})))
        .await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{v}");
}

async fn keys_rotate_on_schedule_and_stay_sealed_at_rest(app: TestApp) {
    let cfg = app.engine.policy().clone();
    let first = access_token(&app, json!({"subject": "kim", "audience": "api"})).await;
    let first_kid = segments(first["access_token"].as_str().unwrap()).0["kid"].as_str().unwrap().to_string();
    assert_eq!(app.engine.rotate_due_keys().await.unwrap(), 0, "nothing is due yet");
    app.clock.advance(cfg.key_rotation_interval);
    assert_eq!(app.engine.rotate_due_keys().await.unwrap(), 3, "every algorithm rotates");
    assert_eq!(app.engine.rotate_due_keys().await.unwrap(), 0, "once");
    // The successor is published first and signs only after the lead.
    let (_, _, jwks) = app.call(Method::GET, "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    let t = access_token(&app, json!({"subject": "kim", "audience": "api"})).await;
    assert_eq!(segments(t["access_token"].as_str().unwrap()).0["kid"], first_kid.as_str());
    app.clock.advance(cfg.key_publish_lead);
    let t = access_token(&app, json!({"subject": "kim", "audience": "api"})).await;
    assert_ne!(segments(t["access_token"].as_str().unwrap()).0["kid"], first_kid.as_str());

    // Private keys are stored sealed: no key's secret bytes appear in the store.

    let stored = app.store_bytes().await;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    for alg in [
        ward_signed::Algorithm::EdDSA,
        ward_signed::Algorithm::PasetoV4Public,
        ward_signed::Algorithm::PasetoV4Local,
    ] {
        let key = app.engine.signer(alg).unwrap();
        let secret = key.signing.to_secret_bytes();
        let raw = stored.windows(secret.len()).any(|w| w == secret.as_slice());
        let text = String::from_utf8_lossy(&stored).contains(&hex(&secret));
        assert!(!raw && !text, "{alg:?} private key found in the store");
    }
}

/// A refusal reads in the words of the token's format: a JWT is told about its signature and
/// its parts, a PASETO token about its version and footer, a Ward token about its secret
/// (issue 9).
async fn each_format_is_explained_in_its_own_words(app: TestApp) {
    let t = access_token(&app, json!({"subject": "ivy", "audience": "api"})).await;
    let at = t["access_token"].as_str().unwrap();
    let (header, payload) = segments(at);
    let sig = B64.decode(at.rsplit('.').next().unwrap()).unwrap();
    let mut richer = payload.clone();
    richer["scope"] = json!("admin");
    let mut jku = header.clone();
    jku["jku"] = json!("https://attacker.example/jwks.json");
    let opaque_words = |v: &Value| {
        let text = format!("{} {}", v["message"], v["hint"]);
        text.contains("ward_") || text.contains("secret") || text.contains("shape of a Ward token")
    };
    let jwts = [
        ("tampered", jwt(&header, &richer, &sig), "signature"),
        ("jku", jwt(&jku, &payload, &sig), "JWT"),
        ("jwe", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d".to_string(), "JWT"),
        ("padded", format!("{at}="), "JWT"),
        ("bearer", format!("Bearer {at}"), "JWT"),
    ];
    for (what, token, word) in jwts {
        let v = verify(&app, &token, None, &[]).await;
        assert_eq!(v["valid"], false, "{what}: {v}");
        assert!(!opaque_words(&v), "{what}: a JWT is not explained as a Ward key: {v}");
        assert!(v["message"].as_str().unwrap().contains(word), "{what}: {v}");
    }
    let v = verify(&app, &jwt(&header, &richer, &sig), None, &[]).await;
    assert_eq!(v["reason"], "tampered");
    assert!(v["hint"].as_str().unwrap().contains("signature"), "{v}");
    // Introspection explains in the same words.
    let form_body = serde_urlencoded::to_string([("token", jwt(&header, &richer, &sig))]).unwrap();
    let (_, _, i) = app
        .call_raw(
            Method::POST,
            "/oauth2/introspect",
            Some(app.admin_token()),
            Some("application/x-www-form-urlencoded"),
            form_body,
        )
        .await;
    assert!(i["ward_message"].as_str().unwrap().contains("signature"), "{i}");

    // PASETO.
    let p = access_token(&app, json!({"subject": "ivy", "audience": "api", "format": "paseto"})).await;
    let pt = p["access_token"].as_str().unwrap();
    let mut chars: Vec<char> = pt.chars().collect();
    let at_payload = "v4.public.".len() + 3;
    chars[at_payload] = if chars[at_payload] == 'A' { 'B' } else { 'A' };
    let damaged: String = chars.into_iter().collect();
    for token in [damaged.as_str(), "v2.public.eyJzdWIiOiJ4In0", "v4.public.!!"] {
        let v = verify(&app, token, None, &[]).await;
        assert_eq!(v["valid"], false, "{token}: {v}");
        assert!(!opaque_words(&v), "{token}: a PASETO token is not explained as a Ward key: {v}");
        assert!(v["message"].as_str().unwrap().contains("PASETO"), "{token}: {v}");
    }

    // A Ward key keeps the opaque words.
    let key = post(&app, "/v1/keys", json!({"subject": "u"})).await.1;
    let key = key["key"].as_str().unwrap();
    let mut hashed = key[..key.len() - ward_core::token::CHECKSUM_LEN].to_string();
    let last = hashed.pop().unwrap();
    hashed.push(if last == 'Q' { 'R' } else { 'Q' });
    let v = verify(&app, &ward_core::token::with_checksum(&hashed), None, &[]).await;
    assert_eq!(v["reason"], "tampered", "{v}");
    assert!(v["message"].as_str().unwrap().contains("secret"), "{v}");
    let v = verify(&app, "hello", None, &[]).await;
    assert!(v["hint"].as_str().unwrap().contains("ward_"), "{v}");

    // The reason table serves the words of every format.
    let (_, _, table) = app.call(Method::GET, "/v1/reasons", None, None).await;
    let tampered =
        table["reasons"].as_array().unwrap().iter().find(|r| r["code"] == "tampered").unwrap().clone();
    let formats: Vec<&str> =
        tampered["formats"].as_array().unwrap().iter().map(|f| f["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["jwt", "paseto"], "{tampered}");
    let jwt_words = &tampered["formats"][0];
    let at_words = verify(&app, &jwt(&header, &richer, &sig), None, &[]).await;
    assert_eq!((&jwt_words["message"], &jwt_words["hint"]), (&at_words["message"], &at_words["hint"]));
}
