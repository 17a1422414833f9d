//! Notifications of changes as they commit: PostgreSQL `LISTEN`; SQLite has none.

use std::time::Duration;

use ward_core::deny::DenyKind;
use ward_store::{Change, ChangeKind, ChangeListener, StoreError};

use crate::{deny, rev, Backend, TestStore, T};

/// Long enough for a notification on a loaded machine; a test only waits this long when failing.
const WAIT: Duration = Duration::from_secs(10);

async fn next(l: &mut Box<dyn ChangeListener>) -> Result<Option<Change>, StoreError> {
    tokio::time::timeout(WAIT, l.next()).await.expect("a notification in time")
}

/// The listener, or `None` on SQLite (after checking that it has none).
async fn listener(s: &TestStore) -> Option<Box<dyn ChangeListener>> {
    let l = s.store.listen().await.unwrap();
    assert_eq!(l.is_some(), s.backend == Backend::Postgres, "only PostgreSQL notifies");
    l
}

pub async fn a_listener_hears_changes_committed_elsewhere(s: TestStore) {
    let Some(mut l) = listener(&s).await else { return };
    let other = s.another_node().await;

    other.revoke_subject("Ada  Lovelace ", &rev(T), T + 60).await.unwrap();
    let change = next(&mut l).await.unwrap().unwrap();
    assert_eq!((change.kind, change.target.as_str()), (ChangeKind::Subject, "Ada  Lovelace "));
    assert_eq!(change.seq, s.store.latest_change().await.unwrap());

    // A rotation that is refused rolls back and tells no one; the next one is heard.
    assert!(!other.add_signing_key(&crate::signing_key("k2", T), Some(retire())).await.unwrap());
    other.add_signed_revocation(&deny(DenyKind::Jti, "j1", T)).await.unwrap();
    assert_eq!(next(&mut l).await.unwrap().unwrap().target, "jti:j1");

    // Too long for a notification payload: it carries the seq and the listener reads the rest.
    let long = "x".repeat(9_000);
    other.add_signed_revocation(&deny(DenyKind::Jti, &long, T)).await.unwrap();
    let change = next(&mut l).await.unwrap().unwrap();
    assert_eq!((change.kind, change.target), (ChangeKind::Deny, format!("jti:{long}")));
    other.close().await;
}

fn retire() -> ward_store::Retire<'static> {
    ward_store::Retire { kid: "k1", retiring_at: T, retired_at: T }
}

pub async fn a_listener_reports_a_lost_connection(s: TestStore) {
    let Some(mut l) = listener(&s).await else { return };
    s.raw(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await;
    // The loss shows as `Ok(None)`, perhaps after an error; either way the listener comes back.
    let mut answers = vec![];
    loop {
        let answer = next(&mut l).await;
        let lost = matches!(answer, Ok(None));
        assert!(matches!(answer, Ok(None) | Err(StoreError::Unavailable(_))), "{answer:?}");
        answers.push(answer);
        if lost {
            break;
        }
        assert!(answers.len() < 3, "the loss was reported: {answers:?}");
    }
    s.store.add_signed_revocation(&deny(DenyKind::Jti, "after", T)).await.unwrap();
    assert_eq!(next(&mut l).await.unwrap().unwrap().target, "jti:after", "listening again");
}

pub async fn closing_the_store_ends_a_waiting_listener(s: TestStore) {
    let Some(mut l) = listener(&s).await else { return };
    // Whether `next` is already waiting when the pool closes or starts after, it fails.
    let waiting = tokio::spawn(async move { l.next().await });
    tokio::time::timeout(WAIT, s.store.close()).await.expect("close does not wait for the listener");
    let answer = waiting.await.unwrap();
    assert!(matches!(answer, Err(StoreError::Unavailable(_))), "{answer:?}");
    assert!(matches!(s.store.listen().await, Err(StoreError::Unavailable(_))));
}
