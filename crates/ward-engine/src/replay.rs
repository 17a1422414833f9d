//! Replay defense: server nonces (handed out, spent once), client nonces (a value and a timestamp
//! the client made, accepted once inside a window), and the single-use record behind both and
//! behind DPoP proof ids.
//!
//! A server nonce needs no storage until it is spent: it carries its expiry and a MAC under a key
//! derived from the master key (`MasterKey::nonce_hasher`). Spending it, like accepting a client
//! nonce, is one conditional insert in the store (`Store::remember_once`), durable before the
//! answer and exactly once across concurrent calls and nodes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use ward_core::clock::{human_span, rfc3339};
use ward_core::{Reason, UnixTime, Verdict};

use crate::error::unavailable;
use crate::events::{ContextSource, Event, EventKind};
use crate::{Engine, EngineError};

/// Longest purpose or scope name.
pub const MAX_PURPOSE_LEN: usize = 64;
/// Shortest and longest client nonce.
pub const CLIENT_NONCE_LEN: std::ops::RangeInclusive<usize> = 8..=256;
/// The prefix of server nonces (version 1).
const NONCE_PREFIX: &str = "wn1.";

/// A server nonce, as handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedNonce {
    /// The nonce.
    pub nonce: String,
    /// When it stops being accepted.
    pub expires_at: UnixTime,
}

/// Hex SHA-256: how single-use values are stored (fixed length, and never the value itself).
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex_lower(&h.finalize())
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn check_name(field: &str, v: Option<&str>) -> Result<(), EngineError> {
    match v {
        Some(p) if p.is_empty() || p.len() > MAX_PURPOSE_LEN || !p.bytes().all(|b| b.is_ascii_graphic()) => {
            Err(EngineError::Invalid(format!(
                "`{field}` must be 1 to {MAX_PURPOSE_LEN} printable ASCII characters without spaces"
            )))
        }
        _ => Ok(()),
    }
}

impl Engine {
    fn nonce_tag(&self, purpose: &str, payload: &str) -> [u8; 16] {
        let mac = self.0.nonces.hash(&format!("server-nonce\n{purpose}\n{payload}")).0;
        let mut tag = [0u8; 16];
        tag.copy_from_slice(mac.get(..16).unwrap_or(&[0u8; 16]));
        tag
    }

    /// Hands out a server nonce for `purpose` (default `default`), valid for `ttl` seconds
    /// (default and maximum from the policy). Nothing is written.
    pub fn issue_nonce(&self, purpose: Option<&str>, ttl: Option<i64>) -> Result<IssuedNonce, EngineError> {
        check_name("purpose", purpose)?;
        let g = &self.0.policy.guard;
        let ttl = ttl.unwrap_or(g.nonce_ttl);
        if !(1..=g.nonce_max_ttl).contains(&ttl) {
            return Err(EngineError::Invalid(format!("`ttl` must be 1 to {} seconds", g.nonce_max_ttl)));
        }
        let expires_at = self.now() + ttl;
        let mut random = [0u8; 16];
        self.0.secrets.fill(&mut random);
        let mut body = Vec::with_capacity(24);
        body.extend_from_slice(&expires_at.to_be_bytes());
        body.extend_from_slice(&random);
        let payload = URL_SAFE_NO_PAD.encode(&body);
        let tag = URL_SAFE_NO_PAD.encode(self.nonce_tag(purpose.unwrap_or("default"), &payload));
        Ok(IssuedNonce { nonce: format!("{NONCE_PREFIX}{payload}.{tag}"), expires_at })
    }

    /// Spends a server nonce: accepted exactly once, before it expires, for the purpose it was
    /// issued for. `Err` carries the verdict (`unavailable` when the store failed).
    pub async fn consume_nonce(
        &self,
        nonce: &str,
        purpose: Option<&str>,
        ctx: &dyn ContextSource,
    ) -> Result<Result<(), Verdict>, EngineError> {
        check_name("purpose", purpose)?;
        let purpose = purpose.unwrap_or("default");
        let now = self.now();
        let result = self.consume_nonce_inner(nonce, purpose, now).await;
        if let Err(v) = &result {
            self.replay_refused(v, "nonce", ctx);
        }
        Ok(result)
    }

