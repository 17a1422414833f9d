//! The key ring's records: each signing key's algorithm, its encrypted private half, its public
//! JWK and the times at which it moves through its states.
//!
//! ```text
//! pending ──activates_at──▶ active ──retiring_at──▶ retiring ──retired_at──▶ retired
//! (published, not signing)  (signs)                 (verifies only)          (gone from JWKS)
//! ```

use crate::clock::UnixTime;

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Published in the JWKS so caches pick it up, not yet signing.
    Pending,
    /// Signing new tokens.
    Active,
    /// No longer signing; still verifies tokens it signed.
    Retiring,
    /// Neither signs nor verifies; kept so Ward can say when it was retired.
    Retired,
}

impl KeyState {
    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyState::Pending => "pending",
            KeyState::Active => "active",
            KeyState::Retiring => "retiring",
            KeyState::Retired => "retired",
        }
    }
}

/// One signing key as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct SigningKeyRecord {
    /// The key id (`kid`).
    pub kid: String,
    /// Its one algorithm (`EdDSA`, `ES256`, `RS256`, `HS256`, `v4.public`, `v4.local`).
    pub alg: String,
    /// Its one purpose (`access_token`).
    pub purpose: String,
    /// The private half, encrypted with AES-256-GCM under a key derived from the master key.
    pub private_enc: Vec<u8>,
    /// The GCM nonce.
    pub nonce: Vec<u8>,
    /// The public JWK (JSON), or `null` for symmetric keys, which are never published.
    pub public_jwk: serde_json::Value,
    /// When it was created.
    pub created_at: UnixTime,
    /// When it starts signing.
    pub activates_at: UnixTime,
    /// When it stops signing (set when a successor is scheduled).
    pub retiring_at: Option<UnixTime>,
    /// When it stops verifying.
    pub retired_at: Option<UnixTime>,
}

impl SigningKeyRecord {
    /// Its state at `now`.
    pub fn state(&self, now: UnixTime) -> KeyState {
        if self.retired_at.is_some_and(|t| now >= t) {
            KeyState::Retired
        } else if self.retiring_at.is_some_and(|t| now >= t) {
            KeyState::Retiring
        } else if now >= self.activates_at {
            KeyState::Active
        } else {
            KeyState::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_times() {
        let k = SigningKeyRecord {
            kid: "k".into(),
            alg: "EdDSA".into(),
            purpose: "access_token".into(),
            private_enc: vec![],
            nonce: vec![],
            public_jwk: serde_json::Value::Null,
            created_at: 0,
            activates_at: 10,
            retiring_at: Some(20),
            retired_at: Some(30),
        };
        assert_eq!(k.state(9), KeyState::Pending);
        assert_eq!(k.state(10), KeyState::Active);
        assert_eq!(k.state(20), KeyState::Retiring);
        assert_eq!(k.state(30), KeyState::Retired);
    }
}
