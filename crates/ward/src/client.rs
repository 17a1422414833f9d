//! The CLI's side of the HTTP API: `ward key …`, `ward keyring …` and `ward verify`, each one
//! call of the typed client in `ward-client`, run on a current-thread runtime.

use std::future::Future;
use std::io::Read;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use serde_json::Value;
use ward_client::keyring::{KeyRing, ListSigningKeys, RotateSigningKeys};
use ward_client::keys::{CreateKey, CreatedKey, DisableKey, EnableKey, GetKey, Key, ListKeys, RevokeKey};
use ward_client::verify::{Verdict, Verify};
use ward_client::{Endpoint, Error, Secret, WardClient};
use zeroize::Zeroizing;

/// How to reach the server.
#[derive(Debug, Clone, clap::Args)]
pub struct Conn {
    /// The Ward server's URL.
    #[arg(long, env = "WARD_SERVER", default_value = "http://127.0.0.1:7878")]
    pub server: String,
    /// Print the server's JSON answer instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `ward key …`.
#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Create an API key; the key is printed once.
    Create {
        /// Who the key acts for.
        #[arg(long)]
        subject: String,
        /// A label for people.
        #[arg(long)]
        name: Option<String>,
        /// A scope (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Seconds until it expires.
        #[arg(long)]
        expires_in: Option<i64>,
        /// Seconds until it starts working.
        #[arg(long)]
        starts_in: Option<i64>,
        /// How many valid verifies it allows.
        #[arg(long)]
        uses: Option<i64>,
        /// A JSON object returned on verify.
        #[arg(long)]
        meta: Option<String>,
    },
    /// List keys (metadata only).
    List {
        /// Only this subject's keys.
        #[arg(long)]
        subject: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one key's metadata.
    Show {
        /// The key id.
        id: String,
    },
    /// Revoke a key for good.
    Revoke {
        /// The key id.
        id: String,
        /// logout, compromised, offboarded, password_changed, rotated or admin.
        #[arg(long, default_value = "admin")]
        reason: String,
        /// Free text kept with the revocation.
        #[arg(long)]
        note: Option<String>,
    },
    /// Disable a key until enabled again.
    Disable {
        /// The key id.
        id: String,
    },
    /// Enable a disabled key.
    Enable {
        /// The key id.
        id: String,
    },
}

/// `ward keyring …`.
#[derive(Debug, clap::Subcommand)]
pub enum KeyringCommand {
    /// List the signing keys and their states.
    List,
    /// Rotate signing keys now (all algorithms, or one).
    Rotate {
        /// Only this algorithm's key (`EdDSA`, `ES256`, `RS256`, `v4.public`, `v4.local`).
        #[arg(long)]
        alg: Option<String>,
        /// Sign with the new key at once instead of after the publish lead.
        #[arg(long)]
        immediate: bool,
    },
}

/// Runs `ward keyring …`.
pub fn keyring(conn: &Conn, cmd: KeyringCommand) -> Result<ExitCode> {
    block_on(async {
        match cmd {
            KeyringCommand::List => answer(conn, &ListSigningKeys, print_keyring).await,
            KeyringCommand::Rotate { alg, immediate } => {
                answer(conn, &RotateSigningKeys { alg, immediate }, print_keyring).await
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn print_keyring(ring: KeyRing) {
    let s = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    for k in &ring.keys {
        println!(
            "{:<28} {:<10} {:<9} activates={} retiring={} retired={}",
            k.kid,
            k.alg,
            k.state,
            s(&k.activates_at),
            s(&k.retiring_at),
            s(&k.retired_at)
        );
    }
}

fn admin_key() -> Option<Zeroizing<String>> {
    std::env::var("WARD_ADMIN_KEY").ok().filter(|k| !k.is_empty()).map(Zeroizing::new)
}

/// Runs one command's call to completion. A current-thread runtime: one call needs no more.
fn block_on<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(work)
}

/// A client for `conn.server`, holding `WARD_ADMIN_KEY` if it is set.
fn connect(conn: &Conn) -> Result<WardClient> {
    WardClient::new(&conn.server, admin_key().map(Secret::from)).map_err(explain)
}

/// Makes `call`: prints the server's JSON answer as it came with `--json`, else hands the typed
/// answer to `show`.
async fn answer<E: Endpoint>(conn: &Conn, call: &E, show: impl FnOnce(E::Response)) -> Result<()> {
    let client = connect(conn)?;
    if conn.json {
        let raw: Value = client.send_as(call).await.map_err(explain)?;
        println!("{raw}");
    } else {
        show(client.send(call).await.map_err(explain)?);
    }
    Ok(())
}

/// The CLI's wording for a client error: a missing key names the variable to set, and a server's
/// problem document is shown with its detail and hint on their own lines.
fn explain(e: Error) -> anyhow::Error {
    match e {
        Error::MissingCredential { .. } => {
            anyhow!("set WARD_ADMIN_KEY to a Ward key with the ward:admin scope")
        }
        Error::Http { status, problem } => {
            let p = problem.map(|p| *p).unwrap_or_default();
            let s = |v: &Option<String>| v.clone().unwrap_or_default();
            let mut msg = format!("server answered {status}: {} ({})", s(&p.title), s(&p.reason));
            for (k, v) in [("detail", s(&p.detail)), ("hint", s(&p.hint))] {
                if !v.is_empty() {
                    msg.push_str(&format!("\n  {k}: {v}"));
                }
            }
            anyhow!(msg)
        }
        other => anyhow::Error::new(other),
    }
}

fn print_key(k: &Key) {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let scopes = if k.scopes.is_empty() { "-".into() } else { k.scopes.join(",") };
    println!(
        "{}  {:<9} subject={} scopes={} expires={} uses_left={} name={}",
        k.id,
        k.status,
        k.subject,
        scopes,
        or_dash(k.expires_at.clone()),
        or_dash(k.remaining_uses.map(|u| u.to_string())),
        or_dash(k.name.clone())
    );
}

/// Runs `ward key …`.
pub fn key(conn: &Conn, cmd: KeyCommand) -> Result<ExitCode> {
    let show = |k: Key| print_key(&k);
    block_on(async {
        match cmd {
            KeyCommand::Create { subject, name, scopes, expires_in, starts_in, uses, meta } => {
                let meta: Option<Value> = meta
                    .map(|m| serde_json::from_str(&m).context("--meta must be a JSON object"))
                    .transpose()?;
                let req =
                    CreateKey { subject, name, scopes, expires_in, starts_in, uses, meta, refill: None };
                answer(conn, &req, |created: CreatedKey| {
                    println!("{}", created.key.expose());
                    eprintln!("(the key is shown once; Ward keeps only a keyed hash)");
                    print_key(&created.info);
                })
                .await
            }
            KeyCommand::List { subject, limit } => {
                let req = ListKeys { subject, limit, expiring_within: None };
                answer(conn, &req, |list| list.keys.iter().for_each(print_key)).await
            }
            KeyCommand::Show { id } => answer(conn, &GetKey { id }, show).await,
            KeyCommand::Revoke { id, reason, note } => {
                answer(conn, &RevokeKey { id, reason: Some(reason), note }, show).await
            }
            KeyCommand::Disable { id } => answer(conn, &DisableKey { id }, show).await,
            KeyCommand::Enable { id } => answer(conn, &EnableKey { id }, show).await,
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `ward verify`: exit 0 valid, 1 invalid, 2 when no verdict could be had.
pub fn verify(conn: &Conn, token: &str, scopes: &[String]) -> Result<ExitCode> {
    let token = if token == "-" {
        let mut s = Zeroizing::new(String::new());
        std::io::stdin().read_to_string(&mut s).context("reading the token from standard input")?;
        Zeroizing::new(s.trim_end_matches(['\n', '\r']).to_string())
    } else {
        Zeroizing::new(token.to_string())
    };
    let req = Verify { scopes: scopes.to_vec(), ..Verify::new(token) };
    let valid = block_on(async {
        let client = connect(conn)?;
        if conn.json {
            let raw: Value = client.send_as(&req).await.map_err(explain)?;
            println!("{raw}");
            return Ok(raw.get("valid").and_then(Value::as_bool).unwrap_or(false));
        }
        let verdict: Verdict = client.send(&req).await.map_err(explain)?;
        print_verdict(&verdict);
        Ok(verdict.valid)
    })?;
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_verdict(v: &Verdict) {
    match (v.valid, &v.reason) {
        (true, _) => {
            print!("valid");
            if let Some(k) = &v.key {
                print!("  ");
                print_key(k);
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
