//! The CLI's side of the HTTP API: one subcommand per resource (`ward key …`, `ward session …`,
//! `ward verify`, …), each one call of the typed client in `ward-client`, run on a
//! current-thread runtime.
//!
//! Output: human text on stdout; for the commands that create a secret, stdout holds only the
//! secret (`KEY=$(ward key create …)`) and its metadata goes to stderr. With `--json`, stdout
//! holds the server's answer as it came, and errors are one JSON object on stderr
//! ([`output::report`]). Exit codes: 0 done (verify, redeem: valid), 1 invalid (verify, redeem),
//! 2 error.

use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use ward_client::{Auth, Endpoint, Secret, WardClient};
use ward_core::token::{ParsedToken, TokenKind};
use zeroize::Zeroizing;

mod admin;
pub mod duration;
mod keys;
mod output;
mod sessions;
mod tokens;
mod verify;

pub use output::report;

/// The server a command talks to when neither `--server`, `WARD_SERVER` nor `ward.toml` names one.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7878";

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// Options of every command that calls a server, given before or after the subcommand.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Global {
    /// The Ward server's URL, http:// or https:// [default: `server` in ward.toml, else
    /// http://127.0.0.1:7878]
    #[arg(long, env = "WARD_SERVER", global = true, value_name = "URL", help_heading = GLOBAL)]
    pub server: Option<String>,
    /// A PEM file of the CA certificate(s) to trust for https:// instead of the built-in roots
    /// (a private CA, or the server's self-signed certificate) [default: `cacert` in ward.toml]
    #[arg(long, env = "WARD_CACERT", global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub cacert: Option<PathBuf>,
    /// JSON output: the server's answer on stdout as it came; errors as one JSON object on stderr
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,
    /// Config file [default: ./ward.toml if it exists]
    #[arg(long, env = "WARD_CONFIG", global = true, value_name = "PATH", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,
}

/// The commands that call a running server.
#[derive(Debug, clap::Subcommand)]
pub enum ApiCommand {
    /// Manage API keys: create, list, show, revoke, disable, enable, rotate.
    #[command(subcommand, visible_alias = "keys")]
    Key(keys::KeyCommand),
    /// Manage sessions: create, renew, logout, list, show, revoke.
    #[command(subcommand, visible_alias = "sessions")]
    Session(sessions::SessionCommand),
    /// One-time tokens (password reset, magic links, ...): create, redeem.
    #[command(subcommand, name = "one-time")]
    OneTime(tokens::OneTimeCommand),
    /// Signed access tokens (JWT, PASETO) and refresh tokens: create, refresh, revoke.
    #[command(subcommand, name = "access-token", visible_alias = "access-tokens")]
    AccessToken(tokens::AccessTokenCommand),
    /// OAuth clients: create, show, revoke.
    #[command(subcommand, visible_alias = "clients")]
    Client(admin::ClientCommand),
    /// Revoke everything a subject holds (offboarding).
    #[command(subcommand, visible_alias = "subjects")]
    Subject(admin::SubjectCommand),
    /// Inspect and rotate the signing keys.
    #[command(subcommand)]
    Keyring(admin::KeyringCommand),
    /// Verify a token: exit 0 valid, 1 invalid, 2 error.
    Verify(verify::VerifyArgs),
    /// List every reason code with its HTTP status, RFC 6750 error, message and hint.
    Reasons,
}

/// Runs one API command.
pub fn run(global: &Global, cmd: ApiCommand) -> Result<ExitCode> {
    let ctx = Ctx::new(global)?;
    block_on(async move {
        match cmd {
            ApiCommand::Key(c) => keys::run(&ctx, c).await,
            ApiCommand::Session(c) => sessions::run(&ctx, c).await,
            ApiCommand::OneTime(c) => tokens::one_time(&ctx, c).await,
            ApiCommand::AccessToken(c) => tokens::access_token(&ctx, c).await,
            ApiCommand::Client(c) => admin::client(&ctx, c).await,
            ApiCommand::Subject(c) => admin::subject(&ctx, c).await,
            ApiCommand::Keyring(c) => admin::keyring(&ctx, c).await,
            ApiCommand::Verify(args) => verify::run(&ctx, args).await,
            ApiCommand::Reasons => admin::reasons(&ctx).await,
        }
    })
}

/// What every call needs: where the server is, what to trust, how to print.
pub struct Ctx {
    server: String,
    ca_pem: Option<Vec<u8>>,
    json: bool,
}

