//! DPoP (RFC 9449): proofs checked once per request, access and refresh tokens bound to the
//! proof's key, and server nonces.
//!
//! The proof itself (its `typ`, `alg`, key, signature, `htm`, `htu`, `iat`, `ath` and key
//! thumbprint) is checked by `ward_signed::dpop`. The engine adds what needs state: a proof's
//! `jti` is accepted once inside its window, across nodes and restarts (`Store::remember_once`
//! under scope `dpop`, durable before the answer), and, when the policy requires them, the proof
//! must carry a current server nonce.
//!
//! Server nonces need no storage: a nonce is a MAC of the current period number under a key
//! derived from the master key, so every node computes the same one. A nonce is accepted during
//! its period and the next, so a client that just fetched one is not refused at a period's turn.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq;
use ward_core::{Reason, Verdict};
use ward_signed::{verify_proof, DpopProof, ProofRequest, ProofWindow};

use crate::error::unavailable;
use crate::events::ContextSource;
use crate::replay::fingerprint;
use crate::Engine;

/// A DPoP proof presented with a request, and the request it must match.
#[derive(Clone, Copy, Debug)]
pub struct DpopAsk<'a> {
    /// The proof: the `DPoP` header's value.
    pub proof: &'a str,
    /// The request's method.
    pub htm: &'a str,
    /// The request's URL as the client reached the server.
    pub htu: &'a str,
}

/// The `cnf.jkt` claim name (RFC 9449 §6.1).
pub const CNF_CLAIM: &str = "cnf";

impl Engine {
    fn dpop_nonce_at(&self, period: i64) -> String {
        let mac = self.0.nonces.hash(&format!("dpop-nonce\n{period}")).0;
        URL_SAFE_NO_PAD.encode(mac.get(..18).unwrap_or_default())
    }

    fn dpop_period(&self) -> i64 {
        self.now().div_euclid(self.0.policy.guard.dpop_nonce_period.max(1))
    }

    /// The server's current DPoP nonce (the `DPoP-Nonce` header), when the policy requires nonces.
    pub fn dpop_nonce(&self) -> Option<String> {
        self.0.policy.guard.dpop_require_nonce.then(|| self.dpop_nonce_at(self.dpop_period()))
    }

    /// The window a proof's `iat` must lie in: the policy's maximum age and the clock leeway.
    fn proof_window(&self) -> ProofWindow {
        ProofWindow { max_age: self.0.policy.guard.dpop_proof_max_age, leeway: self.0.policy.leeway }
    }

    /// Checks a DPoP proof for `req` and spends its `jti`: a second proof with the same `jti`
    /// from the same key inside the window is `replayed`. A required server nonce that is missing
    /// or stale is `nonce_required` (answer with [`Engine::dpop_nonce`] in `DPoP-Nonce`).
    pub async fn check_dpop(
        &self,
        proof: &str,
        req: &ProofRequest<'_>,
        ctx: &dyn ContextSource,
    ) -> Result<DpopProof, Verdict> {
        let result = self.check_dpop_inner(proof, req).await;
        if let Err(v) = &result {
            // Every refusal is an event (`unavailable` is not a refusal and is skipped there).
            self.replay_refused(v, "DPoP proof", ctx);
        }
        result
    }

    async fn check_dpop_inner(&self, proof: &str, req: &ProofRequest<'_>) -> Result<DpopProof, Verdict> {
        let now = self.now();
        let window = self.proof_window();
        let p = verify_proof(proof, req, now, window)?;
        if self.0.policy.guard.dpop_require_nonce {
            let period = self.dpop_period();
            let current = p.nonce.as_deref().is_some_and(|n| {
                [period, period - 1]
                    .iter()
                    .any(|&at| bool::from(n.as_bytes().ct_eq(self.dpop_nonce_at(at).as_bytes())))
            });
            if !current {
                let detail = match p.nonce {
                    None => "the proof carries no `nonce`, and this server requires one",
                    Some(_) => "the proof's `nonce` is not the server's current one (it may have expired)",
                };
                return Err(Verdict::with(Reason::NonceRequired, detail));
            }
        }
        // Remembered until no proof with this `iat` could be accepted any more.
        let until = p.iat.saturating_add(window.max_age).saturating_add(window.leeway).saturating_add(1);
        match self.0.store.remember_once("dpop", &fingerprint(&[&p.jkt, &p.jti]), until, now).await {
            Ok(true) => Ok(p),
            Ok(false) => Err(Verdict::with(
                Reason::Replayed,
                format!("a DPoP proof with `jti` {:?} from this key was already used", p.jti),
            )),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Checks the sender binding of a signed access token: a token with `cnf.jkt` needs a proof
    /// from that key for this request (and the token's hash in `ath`); an unbound token needs
    /// none, and a proof sent with it is not looked at.
    pub(crate) async fn check_token_binding(
        &self,
        token: &str,
        jkt: Option<&str>,
        dpop: Option<DpopAsk<'_>>,
        ctx: &dyn ContextSource,
    ) -> Result<(), Verdict> {
        let Some(jkt) = jkt else { return Ok(()) };
        let Some(ask) = dpop else {
            return Err(Verdict::with(
                Reason::BindingMismatch,
                "this token is bound to a DPoP key (`cnf.jkt`) and was presented without a DPoP proof: \
                 send it as `Authorization: DPoP <token>` with a `DPoP` proof header",
            ));
        };
        let req = ProofRequest::new(ask.htm, ask.htu).with_token(token, jkt);
        self.check_dpop(ask.proof, &req, ctx).await.map(|_| ())
    }
}

/// The `cnf.jkt` of an access token's extra claims, if it is bound.
pub(crate) fn bound_key(extra: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    extra.get(CNF_CLAIM).and_then(|c| c.get("jkt")).and_then(|j| j.as_str())
}
