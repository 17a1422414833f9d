//! `ward one-time …` and `ward access-token …`: one-time tokens, and signed access tokens with
//! their refresh tokens.

use std::process::ExitCode;

use anyhow::Result;
use ward_client::access_tokens::{
    CreateAccessToken, RefreshAccessToken, RevokeAccessTokens, RevokeTarget, TokenFormat, TokenPair,
};
use ward_client::one_time::{CreateOneTime, CreatedOneTime, RedeemOneTime, Redemption};

use super::{done, duration, json_object, secret_arg, Ctx, Why};

/// `ward one-time …`.
#[derive(Debug, clap::Subcommand)]
pub enum OneTimeCommand {
    /// Issue a one-time token. Stdout holds only the token; its id and expiry go to stderr.
    Create {
        /// Who the token is for
        #[arg(long)]
        subject: String,
        /// What it is for: password_reset, email_verification, magic_link, invitation, or your own
        #[arg(long)]
        purpose: String,
        /// When it expires, e.g. 15m or 1d [default: the server's, 15m]
        #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
        expires_in: Option<i64>,
        /// A JSON object returned when the token is redeemed
        #[arg(long, value_name = "JSON")]
        data: Option<String>,
        /// Supersede the subject's earlier unused tokens of the same purpose
        #[arg(long)]
        supersede_previous: bool,
    },
    /// Redeem a one-time token, exactly once: exit 0 redeemed, 1 refused, 2 error.
    Redeem {
        /// The token, or `-` to read it from standard input
        token: String,
        /// The purpose it is redeemed for
        #[arg(long)]
        purpose: String,
    },
}

/// Runs `ward one-time …`.
pub async fn one_time(ctx: &Ctx, cmd: OneTimeCommand) -> Result<ExitCode> {
    match cmd {
        OneTimeCommand::Create { subject, purpose, expires_in, data, supersede_previous } => {
            let data = json_object("--data", data)?;
            let req = CreateOneTime { subject, purpose, expires_in, data, supersede_previous };
            ctx.answer(&req, print_one_time).await.and_then(done)
        }
        OneTimeCommand::Redeem { token, purpose } => {
            let req = RedeemOneTime { token: secret_arg(&token)?, purpose };
            let r = ctx.answer(&req, print_redemption).await?;
            Ok(if r.valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

fn print_one_time(t: &CreatedOneTime) {
    println!("{}", t.token.expose());
    eprintln!("{}  purpose={} expires={}", t.id, t.purpose, t.expires_at);
    eprintln!("(the token is shown once; Ward keeps only a keyed hash)");
}

fn print_redemption(r: &Redemption) {
    if r.valid {
        match &r.token {
            Some(t) => {
                println!("redeemed  {}  subject={} purpose={} data={}", t.id, t.subject, t.purpose, t.data)
            }
            None => println!("redeemed"),
        }
    } else {
        println!("refused: {}: {}", r.reason, r.message);
        if let Some(d) = &r.detail {
            println!("  detail: {d}");
        }
        if !r.hint.is_empty() {
            println!("  hint: {}", r.hint);
        }
    }
}

/// An access token's encoding, as `--format` names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A JWT (RFC 9068), verifiable by anyone with the JWKS
    Jwt,
    /// PASETO v4.public
    Paseto,
    /// PASETO v4.local: encrypted, only Ward can read it
    PasetoLocal,
}

impl From<Format> for TokenFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Jwt => TokenFormat::Jwt,
            Format::Paseto => TokenFormat::Paseto,
            Format::PasetoLocal => TokenFormat::PasetoLocal,
        }
    }
}

/// What `ward access-token revoke` revokes: exactly one of these.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// A signed access token (its jti is revoked) or a refresh token (its family is); `-` reads
    /// it from standard input
    #[arg(long)]
    token: Option<String>,
    /// One jti
    #[arg(long)]
    jti: Option<String>,
    /// A refresh family, with every access token minted from it
    #[arg(long)]
    family: Option<String>,
}

/// `ward access-token …`.
#[derive(Debug, clap::Subcommand)]
pub enum AccessTokenCommand {
    /// Issue a signed access token. Stdout holds only the token, and with --refresh the refresh
    /// token on a second line; the rest goes to stderr.
    Create {
        /// The `sub` claim
        #[arg(long)]
        subject: String,
        /// An audience (`aud`), the resource server the token is for (repeatable; at least one)
        #[arg(long = "audience", value_name = "AUDIENCE", required = true)]
        audience: Vec<String>,
        /// A scope (repeatable)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Its lifetime, e.g. 15m or 1h [default: the server's, 15m]
        #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
        expires_in: Option<i64>,
        /// The encoding
        #[arg(long, value_enum, default_value = "jwt")]
        format: Format,
        /// Also issue a rotating refresh token (printed on the second line)
        #[arg(long)]
        refresh: bool,
        /// Issue on behalf of this OAuth client
        #[arg(long)]
        client_id: Option<String>,
    },
    /// Exchange a refresh token for a new pair: the access token, then the refresh token, one a line.
    Refresh {
        /// The refresh token, or `-` to read it from standard input
        refresh_token: String,
    },
    /// Revoke signed tokens: one token, one jti, or a refresh family.
    Revoke {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        why: Why,
    },
}

/// Runs `ward access-token …`.
pub async fn access_token(ctx: &Ctx, cmd: AccessTokenCommand) -> Result<ExitCode> {
    match cmd {
        AccessTokenCommand::Create { subject, audience, scopes, expires_in, format, refresh, client_id } => {
            let req = CreateAccessToken {
                subject,
                audience,
                scopes,
                expires_in,
                format: Some(format.into()),
                refresh,
                client_id,
            };
            ctx.answer(&req, print_pair).await.and_then(done)
        }
        AccessTokenCommand::Refresh { refresh_token } => {
            let req = RefreshAccessToken { refresh_token: secret_arg(&refresh_token)? };
            ctx.answer(&req, print_pair).await.and_then(done)
        }
        AccessTokenCommand::Revoke { target, why } => {
            let target = match (target.token, target.jti, target.family) {
                (Some(t), _, _) => RevokeTarget::Token(secret_arg(&t)?),
                (_, Some(j), _) => RevokeTarget::Jti(j),
                (_, _, Some(f)) => RevokeTarget::Family(f),
                (None, None, None) => anyhow::bail!("give one of --token, --jti or --family"),
            };
            let req = RevokeAccessTokens { target, reason: Some(why.reason), note: why.note };
            ctx.answer(&req, |r| println!("revoked {} {}", r.kind, r.value)).await.and_then(done)
        }
    }
}

/// The access token, then the refresh token if any, one a line on stdout; the rest on stderr.
fn print_pair(p: &TokenPair) {
    println!("{}", p.access_token.expose());
    if let Some(r) = &p.refresh_token {
        println!("{}", r.expose());
    }
    eprintln!(
        "token_type={} expires_in={} scope={}{}",
        p.token_type,
        p.expires_in,
        p.scope.as_deref().unwrap_or("-"),
        if p.refresh_token.is_some() { " (the refresh token is on the second line)" } else { "" }
    );
}
