//! The change feed: which writes record a change, predecessor revocation, paging and pruning.

use ward_core::deny::DenyKind;
use ward_store::{ChangeKind, Retire, StoreError, SweepPolicy, SweepStats};

use crate::{changed, client, deny, key, rev, session, signing_key, TestStore, T};

use ChangeKind::{ApiKey, Client, Deny, KeyRing, Session, Subject};

pub async fn each_write_records_its_change(s: TestStore) {
    let st = &s.store;
    let mut at = 0;
    assert_eq!(st.latest_change().await.unwrap(), 0, "an empty feed");

    st.insert_api_key(&key("ak_1", "alice")).await.unwrap();
    st.set_api_key_disabled("ak_1", Some(T + 1), T + 1).await.unwrap().unwrap();
    st.set_api_key_disabled("ak_1", None, T + 2).await.unwrap().unwrap();
    assert!(st.rotate_api_key("ak_1", &key("ak_2", "alice"), T + 100).await.unwrap());
    assert_eq!(
        s.new_changes(&mut at).await,
        changed(&[(ApiKey, "ak_1"), (ApiKey, "ak_1"), (ApiKey, "ak_1")]),
        "disable, enable, rotate (the old key); inserting records nothing"
    );

    st.insert_api_key(&key("ak_3", "alice")).await.unwrap();
    st.revoke_api_key("ak_3", &rev(T + 10)).await.unwrap().unwrap();
    assert_eq!(s.new_changes(&mut at).await, changed(&[(ApiKey, "ak_3")]));

    st.insert_session(&session("ss_1", "alice")).await.unwrap();
    assert!(st.renew_session("ss_1", &session("ss_2", "alice"), T + 30).await.unwrap());
    st.insert_session(&session("ss_3", "alice")).await.unwrap();
    st.revoke_session("ss_3", &rev(T + 10)).await.unwrap().unwrap();
    assert_eq!(s.new_changes(&mut at).await, changed(&[(Session, "ss_1"), (Session, "ss_3")]));

    st.insert_client(&client("cl_1")).await.unwrap();
    st.revoke_client("cl_1", &rev(T + 10)).await.unwrap().unwrap();
    assert_eq!(s.new_changes(&mut at).await, changed(&[(Client, "cl_1")]));

    // Subject, family and signed revocations record a change every time, even a repeat.
    for _ in 0..2 {
        st.revoke_subject("Ada Lovelace", &rev(T + 20), T + 3_600).await.unwrap();
        st.revoke_refresh_family(&deny(DenyKind::Family, "fam_1", T + 20)).await.unwrap();
        st.add_signed_revocation(&deny(DenyKind::Jti, "jti 1", T + 20)).await.unwrap();
        assert_eq!(
            s.new_changes(&mut at).await,
            changed(&[(Subject, "Ada Lovelace"), (Deny, "family:fam_1"), (Deny, "jti:jti 1")])
        );
    }

    assert!(st.add_signing_key(&signing_key("k1", T), None).await.unwrap());
    assert!(st.add_signing_key(&signing_key("k2", T + 1), Some(retire_k1())).await.unwrap());
    assert_eq!(s.new_changes(&mut at).await, changed(&[(KeyRing, "k1"), (KeyRing, "k2")]));

    assert_eq!(st.latest_change().await.unwrap(), at, "the latest seq is the last one read");
}

pub async fn writes_that_change_nothing_record_nothing(s: TestStore) {
    let st = &s.store;
    st.insert_api_key(&key("ak_1", "alice")).await.unwrap();
    st.insert_session(&session("ss_1", "alice")).await.unwrap();
    st.insert_client(&client("cl_1")).await.unwrap();
    st.revoke_api_key("ak_1", &rev(T + 1)).await.unwrap().unwrap();
    st.revoke_session("ss_1", &rev(T + 1)).await.unwrap().unwrap();
    st.revoke_client("cl_1", &rev(T + 1)).await.unwrap().unwrap();
    assert!(st.add_signing_key(&signing_key("k1", T), None).await.unwrap());
    assert!(st.add_signing_key(&signing_key("k2", T), Some(retire_k1())).await.unwrap());
    let mut at = 0;
    assert_eq!(s.new_changes(&mut at).await.len(), 5);

    // Repeats: the first revocation stands, the rotation is refused, the retirement was made.
    let later = rev(T + 2);
    assert_eq!(st.revoke_api_key("ak_1", &later).await.unwrap().unwrap().revoked.unwrap().at, T + 1);
    assert_eq!(st.revoke_session("ss_1", &later).await.unwrap().unwrap().revoked.unwrap().at, T + 1);
    assert_eq!(st.revoke_client("cl_1", &later).await.unwrap().unwrap().revoked.unwrap().at, T + 1);
    assert!(!st.rotate_api_key("ak_1", &key("ak_2", "alice"), T + 100).await.unwrap());
    assert!(!st.renew_session("ss_1", &session("ss_2", "alice"), T + 100).await.unwrap());
    assert!(!st.add_signing_key(&signing_key("k3", T), Some(retire_k1())).await.unwrap());
    // Records that do not exist.
    assert!(st.revoke_api_key("ak_none", &later).await.unwrap().is_none());
    assert!(st.revoke_session("ss_none", &later).await.unwrap().is_none());
    assert!(st.revoke_client("cl_none", &later).await.unwrap().is_none());
    assert!(st.set_api_key_disabled("ak_none", Some(T), T).await.unwrap().is_none());
    // Writes the feed does not cover.
    st.touch_api_keys(&[("ak_1".into(), T + 5)]).await.unwrap();
    st.touch_sessions(&[("ss_1".into(), T + 5)]).await.unwrap();
    assert_eq!(s.new_changes(&mut at).await, vec![], "nothing changed, so nothing is recorded");
}