impl Ctx {
    /// Resolves the server and CA: flag or environment, then `ward.toml`, then the default.
    fn new(global: &Global) -> Result<Ctx> {
        let file = crate::config::read_file(global.config.as_deref())?;
        let server = global.server.clone().or(file.server).unwrap_or_else(|| DEFAULT_SERVER.to_string());
        let ca_pem = match global.cacert.clone().or(file.cacert) {
            Some(path) => Some(
                std::fs::read(&path)
                    .with_context(|| format!("reading the CA certificate file {}", path.display()))?,
            ),
            None => None,
        };
        Ok(Ctx { server, ca_pem, json: global.json })
    }

    /// A client for the server, holding `WARD_ADMIN_KEY` when the call sends a credential.
    fn client(&self, auth: Auth) -> Result<WardClient> {
        let credential = if auth == Auth::Never { None } else { admin_key()?.map(Secret::from) };
        let mut client = WardClient::new(&self.server, credential)?;
        if let Some(pem) = &self.ca_pem {
            client = client.with_ca_pem(pem)?;
        }
        Ok(client)
    }

    /// Makes `call`. With `--json` the answer is printed as the server sent it; otherwise `show`
    /// prints it. The typed answer is returned either way (verify's exit code needs it).
    async fn answer<E: Endpoint>(&self, call: &E, show: impl FnOnce(&E::Response)) -> Result<E::Response> {
        let client = self.client(E::AUTH)?;
        if self.json {
            let raw: Value = client.send_as(call).await?;
            println!("{raw}");
            serde_json::from_value(raw).context("the server's answer is not what this CLI expects")
        } else {
            let typed = client.send(call).await?;
            show(&typed);
            Ok(typed)
        }
    }
}

/// `WARD_ADMIN_KEY`, if set, after a local check of its shape: a damaged key is refused here,
/// before it is sent anywhere, and no part of it but the prefix and id is ever shown.
fn admin_key() -> Result<Option<Zeroizing<String>>> {
    let Some(key) = std::env::var("WARD_ADMIN_KEY").ok().filter(|k| !k.is_empty()).map(Zeroizing::new) else {
        return Ok(None);
    };
    match ParsedToken::parse(&key) {
        Err(verdict) => {
            let what = verdict.detail.unwrap_or_else(|| verdict.reason.info().message.to_string());
            bail!(
                "WARD_ADMIN_KEY is not a Ward key ({}: {what}); its value is not shown. Set it to \
                 the whole key, as `ward init` or `ward key create` printed it",
                verdict.reason.as_str()
            )
        }
        Ok(p) if p.kind != TokenKind::ApiKey => bail!(
            "WARD_ADMIN_KEY holds a {} (ward_{}_{}_{}…), not an API key",
            p.kind.noun(),
            p.env,
            p.kind.code(),
            p.id
        ),
        Ok(_) => Ok(Some(key)),
    }
}

/// Runs one command's calls to completion. A current-thread runtime: one call needs no more.
fn block_on<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(work)
}

/// A secret given on the command line, or read from standard input when it is `-` (which keeps
/// it out of the process list and shell history).
fn secret_arg(arg: &str) -> Result<Secret> {
    if arg != "-" {
        return Ok(Secret::new(arg));
    }
    let mut s = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut s).context("reading the token from standard input")?;
    let trimmed = s.trim();
    if trimmed.is_empty() {
        bail!("standard input held no token");
    }
    Ok(Secret::new(trimmed))
}

/// A `--meta`/`--claims`/`--data` argument: a JSON object.
fn json_object(flag: &str, text: Option<String>) -> Result<Option<Value>> {
    let Some(text) = text else { return Ok(None) };
    match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => Ok(Some(v)),
        Ok(_) => Err(anyhow!("{flag} must be a JSON object, e.g. '{{\"team\": \"billing\"}}'")),
        Err(e) => Err(anyhow!("{flag} is not JSON: {e}")),
    }
}

/// `v`, or `-` when absent.
fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

/// A list for one line of text: `a,b`, or `-` when empty.
fn list(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
    }
}

/// How a revocation is given on every `revoke` command.
#[derive(Debug, Clone, clap::Args)]
pub struct Why {
    /// Why: logout, compromised, offboarded, password_changed, rotated or admin
    #[arg(long, default_value = "admin", value_parser = REVOKE_REASONS)]
    pub reason: String,
    /// Free text kept with the revocation
    #[arg(long)]
    pub note: Option<String>,
}

/// The revocation reasons the server accepts.
const REVOKE_REASONS: [&str; 6] =
    ["logout", "compromised", "offboarded", "password_changed", "rotated", "admin"];

/// The end of a command that succeeded.
fn done<T>(_: T) -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
