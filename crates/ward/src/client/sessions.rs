//! `ward session …`: sessions.

use std::process::ExitCode;

use anyhow::Result;
use ward_client::sessions::{
    CreateSession, CreatedSession, EndSession, GetSession, ListSessions, RenewSession, RevokeSession, Session,
};

use super::{done, duration, json_object, secret_arg, Ctx, Why};

/// `ward session …`.
#[derive(Debug, clap::Subcommand)]
pub enum SessionCommand {
    /// Create a session. Stdout holds only its token; its metadata goes to stderr.
    Create {
        /// The signed-in user
        #[arg(long)]
        subject: String,
        /// Inactivity after which it closes, e.g. 30m [default: the server's]
        #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
        idle_timeout: Option<i64>,
        /// Time after which it closes whatever its activity, e.g. 12h [default: the server's]
        #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
        absolute_timeout: Option<i64>,
        /// A JSON object returned on verify (a `scopes` array in it is checked)
        #[arg(long, value_name = "JSON")]
        claims: Option<String>,
    },
    /// Renew a session: stdout holds only the new token; the old one works for the grace.
    Renew {
        /// The session token, or `-` to read it from standard input
        token: String,
        /// New claims (a JSON object) [default: the old ones]
        #[arg(long, value_name = "JSON")]
        claims: Option<String>,
    },
    /// Log a session out, given its token.
    Logout {
        /// The session token, or `-` to read it from standard input
        token: String,
    },
    /// List a subject's sessions, newest first.
    List {
        /// Whose sessions
        #[arg(long)]
        subject: String,
        /// At most this many [default: 100]
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one session.
    Show {
        /// The session id
        id: String,
    },
    /// Revoke one session by id.
    Revoke {
        /// The session id
        id: String,
        #[command(flatten)]
        why: Why,
    },
}

/// Runs `ward session …`.
pub async fn run(ctx: &Ctx, cmd: SessionCommand) -> Result<ExitCode> {
    let show = |s: &Session| print!("{}", line(s));
    match cmd {
        SessionCommand::Create { subject, idle_timeout, absolute_timeout, claims } => {
            let claims = json_object("--claims", claims)?;
            let req = CreateSession { subject, idle_timeout, absolute_timeout, claims };
            ctx.answer(&req, print_created).await.and_then(done)
        }
        SessionCommand::Renew { token, claims } => {
            let req = RenewSession { token: secret_arg(&token)?, claims: json_object("--claims", claims)? };
            ctx.answer(&req, print_created).await.and_then(done)
        }
        SessionCommand::Logout { token } => {
            ctx.answer(&EndSession { token: secret_arg(&token)? }, show).await.and_then(done)
        }
        SessionCommand::List { subject, limit } => {
            let req = ListSessions { subject, limit };
            ctx.answer(&req, |l| l.sessions.iter().for_each(|s| print!("{}", line(s)))).await.and_then(done)
        }
        SessionCommand::Show { id } => ctx.answer(&GetSession { id }, show).await.and_then(done),
        SessionCommand::Revoke { id, why } => {
            let req = RevokeSession { id, reason: Some(why.reason), note: why.note };
            ctx.answer(&req, show).await.and_then(done)
        }
    }
}

/// The token alone on stdout; what it is on stderr.
fn print_created(created: &CreatedSession) {
    println!("{}", created.token.expose());
    eprint!("{}", line(&created.info));
    eprintln!("(the token is shown once; Ward keeps only a keyed hash)");
}

/// One session on one line.
pub fn line(s: &Session) -> String {
    format!(
        "{}  {:<12} subject={} expires={} idle_expires={} last_seen={}\n",
        s.id, s.status, s.subject, s.expires_at, s.idle_expires_at, s.last_seen_at
    )
}
