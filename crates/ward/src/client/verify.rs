//! `ward verify`: a token's verdict, as the exit code (0 valid, 1 invalid, 2 no verdict) and as text.

use std::process::ExitCode;

use anyhow::Result;
use ward_client::verify::{TokenType, Verdict, Verify};

use super::{keys::print_key, secret_arg, sessions, Ctx};

/// A kind of token `--type` can require.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// An API key
    ApiKey,
    /// A session token
    Session,
    /// A signed access token (JWT or PASETO)
    AccessToken,
}

/// `ward verify TOKEN`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The token, or `-` to read it from standard input
    token: String,
    /// A scope the token must carry (repeatable)
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// An audience a signed access token must carry in `aud`
    #[arg(long)]
    audience: Option<String>,
    /// The kind of token required [default: any]
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    kind: Option<Kind>,
}

/// Runs `ward verify`.
pub async fn run(ctx: &Ctx, args: VerifyArgs) -> Result<ExitCode> {
    let kind = args.kind.map(|k| match k {
        Kind::ApiKey => TokenType::ApiKey,
        Kind::Session => TokenType::Session,
        Kind::AccessToken => TokenType::AccessToken,
    });
    let req = Verify {
        scopes: args.scopes,
        audience: args.audience,
        kind,
        ..Verify::new(secret_arg(&args.token)?)
    };
    let verdict = ctx.answer(&req, print_verdict).await?;
    Ok(if verdict.valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_verdict(v: &Verdict) {
    match (v.valid, &v.reason) {
        (true, _) => {
            print!("valid");
            if let Some(k) = &v.key {
                print!("  ");
                print_key(k);
            } else if let Some(s) = &v.session {
                print!("  session {}", sessions::line(s));
            } else if let Some(t) = &v.access_token {
                let claim =
                    |name: &str| t.claims.get(name).map_or_else(|| "-".to_string(), |c| c.to_string());
                println!(
                    "  {} kid={} sub={} aud={} scope={} exp={}",
                    t.format,
                    t.kid,
                    claim("sub"),
                    claim("aud"),
                    claim("scope"),
                    claim("exp")
                );
            } else {
                println!();
            }
        }
        (false, Some(reason)) => {
            println!("invalid: {reason}: {}", v.message.as_deref().unwrap_or_default());
            if let Some(d) = &v.detail {
                println!("  detail: {d}");
            }
            if let Some(h) = &v.hint {
                println!("  hint: {h}");
            }
        }
        (false, None) => {
            println!("invalid: {}", v.error.as_deref().unwrap_or("invalid_token"));
            println!("  (set WARD_ADMIN_KEY to a key with ward:verify to see the reason)");
        }
    }
}
