//! Property tests: `peek` and `verify` never panic, whatever they are given, and a valid token
//! changed anywhere never verifies.

use proptest::prelude::*;
use ward_signed::{peek, sign_jwt, sign_paseto, verify, Algorithm};

use crate::{claims, expect, key, NOW};

fn keys() -> Vec<ward_signed::VerifyingKey> {
    crate::all_keys().iter().map(|k| k.verifying_key()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let _ = peek(&s);
        for k in keys() {
            let _ = verify(&s, &k, &expect(), NOW);
        }
    }

    #[test]
    fn near_tokens_never_panic(
        a in "[A-Za-z0-9_=+/-]{0,80}",
        b in "[A-Za-z0-9_=-]{0,200}",
        c in "[A-Za-z0-9_-]{0,120}",
        prefix in prop::sample::select(vec!["", "eyJ", "v4.public.", "v4.local.", "v2.public.", "ward_live_ak_"]),
    ) {
        for s in [format!("{prefix}{a}.{b}.{c}"), format!("{prefix}{a}.{b}"), format!("{prefix}{a}")] {
            let _ = peek(&s);
            for k in keys() {
                let _ = verify(&s, &k, &expect(), NOW);
            }
        }
    }

    #[test]
    fn headers_and_payloads_of_any_json_never_panic(header in "\\PC{0,60}", payload in "\\PC{0,120}") {
        let s = format!("{}.{}.{}", crate::b64(&header), crate::b64(&payload), crate::b64([0u8; 64]));
        let _ = peek(&s);
        for k in keys() {
            let _ = verify(&s, &k, &expect(), NOW);
        }
    }

    #[test]
    fn any_change_to_a_valid_token_is_refused(
        alg in prop::sample::select(vec![Algorithm::EdDSA, Algorithm::HS256, Algorithm::PasetoV4Public, Algorithm::PasetoV4Local]),
        at in any::<prop::sample::Index>(),
        with in "[A-Za-z0-9_.-]",
        how in 0..3u8,
    ) {
        let k = key(alg);
        let token = if alg.is_jwt() { sign_jwt(&k, "at+jwt", &claims()).unwrap() } else { sign_paseto(&k, &claims()).unwrap() };
        let i = at.index(token.len());
        let mut changed = token.clone();
        match how {
            0 => changed.replace_range(i..=i, &with),
            1 => changed.insert_str(i, &with),
            _ => changed.truncate(i),
        }
        prop_assume!(changed != token);
        prop_assert!(verify(&changed, &k.verifying_key(), &expect(), NOW).is_err(), "{changed}");
    }
}