    async fn consume_nonce_inner(&self, nonce: &str, purpose: &str, now: UnixTime) -> Result<(), Verdict> {
        let malformed =
            || Verdict::with(Reason::Malformed, "not a Ward nonce: expected `wn1.<payload>.<tag>`");
        let rest = nonce.strip_prefix(NONCE_PREFIX).ok_or_else(malformed)?;
        let (payload, tag) = rest.split_once('.').ok_or_else(malformed)?;
        let body = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| malformed())?;
        let exp_bytes: [u8; 8] = body.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(malformed)?;
        if body.len() != 24 || tag.len() != 16 {
            return Err(malformed());
        }
        let expected = self.nonce_tag(purpose, payload);
        if !bool::from(expected.as_slice().ct_eq(&tag)) {
            return Err(Verdict::with(
                Reason::Tampered,
                format!("this nonce was not issued by this deployment for the purpose `{purpose}`"),
            ));
        }
        let exp = i64::from_be_bytes(exp_bytes);
        if now >= exp {
            return Err(Verdict::with(
                Reason::Expired,
                format!("the nonce expired at {} ({} ago)", rfc3339(exp), human_span(now - exp)),
            ));
        }
        match self.0.store.remember_once("nonce", &fingerprint(&[nonce]), exp, now).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Verdict::with(Reason::Replayed, "this nonce was already spent")),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Accepts a client nonce once: its `timestamp` must lie within the replay window of now
    /// (default ±5 min), and the pair is remembered until the window has passed it. Another
    /// `scope` is another namespace of nonces.
    pub async fn check_client_nonce(
        &self,
        nonce: &str,
        timestamp: UnixTime,
        scope: Option<&str>,
        ctx: &dyn ContextSource,
    ) -> Result<Result<(), Verdict>, EngineError> {
        check_name("scope", scope)?;
        if !CLIENT_NONCE_LEN.contains(&nonce.len()) || !nonce.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(EngineError::Invalid(format!(
                "`nonce` must be {} to {} printable ASCII characters without spaces",
                CLIENT_NONCE_LEN.start(),
                CLIENT_NONCE_LEN.end()
            )));
        }
        let now = self.now();
        let window = self.0.policy.guard.replay_window;
        let skew = timestamp.saturating_sub(now);
        let result = if skew < -window {
            Err(Verdict::with(
                Reason::Expired,
                format!(
                    "the timestamp is {} old; the window is ±{}: make a fresh request, and check the client's clock if this persists",
                    human_span(skew),
                    human_span(window)
                ),
            ))
        } else if skew > window {
            Err(Verdict::with(
                Reason::NotYetValid,
                format!(
                    "the timestamp is {} in the future; the window is ±{}: the client's clock is ahead",
                    human_span(skew),
                    human_span(window)
                ),
            ))
        } else {
            let scope_key = format!("client:{}", scope.unwrap_or(""));
            // Remembered until the window has passed the timestamp: after that it is refused as
            // too old anyway.
            match self
                .0
                .store
                .remember_once(&scope_key, &fingerprint(&[nonce]), timestamp + window, now)
                .await
            {
                Ok(true) => Ok(()),
                Ok(false) => {
                    Err(Verdict::with(Reason::Replayed, "this nonce was already used in its window"))
                }
                Err(e) => Err(unavailable(e)),
            }
        };
        if let Err(v) = &result {
            self.replay_refused(v, "client nonce", ctx);
        }
        Ok(result)
    }

    pub(crate) fn replay_refused(&self, v: &Verdict, what: &str, ctx: &dyn ContextSource) {
        if v.reason == Reason::Unavailable {
            return;
        }
        let now = self.now();
        self.emit(|| {
            Event::new(EventKind::ReplayRefused, now)
                .reason(v.reason)
                .context(&ctx.context())
                .detail(format!("{what}: {}", v.detail.as_deref().unwrap_or(v.reason.as_str())))
        });
    }
}
