//! `ward`: a token authority whose every rejection explains itself.
//!
//! `ward serve` runs the server (initialising `./ward-data` on first run); the other commands talk
//! to a running server over HTTP.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

mod client;
mod config;
mod setup;

use config::{Config, Overrides};

/// Ward: issue, verify, expire, revoke and explain tokens.
#[derive(Debug, Parser)]
#[command(name = "ward", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a deployment: data directory, master key, store and a bootstrap admin key.
    Init {
        #[command(flatten)]
        overrides: Overrides,
        /// Print `{"admin_key": "…"}` instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run the server (initialising the data directory on first run).
    Serve {
        #[command(flatten)]
        overrides: Overrides,
        /// Address to listen on [default: 127.0.0.1:7878]
        #[arg(long, env = "WARD_LISTEN")]
        listen: Option<String>,
        /// Log filter, e.g. `info` or `ward_server=debug` [default: info]
        #[arg(long, env = "WARD_LOG")]
        log: Option<String>,
    },
    /// Manage API keys on a running server.
    Key {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::KeyCommand,
    },
    /// Inspect and rotate the signing keys of a running server.
    Keyring {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        command: client::KeyringCommand,
    },
    /// Verify a token against a running server: exit 0 valid, 1 invalid, 2 error.
    Verify {
        #[command(flatten)]
        conn: client::Conn,
        /// The token, or `-` to read it from standard input.
        token: String,
        /// A scope the token must carry (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ward: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Init { overrides, json } => {
            let cfg = Config::load(&overrides, None, None)?;
            let opened = runtime()?.block_on(setup::init(&cfg, false))?;
            if let Some(key) = opened.admin_key {
                print_admin_key(&cfg, &key, json);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { overrides, listen, log } => {
            let cfg = Config::load(&overrides, listen.as_deref(), log.as_deref())?;
            runtime()?.block_on(serve(cfg))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Key { conn, command } => client::key(&conn, command),
        Command::Keyring { conn, command } => client::keyring(&conn, command),
        Command::Verify { conn, token, scopes } => client::verify(&conn, &token, &scopes),
    }
}

fn print_admin_key(cfg: &Config, key: &str, json: bool) {
    if json {
        println!("{}", serde_json::json!({ "admin_key": key }));
    } else {
        println!("Ward initialised in {}.", cfg.data.display());
        println!("Admin key (shown once; store it now, e.g. export WARD_ADMIN_KEY=...):");
        println!("{key}");
    }
}

async fn serve(cfg: Config) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log)
        .with_context(|| format!("log filter {:?} is not valid", cfg.log))?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
    let opened = setup::open_or_init(&cfg).await?;
    if let Some(key) = &opened.admin_key {
        print_admin_key(&cfg, key, false);
    }
    let engine = opened.engine.clone();
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    tracing::info!(
        listen = %cfg.listen,
        store = %ward_store::redact_url(&opened.store),
        env = %cfg.policy.env,
        issuer = %engine.issuer(),
        deployment = %engine.deployment_id(),
        "ward is serving"
    );
    let header_read_timeout = cfg.http.header_read_timeout;
    let app = ward_server::app(ward_server::AppState::new(engine.clone(), cfg.http.clone()));
    ward_server::serve::serve(listener, app, header_read_timeout, shutdown()).await;
    engine.shutdown().await;
    engine.store().close().await;
    tracing::info!("ward stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
