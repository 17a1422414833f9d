//! The one presented-secret check every opaque kind goes through: parse (done by the caller, once),
//! look up, compare keyed hashes in constant time, and — when the id names no live record — the
//! same hashing work plus the tombstone's story, so an unknown id is not cheaper to ask about.

use ward_core::client::Client;
use ward_core::refresh::RefreshToken;
use ward_core::{ApiKey, OneTimeToken, ParsedToken, Reason, SecretHash, Session, TokenKind, Verdict};

use crate::error::unavailable;
use crate::Engine;

/// A stored record that a presented secret unlocks.
pub(crate) trait Secured {
    fn id(&self) -> &str;
    fn secret_hash(&self) -> &SecretHash;
}

macro_rules! secured {
    ($($t:ty),+) => {$(
        impl Secured for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn secret_hash(&self) -> &SecretHash {
                &self.secret_hash
            }
        }
    )+};
}
secured!(ApiKey, Session, OneTimeToken, RefreshToken, Client);

impl<T: Secured> Secured for std::sync::Arc<T> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn secret_hash(&self) -> &SecretHash {
        (**self).secret_hash()
    }
}

impl<T: Secured, M> Secured for (T, M) {
    fn id(&self) -> &str {
        self.0.id()
    }
    fn secret_hash(&self) -> &SecretHash {
        self.0.secret_hash()
    }
}

/// A hash no secret has: what an unknown id is compared against, so it costs a known id's work.
const NO_SECRET: SecretHash = SecretHash([0u8; 32]);

impl Engine {
    /// Checks `parsed` against the record the store (or cache) gave for its id.
    pub(crate) async fn unlock<T: Secured>(
        &self,
        parsed: &ParsedToken<'_>,
        found: Result<Option<T>, Verdict>,
    ) -> Result<T, Verdict> {
        match found? {
            Some(record) => {
                if self.0.hasher.matches(parsed.hashed_part, record.secret_hash()) {
                    Ok(record)
                } else {
                    Err(tampered(parsed.kind, record.id()))
                }
            }
            None => {
                // Same work as a wrong secret, so timing does not tell ids apart.
                let _ = self.0.hasher.matches(parsed.hashed_part, &NO_SECRET);
                Err(self.gone(parsed).await)
            }
        }
    }

    /// The verdict for an id with no live record: its tombstone's story, or `unknown`.
    ///
    /// The answer is remembered for the cache TTL, so asking again about an unknown id costs a
    /// cache lookup and the hash, as asking again about a known id with a wrong secret does.
    pub(crate) async fn gone(&self, parsed: &ParsedToken<'_>) -> Verdict {
        let cache = &self.0.cache;
        if let Some(v) = cache.gone_verdict(parsed.kind, parsed.id) {
            return v;
        }
        let (epoch, fetched) = (cache.epoch(), std::time::Instant::now());
        let verdict = match self.0.store.get_tombstone(parsed.id).await {
            Ok(Some(t)) if t.kind == parsed.kind => t.verdict(self.now()),
            Ok(_) => Verdict::with(
                Reason::Unknown,
                format!("no {} with id `{}` exists", parsed.kind.noun(), parsed.id),
            ),
            Err(e) => return unavailable(e),
        };
        cache.remember_gone(parsed.kind, parsed.id, &verdict, epoch, fetched);
        verdict
    }

    /// Parses an opaque token of one of `kinds` for this deployment.
    pub(crate) fn parse_opaque<'t>(
        &self,
        token: &'t str,
        kinds: &[TokenKind],
    ) -> Result<ParsedToken<'t>, Verdict> {
        let parsed = ParsedToken::parse(token)?;
        parsed.expect(&self.0.policy.env, kinds)?;
        Ok(parsed)
    }
}

/// The verdict for a right id with a wrong secret.
pub(crate) fn tampered(kind: TokenKind, id: &str) -> Verdict {
    Verdict::with(
        Reason::Tampered,
        format!("{} `{id}` exists but the secret presented with it is wrong", kind.noun()),
    )
}
