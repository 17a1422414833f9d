//! OAuth 2.0 clients: registration, revocation, and authentication of a client by its secret —
//! through the same cache as API keys, so a token or introspection call does not read the store.

use std::sync::Arc;

use ward_core::client::Client;
use ward_core::token::NewToken;
use ward_core::{Reason, RevokeReason, TokenKind, Verdict};
use ward_store::StoreError;

use crate::events::{Call, ContextSource, Event, EventKind};
use crate::validate::{check_label, valid_audience};
use crate::{Engine, EngineError};

/// A client to register.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    /// A label for people.
    pub name: String,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    /// Audiences the client may request tokens for (at least one).
    pub audiences: Vec<String>,
}

fn not_found(id: &str) -> EngineError {
    EngineError::NotFound(format!("no client `{id}`"))
}

impl NewClient {
    /// Checks every field; nothing is written unless all hold.
    pub fn validate(&self) -> Result<(), EngineError> {
        let req = self;
        check_label("name", &req.name)?;
        if req.scopes.len() > ward_core::key::MAX_SCOPES
            || req.scopes.iter().any(|s| !ward_core::key::valid_scope(s))
        {
            return Err(EngineError::Invalid(format!(
                "`scopes` must be at most {} names of printable ASCII without spaces",
                ward_core::key::MAX_SCOPES
            )));
        }
        if req.audiences.is_empty()
            || req.audiences.len() > 16
            || req.audiences.iter().any(|a| !valid_audience(a))
        {
            return Err(EngineError::Invalid(
                "`audiences` must list 1 to 16 audiences of printable ASCII without spaces".into(),
            ));
        }
        Ok(())
    }
}

impl Engine {
    /// Validates `req`, mints a client secret and stores the client. The secret is shown once.
    pub async fn register_client(
        &self,
        req: NewClient,
        call: &Call,
    ) -> Result<(Client, NewToken), EngineError> {
        req.validate()?;
        for _ in 0..3 {
            let minted = self.mint(TokenKind::ClientSecret);
            let client = Client {
                id: minted.id().to_string(),
                env: self.0.policy.env.clone(),
                name: req.name.clone(),
                secret_hash: minted.hash,
                scopes: req.scopes.clone(),
                audiences: req.audiences.clone(),
                created_at: self.now(),
                revoked: None,
            };
            match self.0.store.insert_client(&client).await {
                Ok(()) => {
                    self.emit(|| {
                        Event::new(EventKind::Issued, client.created_at)
                            .token(TokenKind::ClientSecret, client.id.clone())
                            .prefix(&client.env, TokenKind::ClientSecret)
                            .subject(client.id.clone())
                            .call(call)
                    });
                    return Ok((client, minted.token));
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Unavailable("could not allocate a unique client id".into()))
    }

    /// One client's record.
    pub async fn client(&self, id: &str) -> Result<Client, EngineError> {
        self.0.store.get_client(id).await?.ok_or_else(|| not_found(id))
    }

    /// Revokes a client: it can no longer get tokens (tokens it holds stay until they expire or
    /// are revoked themselves).
    pub async fn revoke_client(
        &self,
        id: &str,
        reason: RevokeReason,
        note: Option<String>,
        call: &Call,
    ) -> Result<Client, EngineError> {
        let rev = self.revocation(reason, note, call)?;
        let c = self.0.store.revoke_client(id, &rev).await?;
        self.0.cache.invalidate(id);
        let c = c.ok_or_else(|| not_found(id))?;
        self.emit(|| {
            Event::new(EventKind::Revoked, rev.at)
                .token(TokenKind::ClientSecret, c.id.clone())
                .prefix(&c.env, TokenKind::ClientSecret)
                .subject(c.id.clone())
                .detail(format!("reason `{}`", reason.as_str()))
                .call(call)
        });
        Ok(c)
    }

    /// Authenticates `client_id` with `secret` (constant-time comparison of keyed hashes). The
    /// verdict says why a client was refused, for the log and for Ward's own explanation.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
        ctx: &dyn ContextSource,
    ) -> Result<Arc<Client>, Verdict> {
        let result = self.authenticate_inner(client_id, secret).await;
        if let Err(v) = &result {
            self.verify_failed(secret, v, ctx);
        }
        result
    }

    async fn authenticate_inner(&self, client_id: &str, secret: &str) -> Result<Arc<Client>, Verdict> {
        let parsed = self.parse_opaque(secret, &[TokenKind::ClientSecret])?;
        if parsed.id != client_id {
            return Err(Verdict::with(Reason::Tampered, "the client secret belongs to another client_id"));
        }
        let inner = &self.0;
        let found =
            inner.cache.get(&inner.cache.clients, parsed.id, || inner.store.get_client(parsed.id)).await;
        let (client, _) = self.unlock(&parsed, found).await?;
        if let Some(r) = &client.revoked {
            return Err(r.verdict(self.now()));
        }
        Ok(client)
    }
}
