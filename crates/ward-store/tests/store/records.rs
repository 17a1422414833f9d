//! Single records read back: the deployment, and one signed-token revocation.

use ward_core::deny::DenyKind;
use ward_store::Deployment;

use crate::{deny, rev, TestStore, T};

pub async fn a_deployment_is_created_once(s: TestStore) {
    let st = &s.store;
    assert_eq!(st.deployment().await.unwrap(), None);
    let first = Deployment {
        id: "dep_1".into(),
        issuer: "https://ward.example".into(),
        master_check: vec![0, 1, 2, 255],
        created_at: T,
    };
    assert!(st.create_deployment(&first).await.unwrap());
    let second = Deployment { id: "dep_2".into(), created_at: T + 1, ..first.clone() };
    assert!(!st.create_deployment(&second).await.unwrap(), "a second node does not overwrite it");
    assert_eq!(st.deployment().await.unwrap(), Some(first.clone()));
    assert_eq!(s.another_node().await.deployment().await.unwrap(), Some(first));
}

pub async fn signed_revocations_are_read_back(s: TestStore) {
    let st = &s.store;
    let jti = deny(DenyKind::Jti, "jti 1", T);
    st.add_signed_revocation(&jti).await.unwrap();
    assert_eq!(st.get_signed_revocation(DenyKind::Jti, "jti 1").await.unwrap(), Some(jti.clone()));
    assert_eq!(st.get_signed_revocation(DenyKind::Family, "jti 1").await.unwrap(), None, "by kind too");
    assert_eq!(st.get_signed_revocation(DenyKind::Jti, "jti 2").await.unwrap(), None);

    // The first revocation of a token stands.
    st.add_signed_revocation(&deny(DenyKind::Jti, "jti 1", T + 5)).await.unwrap();
    assert_eq!(st.get_signed_revocation(DenyKind::Jti, "jti 1").await.unwrap(), Some(jti));

    // A subject revocation is kept as the subject's entry.
    st.revoke_subject("alice", &rev(T + 7), T + 999).await.unwrap();
    let entry = st.get_signed_revocation(DenyKind::Subject, "alice").await.unwrap().unwrap();
    assert_eq!((entry.until, entry.revocation), (T + 999, rev(T + 7)));
}
