//! `ParsedToken::parse` on arbitrary text: it never panics, a token it accepts is exactly the one
//! its parts rebuild (prefix, id, checksum), and a refusal names a parsing reason and never
//! repeats the body of what it was given (the body holds the secret).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_core::token::{with_checksum, ParsedToken};
use ward_core::{Reason, TokenKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ParsedToken::parse(text) {
        Ok(p) => {
            assert_eq!(with_checksum(p.hashed_part), text, "the checksum covers exactly the hashed part");
            let prefix = format!("ward_{}_{}_", p.env, p.kind.code());
            assert!(p.hashed_part.starts_with(&prefix), "{text:?} parsed as {p:?}");
            assert_eq!(p.hashed_part.get(prefix.len()..prefix.len() + p.id.len()), Some(p.id));
            for kind in TokenKind::ALL {
                let _ = p.expect("live", &[*kind]);
            }
        }
        Err(v) => {
            assert!(
                matches!(
                    v.reason,
                    Reason::Missing | Reason::Malformed | Reason::ChecksumMismatch | Reason::WrongType
                ),
                "{text:?}: {v:?}"
            );
            // A secret is letters and digits; from an id's length (16) on, no run of the fixed
            // wording can match it by chance.
            let body = text.rsplit('_').next().unwrap_or_default();
            let secret_like = body.len() >= 16 && body.bytes().all(|b| b.is_ascii_alphanumeric());
            if let (true, Some(detail)) = (secret_like, v.detail) {
                assert!(!detail.contains(body), "{text:?}: the detail repeats the body");
            }
        }
    }
});
