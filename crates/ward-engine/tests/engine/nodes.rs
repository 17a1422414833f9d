//! Many nodes, one deployment: engines on one store see each other's revocations through the
//! change feed (PostgreSQL `NOTIFY` plus catch-up reads; SQLite by reading the feed), miss nothing
//! when a notification is lost, a row commits late or a clock disagrees, share one issuer, and
//! refuse another deployment's master key.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use ward_core::{ManualClock, MasterKey};
use ward_engine::{Call, EngineError, Policy, SignedTarget};
use ward_testkit::{store_tests, Backend, StatusCode, TestApp};

use crate::{access, key_of, post, reason, session, until_reason};

/// A follower whose cache could never explain a change: only the feed can. On PostgreSQL it
/// reads the feed only after reconnects (so what it learns, it heard); on SQLite it reads it
/// every 20 ms.
fn follower_policy(app: &TestApp) -> Policy {
    let sync_interval = match app.backend() {
        Backend::Postgres => Duration::from_secs(3600),
        Backend::Sqlite => Duration::from_millis(20),
    };
    Policy { cache_ttl: Duration::from_secs(3600), sync_interval, ..Policy::default() }
}

async fn revocations_of_every_kind_reach_the_other_nodes(app: TestApp) {
    let b = app.another_node(follower_policy(&app), true).await;
    let c = app.another_node(follower_policy(&app), true).await;
    let revoked = key_of(&app.create_key(json!({ "subject": "k1" })).await);
    let disabled = app.create_key(json!({ "subject": "k2" })).await;
    let rotated = app.create_key(json!({ "subject": "k3" })).await;
    let logout = session(&app, "s1").await;
    let by_id = session(&app, "s2").await;
    let (leaver_key, leaver_jwt) =
        (key_of(&app.create_key(json!({ "subject": "leaver" })).await), access(&app, "leaver", false).await);
    let jti = access(&app, "j", false).await;
    let family = access(&app, "f", true).await;
    let tokens = [
        revoked.clone(),
        key_of(&disabled),
        key_of(&rotated),
        logout.clone(),
        by_id.clone(),
        leaver_key.clone(),
        leaver_jwt["access_token"].as_str().unwrap().to_string(),
        jti["access_token"].as_str().unwrap().to_string(),
        family["access_token"].as_str().unwrap().to_string(),
    ];
    for node in [&b, &c] {
        for t in &tokens {
            assert_eq!(reason(node, t).await, "valid", "{t} before anything was revoked");
        }
    }

    let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_string();
    let revoked_id = ward_core::ParsedToken::parse(&revoked).unwrap().id.to_string();
    assert_eq!(post(&app, &format!("/v1/keys/{revoked_id}/revoke"), json!({})).await.0, StatusCode::OK);
    assert_eq!(post(&app, &format!("/v1/keys/{}/disable", id(&disabled)), json!({})).await.0, StatusCode::OK);
    let (s, v) =
        post(&app, &format!("/v1/keys/{}/rotate", id(&rotated)), json!({ "overlap_seconds": 0 })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(post(&app, "/v1/sessions/revoke", json!({ "token": logout })).await.0, StatusCode::OK);
    let by_id_id = ward_core::ParsedToken::parse(&by_id).unwrap().id.to_string();
    assert_eq!(post(&app, &format!("/v1/sessions/{by_id_id}/revoke"), json!({})).await.0, StatusCode::OK);
    assert_eq!(
        post(&app, "/v1/subjects/leaver/revoke", json!({ "reason": "offboarded" })).await.0,
        StatusCode::OK
    );
    let (s, v) = post(&app, "/v1/access-tokens/revoke", json!({ "token": jti["access_token"] })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = post(&app, "/v1/access-tokens/revoke", json!({ "token": family["refresh_token"] })).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let expected = [
        "revoked",
        "disabled",
        "superseded",
        "revoked",
        "revoked",
        "revoked",
        "revoked",
        "revoked",
        "revoked",
    ];
    for node in [&b, &c] {
        for (t, want) in tokens.iter().zip(expected) {
            until_reason(node, t, want).await;
        }
    }
    b.engine.shutdown().await;
    c.engine.shutdown().await;
}

async fn a_client_revoked_on_one_node_is_refused_by_the_others(app: TestApp) {
    let b = app.another_node(follower_policy(&app), true).await;
    let (s, client) = post(&app, "/v1/clients", json!({ "name": "c", "audiences": ["api"] })).await;
    assert_eq!(s, StatusCode::CREATED, "{client}");
    let (cid, secret) = (client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap());
    let ctx = ward_engine::Context::default();
    assert!(b.engine.authenticate_client(cid, secret, &ctx).await.is_ok(), "cached on b");
    assert_eq!(post(&app, &format!("/v1/clients/{cid}/revoke"), json!({})).await.0, StatusCode::OK);
    let start = std::time::Instant::now();
    while b.engine.authenticate_client(cid, secret, &ctx).await.is_ok() {
        assert!(start.elapsed() < Duration::from_secs(5), "b still accepts the revoked client");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    b.engine.shutdown().await;
}

async fn a_notification_lost_while_disconnected_is_caught_up(app: TestApp) {
    let b = app.another_node(follower_policy(&app), true).await;
    let created = app.create_key(json!({ "subject": "offline" })).await;
    let key = key_of(&created);
    assert_eq!(reason(&b, &key).await, "valid");
    // b's connection is down: what is announced now, it never hears.
    b.engine.set_feed_paused(true).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(post(&app, &format!("/v1/keys/{id}/revoke"), json!({})).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(reason(&b, &key).await, "valid", "b missed the notification (its cache holds for an hour)");
    // Reconnected, it reads what it missed.
    b.engine.set_feed_paused(false).await;
    assert_eq!(reason(&b, &key).await, "revoked");

    if app.backend() == Backend::Postgres {
        // A real disconnect: PostgreSQL drops b's listening connection.
        let other = key_of(&app.create_key(json!({ "subject": "offline2" })).await);
        assert_eq!(reason(&b, &other).await, "valid");
        let killed = ward_testkit::postgres::terminate_listeners(app.store_url()).await;
        assert!(killed >= 1, "b listens");
        let other_id = ward_core::ParsedToken::parse(&other).unwrap().id.to_string();
        assert_eq!(post(&app, &format!("/v1/keys/{other_id}/revoke"), json!({})).await.0, StatusCode::OK);
        until_reason(&b, &other, "revoked").await;
    }
    b.engine.shutdown().await;
}

async fn a_revocation_written_by_a_node_whose_clock_is_behind_is_not_missed(app: TestApp) {
    let b = app.another_node(follower_policy(&app), false).await;
    let skewed = app.another_node(Policy::default(), false).await;
    skewed.clock.set(ward_core::Clock::now(&*app.clock) - 600);
    let jwt = access(&app, "skew", false).await["access_token"].as_str().unwrap().to_string();
    assert_eq!(reason(&b, &jwt).await, "valid");
    let jti = jti_of(&jwt);
    skewed
        .engine
        .revoke_signed(
            SignedTarget::Jti(jti),
            ward_core::RevokeReason::Compromised,
            None,
            &Call::by("skewed"),
        )
        .await
        .unwrap();
    // Recorded ten minutes "ago": a time-based catch-up would skip it; the feed's position does not.
    b.engine.sync().await.unwrap();
    assert_eq!(reason(&b, &jwt).await, "revoked");
}

/// The `jti` of a JWT, read without verifying it.
fn jti_of(jwt: &str) -> String {
    use base64::Engine as _;
    let payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap();
    serde_json::from_slice::<serde_json::Value>(&payload).unwrap()["jti"].as_str().unwrap().to_string()
}

async fn a_row_committed_late_is_not_missed(app: TestApp) {
    if app.backend() != Backend::Postgres {
        // SQLite commits one writer at a time, in order: no row can commit behind a later one.
        return;
    }
    let b = app.another_node(follower_policy(&app), false).await;
    let late = access(&app, "late", false).await["access_token"].as_str().unwrap().to_string();
    let late_jti = jti_of(&late);
    assert_eq!(reason(&b, &late).await, "valid");
    // A transaction takes its place in the feed, then is slow to commit...
    let pool = sqlx::PgPool::connect(app.store_url()).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let now = ward_core::Clock::now(&*app.clock);
    sqlx::query(
        "INSERT INTO signed_revocations (kind, value, revoked_at, until_at, reason, note, actor) \
         VALUES ('jti', $1, $2, $3, 'compromised', NULL, 'slow-node')",
    )
    .bind(&late_jti)
    .bind(now - 30)
    .bind(now + 3600)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("INSERT INTO changes (kind, target, at) VALUES ('deny', $1, $2)")
        .bind(format!("jti:{late_jti}"))
        .bind(now - 30)
        .execute(&mut *tx)
        .await
        .unwrap();
    // ...while a later change commits and is applied.
    let quick = app.create_key(json!({ "subject": "quick" })).await;
    let quick_key = key_of(&quick);
    assert_eq!(reason(&b, &quick_key).await, "valid");
    assert_eq!(
        post(&app, &format!("/v1/keys/{}/revoke", quick["id"].as_str().unwrap()), json!({})).await.0,
        StatusCode::OK
    );
    b.engine.sync().await.unwrap();
    assert_eq!(reason(&b, &quick_key).await, "revoked");
    assert_eq!(reason(&b, &late).await, "valid", "not committed yet");
    tx.commit().await.unwrap();
    b.engine.sync().await.unwrap();
    assert_eq!(reason(&b, &late).await, "revoked", "the gap was read again");
}

async fn a_subject_revocation_holds_through_the_leeway_across_a_restart(app: TestApp) {
    let policy = Policy { access_token_max_ttl: 20, access_token_ttl: 20, leeway: 60, ..Policy::default() };
    let app = TestApp::with_config(app.backend(), policy.clone(), ward_server::HttpConfig::default())
        .await
        .unwrap();
    let jwt = access(&app, "sam", false).await["access_token"].as_str().unwrap().to_string();
    let (s, v) = post(&app, "/v1/subjects/sam/revoke", json!({ "reason": "offboarded" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A restart: a fresh engine loads the deny set from the store.
    let restarted = app.another_node(policy, false).await;
    restarted.clock.advance(20 + 30);
    let v = restarted.verify(&jwt, &[]).await;
    assert_eq!(v["reason"], "revoked", "expired 30 s ago, inside the 60 s leeway, and revoked: {v}");
    restarted.clock.advance(31);
    assert_eq!(reason(&restarted, &jwt).await, "expired", "past the leeway it is simply expired");
}

async fn the_wrong_master_key_is_refused_and_nothing_is_written(app: TestApp) {
    let store = app.engine.store();
    let before = (
        store.deployment().await.unwrap(),
        store.latest_change().await.unwrap(),
        store.list_signing_keys().await.unwrap().len(),
        store.count_api_keys().await.unwrap(),
    );
    let stranger = MasterKey::generate(&mut rand::rngs::OsRng);
    let clock = Arc::new(ManualClock::new(ward_core::Clock::now(&*app.clock)));
    let refused = TestApp::engine_on(app.store_url(), &stranger, clock, Policy::default(), true).await;
    match refused {
        Err(EngineError::Deployment(m)) => assert!(m.contains("master key"), "{m}"),
        other => panic!("a stranger's master key started an engine: {other:?}"),
    }
    let after = (
        store.deployment().await.unwrap(),
        store.latest_change().await.unwrap(),
        store.list_signing_keys().await.unwrap().len(),
        store.count_api_keys().await.unwrap(),
    );
    assert_eq!(before, after, "nothing was written");
}

async fn a_jwt_minted_on_one_node_verifies_on_another_with_default_settings(app: TestApp) {
    let b = app.another_node(Policy::default(), false).await;
    assert_eq!(app.engine.issuer(), b.engine.issuer(), "one issuer for the deployment");
    for format in ["jwt", "paseto", "paseto-local"] {
        let (s, t) =
            post(&app, "/v1/access-tokens", json!({ "subject": "x", "audience": "api", "format": format }))
                .await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        assert_eq!(reason(&b, t["access_token"].as_str().unwrap()).await, "valid", "{format}");
    }
    // A key rotated on b is found by a's single reload.
    let (s, v) = post(&b, "/v1/keyring/rotate", json!({ "alg": "EdDSA", "immediate": true })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let from_b = access(&b, "y", false).await;
    assert_eq!(reason(&app, from_b["access_token"].as_str().unwrap()).await, "valid");
}

async fn an_unknown_kid_reloads_the_ring_once_for_many_requests(app: TestApp) {
    let stranger =
        ward_signed::SigningKey::generate(ward_signed::Algorithm::EdDSA, &mut rand::rngs::OsRng).unwrap();
    let now = ward_core::Clock::now(&*app.clock);
    let claims = ward_signed::AccessClaims {
        iss: app.engine.issuer().to_string(),
        sub: "x".into(),
        aud: vec!["api".into()],
        exp: now + 60,
        iat: now,
        jti: "j".into(),
        ..ward_signed::AccessClaims::default()
    };
    let forged = ward_signed::sign_jwt(&stranger, "at+jwt", &claims).unwrap();
    let before = app.engine.keyring_reloads();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let engine = app.engine.clone();
        let forged = forged.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .verify(&forged, &ward_engine::VerifyOptions::default(), &ward_engine::Context::default())
                .await
        }));
    }
    for t in tasks {
        match t.await.unwrap() {
            ward_engine::Checked::Invalid(v) => assert_eq!(v.reason.as_str(), "unknown_key"),
            ward_engine::Checked::Valid(_) => panic!("a stranger's token verified"),
        }
    }
    assert_eq!(app.engine.keyring_reloads() - before, 1, "one reload served all 32");
}

store_tests!(
    revocations_of_every_kind_reach_the_other_nodes,
    a_client_revoked_on_one_node_is_refused_by_the_others,
    a_notification_lost_while_disconnected_is_caught_up,
    a_revocation_written_by_a_node_whose_clock_is_behind_is_not_missed,
    a_row_committed_late_is_not_missed,
    a_subject_revocation_holds_through_the_leeway_across_a_restart,
    the_wrong_master_key_is_refused_and_nothing_is_written,
    a_jwt_minted_on_one_node_verifies_on_another_with_default_settings,
    an_unknown_kid_reloads_the_ring_once_for_many_requests,
);
