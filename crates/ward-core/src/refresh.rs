//! Refresh tokens: opaque, rotating, tracked as families. Presenting a rotated one after the grace
//! is a theft signal (`refresh_reuse`): the whole family is revoked.

use crate::clock::{human_span, rfc3339, UnixTime};
use crate::lifecycle::Revocation;
use crate::reason::{Reason, Verdict};
use crate::secret::SecretHash;

/// Everything Ward stores about one refresh token.
#[derive(Clone, Debug, PartialEq)]
pub struct RefreshToken {
    /// The id embedded in the token.
    pub id: String,
    /// The environment it was issued for.
    pub env: String,
    /// The family: the first token's id, shared by every rotation of it.
    pub family: String,
    /// Who it was issued for.
    pub subject: String,
    /// The OAuth client it was issued to, if any.
    pub client_id: Option<String>,
    /// Audiences of the access tokens it mints.
    pub audience: Vec<String>,
    /// Scopes of the access tokens it mints.
    pub scopes: Vec<String>,
    /// `jwt` or `paseto`: the format of the access tokens it mints.
    pub format: String,
    /// The keyed hash of the token.
    pub secret_hash: SecretHash,
    /// When it was issued.
    pub created_at: UnixTime,
    /// When it expires.
    pub expires_at: UnixTime,
    /// When it was exchanged for a new pair, and for which refresh token.
    pub rotated: Option<(UnixTime, String)>,
    /// Its revocation (or its family's), if revoked.
    pub revoked: Option<Revocation>,
    /// The RFC 7638 thumbprint of the DPoP key it is bound to (RFC 9449 §5): presenting it needs
    /// a proof from that key.
    pub jkt: Option<String>,
}

/// What presenting a refresh token means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshUse {
    /// Unused and live: rotate it.
    Rotate,
    /// Already rotated, but inside the grace: a genuine retry; answer with the same new pair.
    Retry {
        /// The refresh token it was rotated to.
        successor: String,
    },
}

impl RefreshToken {
    /// Judges a presented refresh token at `now` with the retry `grace` (seconds).
    pub fn check(&self, now: UnixTime, grace: i64) -> Result<RefreshUse, Verdict> {
        if let Some(rev) = &self.revoked {
            return Err(rev.verdict(now));
        }
        if let Some((at, successor)) = &self.rotated {
            if now < at.saturating_add(grace) {
                return Ok(RefreshUse::Retry { successor: successor.clone() });
            }
            return Err(Verdict::with(
                Reason::RefreshReuse,
                format!(
                    "this refresh token was already exchanged at {} ({} ago) for `{successor}`; presenting it \
                     again after the {grace}-second grace means it was copied, so its whole family `{}` has \
                     been revoked",
                    rfc3339(*at),
                    human_span(now - at),
                    self.family
                ),
            ));
        }
        if now >= self.expires_at {
            return Err(Verdict::with(
                Reason::Expired,
                format!(
                    "expired at {} ({} ago)",
                    rfc3339(self.expires_at),
                    human_span(now - self.expires_at)
                ),
            ));
        }
        Ok(RefreshUse::Rotate)
    }
}
