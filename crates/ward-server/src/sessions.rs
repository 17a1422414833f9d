//! Sessions: issuing, renewing (rotation with a grace), and their JSON views.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::clock::Rfc3339;
use ward_core::{Reason, Session, TokenKind, Verdict};
use ward_store::StoreError;

use crate::keys::{check_label, MAX_META_BYTES};
use crate::problem::ApiError;
use crate::views::{Minted, RevocationView, SupersessionView};
use crate::AppState;

/// `POST /v1/sessions`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// The signed-in user.
    pub subject: String,
    /// Seconds of inactivity after which the session closes (default from config, 30 minutes).
    #[serde(default)]
    pub idle_timeout: Option<i64>,
    /// Seconds after which the session closes whatever its activity (default from config, 12 hours).
    #[serde(default)]
    pub absolute_timeout: Option<i64>,
    /// Any JSON object, returned on verify. A `scopes` array in it is checked against the scopes a
    /// verify asks for.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub claims: Option<serde_json::Value>,
}

/// A session's metadata. Never contains the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView<'a> {
    /// The session's id (also embedded in its token).
    pub id: &'a str,
    /// The signed-in user.
    pub subject: &'a str,
    /// Its claims.
    #[schema(value_type = Object)]
    pub claims: &'a serde_json::Value,
    /// `active`, or the reason it would be rejected now (`idle_timeout`, `expired`, ...).
    pub status: &'static str,
    /// When it was created (RFC 3339).
    #[schema(value_type = String)]
    pub created_at: Rfc3339,
    /// The absolute deadline (RFC 3339).
    #[schema(value_type = String)]
    pub expires_at: Rfc3339,
    /// Seconds of inactivity allowed.
    pub idle_timeout: i64,
    /// When it closes if not used again (RFC 3339).
    #[schema(value_type = String)]
    pub idle_expires_at: Rfc3339,
    /// Its last use (RFC 3339).
    #[schema(value_type = String)]
    pub last_seen_at: Rfc3339,
    /// Its replacement by a renewal, if renewed.
    pub superseded: Option<SupersessionView>,
    /// Its revocation, if revoked.
    pub revoked: Option<RevocationView>,
}

impl<'a> SessionView<'a> {
    /// The view of `s` at `now`, given its latest use. It borrows from the record, as every
    /// valid verify of a session answers with one.
    pub fn of(s: &'a Session, now: i64, last_seen: i64) -> Self {
        let status = match s.check(now, last_seen) {
            Ok(()) => "active",
            Err(v) => v.reason.as_str(),
        };
        SessionView {
            id: &s.id,
            subject: &s.subject,
            claims: &s.claims,
            status,
            created_at: Rfc3339(s.created_at),
            expires_at: Rfc3339(s.expires_at),
            idle_timeout: s.idle_timeout,
            idle_expires_at: Rfc3339(s.idle_expires_at(last_seen)),
            last_seen_at: Rfc3339(last_seen),
            superseded: s.superseded.as_ref().map(SupersessionView::of),
            revoked: s.revoked.as_ref().map(RevocationView::of),
        }
    }
}

/// `201` answer: the metadata plus the token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSession<'a> {
    /// The session token. Ward keeps only a keyed hash.
    pub token: &'a str,
    /// Its metadata.
    #[serde(flatten)]
    pub view: SessionView<'a>,
}

fn check_timeout(what: &str, v: Option<i64>, max: i64) -> Result<(), ApiError> {
    match v {
        Some(s) if !(1..=max).contains(&s) => {
            Err(ApiError::BadRequest(format!("`{what}` must be between 1 and {max} seconds")))
        }
        _ => Ok(()),
    }
}

/// Checks claims: a JSON object of bounded size.
pub fn check_claims(what: &str, c: Option<&serde_json::Value>) -> Result<(), ApiError> {
    if let Some(c) = c {
        if !c.is_object() {
            return Err(ApiError::BadRequest(format!("`{what}` must be a JSON object")));
        }
        if c.to_string().len() > MAX_META_BYTES {
            return Err(ApiError::BadRequest(format!("`{what}` must be at most {MAX_META_BYTES} bytes")));
        }
    }
    Ok(())
}

fn new_session(minted: &Minted, template: &Session) -> Session {
    Session { id: minted.id().to_string(), secret_hash: minted.hash, ..template.clone() }
}

/// Validates `req`, mints a session and stores it.
pub async fn issue(state: &AppState, req: CreateSession) -> Result<(Session, Minted), ApiError> {
    let cfg = &state.config;
    check_label("subject", &req.subject)?;
    check_timeout("idle_timeout", req.idle_timeout, cfg.session_max_lifetime)?;
    check_timeout("absolute_timeout", req.absolute_timeout, cfg.session_max_lifetime)?;
    check_claims("claims", req.claims.as_ref())?;
    let now = state.clock.now();
    for _ in 0..3 {
        let minted = Minted::new(state, TokenKind::Session);
        let template = Session {
            id: String::new(),
            env: cfg.env.clone(),
            subject: req.subject.clone(),
            claims: req.claims.clone().unwrap_or_else(|| serde_json::json!({})),
            secret_hash: minted.hash,
            created_at: now,
            expires_at: now + req.absolute_timeout.unwrap_or(cfg.session_absolute_timeout),
            idle_timeout: req.idle_timeout.unwrap_or(cfg.session_idle_timeout),
            last_seen_at: now,
            superseded: None,
            revoked: None,
        };
        let session = new_session(&minted, &template);
        match state.store.insert_session(&session).await {
            Ok(()) => {
                tracing::info!(session_id = %session.id, subject = %session.subject, "session created");
                return Ok((session, minted));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Unavailable("could not allocate a unique session id".into()))
}

/// Replaces `old` (already verified) by a new session with the same subject, absolute deadline
/// and idle timeout; the old one keeps working for the configured grace. `claims` replaces the
/// claims (rotation on privilege change).
pub async fn renew(
    state: &AppState,
    old: &Session,
    claims: Option<serde_json::Value>,
) -> Result<(Session, Minted), ApiError> {
    check_claims("claims", claims.as_ref())?;
    let now = state.clock.now();
    let template = Session {
        created_at: now,
        last_seen_at: now,
        claims: claims.unwrap_or_else(|| old.claims.clone()),
        superseded: None,
        revoked: None,
        ..old.clone()
    };
    let minted = Minted::new(state, TokenKind::Session);
    let session = new_session(&minted, &template);
    let renewed = state.store.renew_session(&old.id, &session, now + state.config.renewal_grace).await?;
    state.verifier.invalidate(&old.id);
    if !renewed {
        let current = state.store.get_session(&old.id).await?;
        let verdict = match current.as_ref().map(|s| (&s.revoked, &s.superseded)) {
            Some((Some(r), _)) => r.verdict(now),
            Some((None, Some(sup))) => Verdict::with(
                Reason::Superseded,
                format!("this session was already renewed: it was replaced by `{}`", sup.by),
            ),
            _ => Verdict::of(Reason::Unknown),
        };
        return Err(ApiError::Token(verdict));
    }
    tracing::info!(old = %old.id, new = %session.id, subject = %session.subject, "session renewed");
    Ok((session, minted))
}
