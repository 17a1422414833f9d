//! `ward client …`, `ward subject …`, `ward keyring …` and `ward reasons`: OAuth clients,
//! subject revocation, the signing keys and the reason table.

use std::process::ExitCode;

use anyhow::Result;
use ward_client::keyring::{KeyRing, ListSigningKeys, RotateSigningKeys};
use ward_client::meta::{ListReasons, ReasonTable};
use ward_client::oauth_clients::{CreateClient, CreatedClient, GetClient, OAuthClient, RevokeClient};
use ward_client::subjects::{RevokeSubject, SubjectRevoked};

use super::{done, list, or_dash, Ctx, Why};

/// `ward client …`.
#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Register an OAuth client. Stdout holds only its secret (shown once); its client_id and
    /// the rest go to stderr (all of it on stdout with --json).
    Create {
        /// A label for people
        #[arg(long)]
        name: String,
        /// A scope it may request (repeatable)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// An audience it may request tokens for (repeatable; at least one)
        #[arg(long = "audience", value_name = "AUDIENCE", required = true)]
        audiences: Vec<String>,
    },
    /// Show one client.
    Show {
        /// The client_id
        id: String,
    },
    /// Revoke a client: it can get no more tokens.
    Revoke {
        /// The client_id
        id: String,
        #[command(flatten)]
        why: Why,
    },
}

/// Runs `ward client …`.
pub async fn client(ctx: &Ctx, cmd: ClientCommand) -> Result<ExitCode> {
    let show = |c: &OAuthClient| print!("{}", client_line(c));
    match cmd {
        ClientCommand::Create { name, scopes, audiences } => {
            let req = CreateClient { name, scopes, audiences };
            ctx.answer(&req, print_created_client).await.and_then(done)
        }
        ClientCommand::Show { id } => ctx.answer(&GetClient { id }, show).await.and_then(done),
        ClientCommand::Revoke { id, why } => {
            let req = RevokeClient { id, reason: Some(why.reason), note: why.note };
            ctx.answer(&req, show).await.and_then(done)
        }
    }
}

fn print_created_client(c: &CreatedClient) {
    println!("{}", c.client_secret.expose());
    eprint!("{}", client_line(&c.info));
    eprintln!("(the secret is shown once; use it with client_id {})", c.info.client_id);
}

fn client_line(c: &OAuthClient) -> String {
    let status = match &c.revoked {
        Some(r) => format!("revoked ({})", r.reason),
        None => "active".into(),
    };
    format!(
        "{}  {status}  name={} scopes={} audiences={}\n",
        c.client_id,
        c.name,
        list(&c.scopes),
        list(&c.audiences)
    )
}

/// `ward subject …`.
#[derive(Debug, clap::Subcommand)]
pub enum SubjectCommand {
    /// Revoke every key, session, one-time and refresh token a subject holds, in one step.
    Revoke {
        /// The subject
        subject: String,
        #[command(flatten)]
        why: Why,
    },
}

/// Runs `ward subject …`.
pub async fn subject(ctx: &Ctx, cmd: SubjectCommand) -> Result<ExitCode> {
    match cmd {
        SubjectCommand::Revoke { subject, why } => {
            let req = RevokeSubject { subject, reason: Some(why.reason), note: why.note };
            ctx.answer(&req, print_subject_revoked).await.and_then(done)
        }
    }
}

fn print_subject_revoked(s: &SubjectRevoked) {
    let r = s.revoked;
    println!(
        "revoked for {}: {} API key(s), {} session(s), {} one-time token(s), {} refresh token(s)",
        s.subject, r.api_keys, r.sessions, r.one_time, r.refresh_tokens
    );
}

/// `ward keyring …`.
#[derive(Debug, clap::Subcommand)]
pub enum KeyringCommand {
    /// List the signing keys and their states.
    List,
    /// Rotate signing keys now (all algorithms, or one).
    Rotate {
        /// Only this algorithm's key (`EdDSA`, `ES256`, `RS256`, `v4.public`, `v4.local`)
        #[arg(long)]
        alg: Option<String>,
        /// Sign with the new key at once instead of after the publish lead
        #[arg(long)]
        immediate: bool,
    },
}

/// Runs `ward keyring …`.
pub async fn keyring(ctx: &Ctx, cmd: KeyringCommand) -> Result<ExitCode> {
    match cmd {
        KeyringCommand::List => ctx.answer(&ListSigningKeys, print_keyring).await.and_then(done),
        KeyringCommand::Rotate { alg, immediate } => {
            ctx.answer(&RotateSigningKeys { alg, immediate }, print_keyring).await.and_then(done)
        }
    }
}

fn print_keyring(ring: &KeyRing) {
    for k in &ring.keys {
        println!(
            "{:<28} {:<10} {:<9} activates={} retiring={} retired={}",
            k.kid,
            k.alg,
            k.state,
            or_dash(k.activates_at.as_deref()),
            or_dash(k.retiring_at.as_deref()),
            or_dash(k.retired_at.as_deref())
        );
    }
}

/// Runs `ward reasons`.
pub async fn reasons(ctx: &Ctx) -> Result<ExitCode> {
    ctx.answer(&ListReasons, print_reasons).await.and_then(done)
}

fn print_reasons(t: &ReasonTable) {
    for r in &t.reasons {
        println!("{:<22} {} {:<18} {}", r.code, r.status, or_dash(r.error.as_deref()), r.message);
        if !r.hint.is_empty() {
            println!("{:<22}     hint: {}", "", r.hint);
        }
    }
}
