//! Every event kind is produced by a real flow, and reaches a subscriber without a secret in it.

use serde_json::json;
use ward_engine::EventKind;
use ward_testkit::{store_tests, StatusCode, TestApp};

use crate::{access, key_of, post, session};

async fn every_event_kind_comes_from_a_real_flow(app: TestApp) {
    let mut sub = app.engine.subscribe();
    let key = app.create_key(json!({ "subject": "eve", "uses": 5 })).await;
    let id = key["id"].as_str().unwrap().to_string();
    let (s, v) = post(&app, &format!("/v1/keys/{id}/disable"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = post(&app, &format!("/v1/keys/{id}/enable"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, rotated) = post(&app, &format!("/v1/keys/{id}/rotate"), json!({ "overlap_seconds": 0 })).await;
    assert_eq!(s, StatusCode::CREATED, "{rotated}");
    let new_id = rotated["id"].as_str().unwrap().to_string();
    let (s, v) = post(&app, &format!("/v1/keys/{new_id}/revoke"), json!({ "reason": "compromised" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(app.verify(&key_of(&rotated), &[]).await["reason"], "revoked");

    let token = session(&app, "eve").await;
    let (s, v) = post(&app, "/v1/sessions/renew", json!({ "token": token })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    let (s, ot) = post(&app, "/v1/one-time", json!({ "subject": "eve", "purpose": "magic_link" })).await;
    assert_eq!(s, StatusCode::CREATED, "{ot}");
    let (s, v) =
        post(&app, "/v1/one-time/redeem", json!({ "token": ot["token"], "purpose": "magic_link" })).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::OK, Some("valid")), "{v}");

    let pair = access(&app, "eve", true).await;
    let rt = pair["refresh_token"].as_str().unwrap().to_string();
    let (s, v) = post(&app, "/v1/access-tokens/refresh", json!({ "refresh_token": rt })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    app.clock.advance(app.engine.policy().refresh_grace + 1);
    let (s, v) = post(&app, "/v1/access-tokens/refresh", json!({ "refresh_token": rt })).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("refresh_reuse")), "{v}");

    let (s, v) = post(&app, "/v1/keyring/rotate", json!({ "alg": "EdDSA" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = post(&app, "/v1/subjects/eve/revoke", json!({ "reason": "offboarded" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(app.verify("ward_live_ak_nonsense", &[]).await["valid"], false);

    // Replay defense and limits: a spent nonce presented again, a subject's limits set, and an
    // address locked out after too many guesses.
    let (s, n) = post(&app, "/v1/nonces", json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    for _ in 0..2 {
        post(&app, "/v1/nonces/consume", json!({ "nonce": n["nonce"] })).await;
    }
    let limits = json!({ "ratelimits": [{ "name": "api", "limit": 1, "period": 60 }] });
    let (s, _, v) = app
        .call(ward_testkit::Method::PUT, "/v1/subjects/eve/ratelimits", Some(app.admin_token()), Some(limits))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for _ in 0..app.engine.policy().guard.throttle.max_failures {
        let body = json!({ "token": "ward_live_ak_nonsense", "context": { "client_ip": "203.0.113.1" } });
        post(&app, "/v1/verify", body).await;
    }
    let (s, v) = post(&app, "/v1/lockouts/unlock", json!({ "address": "203.0.113.1" })).await;
    assert_eq!((s, &v["was_locked"]), (StatusCode::OK, &json!(true)), "{v}");

    let mut events = Vec::new();
    while let Some(e) = sub.try_recv() {
        events.push(e);
    }
    for kind in EventKind::ALL {
        assert!(events.iter().any(|e| e.kind == kind), "no `{}` event in {events:#?}", kind.as_str());
    }
    assert_eq!(sub.dropped(), 0);
    // Named by id, prefix, subject and actor; never by secret.
    let revoked =
        events.iter().find(|e| e.kind == EventKind::Revoked && e.token_id.as_deref() == Some(&new_id));
    let revoked = revoked.expect("the key's revocation");
    assert_eq!(revoked.subject.as_deref(), Some("eve"));
    assert_eq!(revoked.prefix.as_deref(), Some("ward_live_ak"));
    assert_eq!(revoked.actor.as_deref(), Some(format!("key:{}", app.admin_id()).as_str()));
    let failed =
        events.iter().find(|e| e.kind == EventKind::VerifyFailed && e.token_id.as_deref() == Some(&new_id));
    assert_eq!(failed.and_then(|e| e.reason).map(|r| r.as_str()), Some("revoked"));
    let reuse = events.iter().find(|e| e.kind == EventKind::RefreshReuse).unwrap();
    assert_eq!(reuse.subject.as_deref(), Some("eve"));
    let all = format!("{events:?}");
    let leaks = app.leaks_in(all.as_bytes());
    assert!(leaks.is_empty(), "secrets in events: {leaks:?}");
}

async fn a_slow_subscriber_loses_events_counted_and_never_slows_a_verify(app: TestApp) {
    let _slow = app.engine.subscribe_with(1);
    for _ in 0..5 {
        assert_eq!(app.verify("ward_live_ak_nonsense", &[]).await["valid"], false);
    }
    assert_eq!(app.engine.events_dropped(), 4, "one queued, four dropped and counted");
}

store_tests!(
    every_event_kind_comes_from_a_real_flow,
    a_slow_subscriber_loses_events_counted_and_never_slows_a_verify
);
