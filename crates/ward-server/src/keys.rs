//! API keys on the wire: the request to create one, and the JSON view of a key's metadata.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::clock::Rfc3339;
use ward_core::guard::{parse_network, NamedLimit};
use ward_core::ApiKey;

use crate::views::{RevocationView, SupersessionView};

/// `POST /v1/keys`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Who the key acts for (a user id, a service name).
    pub subject: String,
    /// A label for people.
    #[serde(default)]
    pub name: Option<String>,
    /// What the key may do.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Seconds until the key expires; never, if absent.
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub expires_in: Option<i64>,
    /// Seconds until the key starts working; at once, if absent.
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub starts_in: Option<i64>,
    /// How many valid verifies the key allows; unlimited, if absent.
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub uses: Option<i64>,
    /// Any JSON object, returned on verify.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub meta: Option<serde_json::Value>,
    /// Reset the remaining uses to `amount` every `interval` seconds.
    #[serde(default, deserialize_with = "crate::body::object_opt")]
    pub refill: Option<RefillView>,
    /// Sender binding: the client addresses or CIDR networks (`10.0.0.0/8`, `2001:db8::/32`) the
    /// key may be used from, as the verify call's `context.client_ip` names them. Anywhere, if
    /// absent or empty.
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    /// Named rate limits a verify can apply to the key (`ratelimit: {name}`).
    #[serde(default)]
    pub ratelimits: Vec<LimitView>,
}

/// A named rate limit: at most `limit` units per `period` seconds, refilled continuously.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitView {
    /// Its name: 1 to 64 letters, digits, `-`, `_`, `.` or `:`.
    pub name: String,
    /// Units per period (also the largest burst).
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[serde(deserialize_with = "crate::body::whole_u32")]
    pub limit: u32,
    /// The period, in seconds.
    #[schema(minimum = 1, maximum = 86_400)]
    #[serde(deserialize_with = "crate::body::whole_u32")]
    pub period: u32,
}

impl LimitView {
    /// The view of a limit.
    pub fn of(l: &NamedLimit) -> Self {
        LimitView { name: l.name.clone(), limit: l.limit, period: l.period }
    }

    /// The engine's limit.
    pub fn into_limit(self) -> NamedLimit {
        NamedLimit { name: self.name, limit: self.limit, period: self.period }
    }
}

/// A key's metadata. Never contains the secret.
///
/// It borrows from the key's record instead of copying it: every valid verify answers with one.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView<'a> {
    /// The key's id (also embedded in the key).
    pub id: &'a str,
    /// The environment it was issued for.
    pub env: &'a str,
    /// Who it acts for.
    pub subject: &'a str,
    /// Its label.
    pub name: Option<&'a str>,
    /// Its scopes.
    #[schema(value_type = Vec<String>)]
    pub scopes: &'a [String],
    /// Its metadata.
    #[schema(value_type = Object)]
    pub meta: &'a serde_json::Value,
    /// `active`, or the reason it would be rejected now (`expired`, `revoked`, ...).
    pub status: &'static str,
    /// When it was created (RFC 3339).
    #[schema(value_type = String)]
    pub created_at: Rfc3339,
    /// When it expires (RFC 3339), if ever.
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Rfc3339>,
    /// When it starts working (RFC 3339), if not at creation.
    #[schema(value_type = Option<String>)]
    pub not_before: Option<Rfc3339>,
    /// Uses left, if limited.
    pub remaining_uses: Option<i64>,
    /// When it was disabled, if it is.
    #[schema(value_type = Option<String>)]
    pub disabled_at: Option<Rfc3339>,
    /// Its revocation, if revoked.
    pub revoked: Option<RevocationView>,
    /// Its replacement by a rotation, if rotated.
    pub superseded: Option<SupersessionView>,
    /// Its refill schedule, if any.
    pub refill: Option<RefillView>,
    /// Its last valid use (written behind, so up to a few seconds old).
    #[schema(value_type = Option<String>)]
    pub last_used_at: Option<Rfc3339>,
    /// The client networks it may be used from (absent: anywhere).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_ips: Vec<String>,
    /// Its named rate limits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ratelimits: Vec<LimitView>,
}

/// A refill schedule.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefillView {
    /// Seconds between refills.
    #[serde(deserialize_with = "crate::body::whole")]
    pub interval: i64,
    /// Uses after each refill.
    #[serde(deserialize_with = "crate::body::whole")]
    pub amount: i64,
}

impl<'a> KeyView<'a> {
    /// The view of `k` at time `now`.
    pub fn of(k: &'a ApiKey, now: i64) -> Self {
        let status = match k.check(now, &[]) {
            Ok(()) => "active",
            Err(v) => v.reason.as_str(),
        };
        KeyView {
            id: &k.id,
            env: &k.env,
            subject: &k.subject,
            name: k.name.as_deref(),
            scopes: &k.scopes,
            meta: &k.meta,
            status,
            created_at: Rfc3339(k.created_at),
            expires_at: k.expires_at.map(Rfc3339),
            not_before: k.not_before.map(Rfc3339),
            remaining_uses: k.remaining_uses_at(now),
            disabled_at: k.disabled_at.map(Rfc3339),
            revoked: k.revoked.as_ref().map(RevocationView::of),
            superseded: k.superseded.as_ref().map(SupersessionView::of),
            refill: k.refill.map(|r| RefillView { interval: r.interval, amount: r.amount }),
            last_used_at: k.last_used_at.map(Rfc3339),
            allowed_ips: k.allowed_ips.iter().map(ToString::to_string).collect(),
            ratelimits: k.ratelimits.iter().map(LimitView::of).collect(),
        }
    }
}

/// `201` answer to `POST /v1/keys`: the metadata plus the key, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey<'a> {
    /// The key itself. Ward keeps only a keyed hash: store it now, it cannot be shown again.
    pub key: &'a str,
    /// Its metadata.
    #[serde(flatten)]
    pub view: KeyView<'a>,
}

impl CreateKey {
    /// The engine's request.
    pub fn into_engine(self) -> Result<ward_engine::NewKey, String> {
        let allowed_ips = self
            .allowed_ips
            .iter()
            .map(|n| parse_network(n).map_err(|e| format!("`allowed_ips`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ward_engine::NewKey {
            allowed_ips,
            ratelimits: self.ratelimits.into_iter().map(LimitView::into_limit).collect(),
            subject: self.subject,
            name: self.name,
            scopes: self.scopes,
            expires_in: self.expires_in,
            starts_in: self.starts_in,
            uses: self.uses,
            meta: self.meta,
            refill: self.refill.map(|r| (r.interval, r.amount)),
        })
    }
}
