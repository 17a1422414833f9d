//! Rotation and renewal keep their limits: revoking the successor ends the predecessor's grace or
//! overlap, a rotated key shares its usage budget, a disabled key rotates disabled, and a
//! rotation without an overlap gets the documented default.

use serde_json::json;
use ward_engine::DEFAULT_ROTATION_OVERLAP;
use ward_testkit::{store_tests, StatusCode, TestApp};

use crate::{key_of, post, reason, session};

async fn logging_out_a_renewed_session_ends_the_old_token_too(app: TestApp) {
    let old = session(&app, "ren").await;
    let (s, renewed) = post(&app, "/v1/sessions/renew", json!({ "token": old })).await;
    assert_eq!(s, StatusCode::CREATED, "{renewed}");
    let new = renewed["token"].as_str().unwrap().to_string();
    assert_eq!(reason(&app, &old).await, "valid", "inside the renewal grace");
    assert_eq!(post(&app, "/v1/sessions/revoke", json!({ "token": new })).await.0, StatusCode::OK);
    assert_eq!(reason(&app, &new).await, "revoked");
    assert_eq!(reason(&app, &old).await, "revoked", "the grace ended with the logout");

    // And logging out with the old token inside the grace ends the new one.
    let old = session(&app, "ren2").await;
    let (_, renewed) = post(&app, "/v1/sessions/renew", json!({ "token": old })).await;
    let new = renewed["token"].as_str().unwrap().to_string();
    assert_eq!(post(&app, "/v1/sessions/revoke", json!({ "token": old })).await.0, StatusCode::OK);
    assert_eq!(reason(&app, &new).await, "revoked");
}

async fn revoking_a_rotated_to_key_ends_the_old_keys_overlap(app: TestApp) {
    let created = app.create_key(json!({ "subject": "rot" })).await;
    let old = key_of(&created);
    let id = created["id"].as_str().unwrap();
    let (s, rotated) =
        post(&app, &format!("/v1/keys/{id}/rotate"), json!({ "overlap_seconds": 86400 })).await;
    assert_eq!(s, StatusCode::CREATED, "{rotated}");
    assert_eq!(reason(&app, &old).await, "valid", "inside the overlap");
    let new_id = rotated["id"].as_str().unwrap();
    let (s, v) = post(&app, &format!("/v1/keys/{new_id}/revoke"), json!({ "reason": "compromised" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = app.verify(&old, &[]).await;
    assert_eq!(v["reason"], "revoked", "{v}");
    assert!(v["detail"].as_str().unwrap().contains("compromised"), "{v}");
}

async fn a_rotated_key_and_its_successor_share_one_budget(app: TestApp) {
    let created = app.create_key(json!({ "subject": "budget", "uses": 3 })).await;
    let old = key_of(&created);
    let id = created["id"].as_str().unwrap();
    assert_eq!(reason(&app, &old).await, "valid");
    let (s, rotated) = post(&app, &format!("/v1/keys/{id}/rotate"), json!({ "overlap_seconds": 3600 })).await;
    assert_eq!(s, StatusCode::CREATED, "{rotated}");
    assert_eq!(rotated["remaining_uses"], 2, "{rotated}");
    let new = key_of(&rotated);
    let mut valid = 0;
    for token in [&old, &new, &old, &new, &old, &new] {
        if reason(&app, token).await == "valid" {
            valid += 1;
        }
    }
    assert_eq!(valid, 2, "three uses in all, one spent before the rotation");
    assert_eq!(reason(&app, &old).await, "usage_exceeded");
    assert_eq!(reason(&app, &new).await, "usage_exceeded");
}

async fn a_disabled_key_rotates_into_a_disabled_key(app: TestApp) {
    let created = app.create_key(json!({ "subject": "dis" })).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(post(&app, &format!("/v1/keys/{id}/disable"), json!({})).await.0, StatusCode::OK);
    let (s, rotated) = post(&app, &format!("/v1/keys/{id}/rotate"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{rotated}");
    assert_eq!(rotated["status"], "disabled", "{rotated}");
    assert_eq!(reason(&app, &key_of(&rotated)).await, "disabled");
}

async fn a_rotation_without_an_overlap_gets_the_default(app: TestApp) {
    let created = app.create_key(json!({ "subject": "def" })).await;
    let old = key_of(&created);
    let id = created["id"].as_str().unwrap();
    let (s, rotated) = post(&app, &format!("/v1/keys/{id}/rotate"), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{rotated}");
    assert_eq!(DEFAULT_ROTATION_OVERLAP, 3600, "the README documents an hour");
    app.clock.advance(DEFAULT_ROTATION_OVERLAP - 1);
    assert_eq!(reason(&app, &old).await, "valid", "one second before the default overlap ends");
    app.clock.advance(1);
    assert_eq!(reason(&app, &old).await, "superseded");
    assert_eq!(reason(&app, &key_of(&rotated)).await, "valid");
}

store_tests!(
    logging_out_a_renewed_session_ends_the_old_token_too,
    revoking_a_rotated_to_key_ends_the_old_keys_overlap,
    a_rotated_key_and_its_successor_share_one_budget,
    a_disabled_key_rotates_into_a_disabled_key,
    a_rotation_without_an_overlap_gets_the_default,
);