fn retire_k1() -> Retire<'static> {
    Retire { kid: "k1", retiring_at: T + 60, retired_at: T + 120 }
}

pub async fn revoking_a_successor_ends_its_predecessors_grace(s: TestStore) {
    let st = &s.store;
    // Two rotations inside one overlap: both predecessors still work until T + 100.
    st.insert_api_key(&key("ak_1", "alice")).await.unwrap();
    assert!(st.rotate_api_key("ak_1", &key("ak_2", "alice"), T + 100).await.unwrap());
    assert!(st.rotate_api_key("ak_2", &key("ak_3", "alice"), T + 100).await.unwrap());
    st.insert_session(&session("ss_1", "alice")).await.unwrap();
    assert!(st.renew_session("ss_1", &session("ss_2", "alice"), T + 30).await.unwrap());
    let mut at = s.store.latest_change().await.unwrap();

    let r = rev(T + 10);
    let k3 = st.revoke_api_key("ak_3", &r).await.unwrap().unwrap();
    assert_eq!(k3.revoked.as_ref(), Some(&r));
    for id in ["ak_1", "ak_2"] {
        let k = st.get_api_key(id).await.unwrap().unwrap();
        assert_eq!(k.revoked.as_ref(), Some(&r), "{id} is revoked with its successor's revocation");
        assert!(k.superseded.is_some(), "{id} stays superseded too");
    }
    st.revoke_session("ss_2", &r).await.unwrap().unwrap();
    assert_eq!(st.get_session("ss_1").await.unwrap().unwrap().revoked, Some(r.clone()));
    assert_eq!(
        s.new_changes(&mut at).await,
        changed(&[
            (ApiKey, "ak_3"),
            (ApiKey, "ak_2"),
            (ApiKey, "ak_1"),
            (Session, "ss_2"),
            (Session, "ss_1")
        ])
    );

    // Revoked keys are not revoked again, predecessors included.
    st.revoke_api_key("ak_3", &rev(T + 11)).await.unwrap().unwrap();
    assert_eq!(s.new_changes(&mut at).await, vec![]);
}

pub async fn a_predecessor_past_its_overlap_is_left_alone(s: TestStore) {
    let st = &s.store;
    st.insert_api_key(&key("ak_1", "alice")).await.unwrap();
    assert!(st.rotate_api_key("ak_1", &key("ak_2", "alice"), T + 5).await.unwrap());
    st.insert_session(&session("ss_1", "alice")).await.unwrap();
    assert!(st.renew_session("ss_1", &session("ss_2", "alice"), T + 10).await.unwrap());
    let mut at = s.store.latest_change().await.unwrap();

    // The overlap ended at T + 5 (and T + 10, exactly at the revocation): nothing to end.
    st.revoke_api_key("ak_2", &rev(T + 10)).await.unwrap().unwrap();
    st.revoke_session("ss_2", &rev(T + 10)).await.unwrap().unwrap();
    assert_eq!(st.get_api_key("ak_1").await.unwrap().unwrap().revoked, None);
    assert_eq!(st.get_session("ss_1").await.unwrap().unwrap().revoked, None);
    assert_eq!(s.new_changes(&mut at).await, changed(&[(ApiKey, "ak_2"), (Session, "ss_2")]));
}

pub async fn the_feed_pages_in_order(s: TestStore) {
    let st = &s.store;
    for i in 0..5 {
        st.add_signed_revocation(&deny(DenyKind::Jti, &format!("j{i}"), T)).await.unwrap();
    }
    let first = st.changes_after(0, 2).await.unwrap();
    let targets = |cs: &[ward_store::Change]| cs.iter().map(|c| c.target.clone()).collect::<Vec<_>>();
    assert_eq!(targets(&first), ["jti:j0", "jti:j1"]);
    let rest = st.changes_after(first[1].seq, 10).await.unwrap();
    assert_eq!(targets(&rest), ["jti:j2", "jti:j3", "jti:j4"]);
    assert!(rest.iter().all(|c| c.kind == Deny));
    assert_eq!(st.latest_change().await.unwrap(), rest[2].seq);
    assert_eq!(st.changes_after(rest[2].seq, 10).await.unwrap(), vec![]);
}

pub async fn sweep_prunes_day_old_changes(s: TestStore) {
    let st = &s.store;
    st.add_signed_revocation(&deny(DenyKind::Jti, "old", T)).await.unwrap();
    st.add_signed_revocation(&deny(DenyKind::Jti, "new", T + 1)).await.unwrap();
    let policy = SweepPolicy { now: T + 86_401, dead_after: 1_000_000, tombstone_retention: 0, batch: 100 };
    assert_eq!(st.sweep(&policy).await.unwrap(), SweepStats::default(), "pruned changes are not counted");
    let left = st.changes_after(0, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].target, "jti:new", "kept for a day after its write");
    assert_eq!(st.latest_change().await.unwrap(), left[0].seq);

    // A seq is never handed out again, even once its row is gone.
    st.sweep(&SweepPolicy { now: T + 86_402, ..policy }).await.unwrap();
    assert_eq!(st.latest_change().await.unwrap(), 0);
    st.add_signed_revocation(&deny(DenyKind::Jti, "newer", T + 2)).await.unwrap();
    assert!(st.latest_change().await.unwrap() > left[0].seq);
}

pub async fn an_unknown_change_kind_is_corrupt(s: TestStore) {
    s.raw("INSERT INTO changes (kind, target, at) VALUES ('bogus', 'x', 0)").await;
    match s.store.changes_after(0, 10).await {
        Err(StoreError::Corrupt(_)) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
