//! `ward`: a token authority whose every rejection explains itself.
//!
//! `ward serve` runs the server (initialising `./ward-data` on first run); the other commands talk
//! to a running server over HTTP or HTTPS (`--server`, `WARD_SERVER` or `server` in `ward.toml`).

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};

mod client;
mod config;
mod setup;

use config::{Config, Overrides};

/// Ward: issue, verify, expire, revoke and explain tokens.
#[derive(Debug, Parser)]
#[command(name = "ward", version, about)]
struct Cli {
    #[command(flatten)]
    global: client::Global,
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
    #[command(flatten)]
    Api(client::ApiCommand),
    /// Print a shell completion script: `ward completions bash > /etc/bash_completion.d/ward`.
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let json = cli.global.json;
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            client::report(&e, json);
            ExitCode::from(2)
        }
    }
}

/// A command line clap refused (or `--help`/`--version`): clap's own text, except that under
/// `--json` a real error is one JSON object on stderr, as every other error is.
fn usage_error(e: &clap::Error) -> ExitCode {
    let json = std::env::args_os().skip(1).take_while(|a| a != "--").any(|a| a == "--json");
    if !e.use_stderr() || !json {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let text = e.render().to_string();
    let message = text.lines().next().unwrap_or_default().trim_start_matches("error: ");
    eprintln!("{}", serde_json::json!({ "error": message, "usage": true }));
    ExitCode::from(2)
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
        Command::Api(command) => client::run(&cli.global, command),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ward", &mut script);
            match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                // `ward completions bash | head` is not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing the script"),
                _ => Ok(ExitCode::SUCCESS),
            }
        }
    }
}

/// Tells where the bootstrap admin key is (`admin.key`, 0600, in the data directory). The key
/// itself goes to stdout only when stdout is a terminal, or as JSON when asked for (`ward init
/// --json`, for scripts): a service's stdout ends up in its logs (issue 9).
fn print_admin_key(cfg: &Config, key: &str, json: bool) {
    let file = setup::admin_key_path(cfg);
    if json {
        println!("{}", serde_json::json!({ "admin_key": key, "admin_key_file": file }));
        return;
    }
    println!("Ward initialised in {}.", cfg.data.display());
    println!("The bootstrap admin key is in {} (readable by you only).", file.display());
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        println!("Admin key (store it now, e.g. export WARD_ADMIN_KEY=...):");
        println!("{key}");
    } else {
        println!("Read it from there, e.g. export WARD_ADMIN_KEY=$(cat {}).", file.display());
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
