//! `ward key …`: API keys.

use std::process::ExitCode;

use anyhow::Result;
use ward_client::keys::{
    CreateKey, CreatedKey, DisableKey, EnableKey, GetKey, Key, ListKeys, Refill, RevokeKey, RotateKey,
};

use super::{done, duration, json_object, list, or_dash, Ctx, Why};

/// `ward key …`.
#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Create an API key. Stdout holds only the key (shown once); its metadata goes to stderr.
    Create {
        /// Who the key acts for
        #[arg(long)]
        subject: String,
        /// A label for people
        #[arg(long)]
        name: Option<String>,
        /// A scope (repeatable)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// When it expires: 30s, 90m, 1h, 7d, 2w, 1h30m or seconds [default: never]
        #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
        expires_in: Option<i64>,
        /// When it starts working [default: at once]
        #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
        starts_in: Option<i64>,
        /// How many valid verifies it allows [default: unlimited]
        #[arg(long)]
        uses: Option<i64>,
        /// Reset the remaining uses to --refill-amount this often (at least 1m)
        #[arg(long, value_parser = duration::parse, value_name = "DURATION", requires = "refill_amount")]
        refill_every: Option<i64>,
        /// Uses after each refill
        #[arg(long, requires = "refill_every")]
        refill_amount: Option<i64>,
        /// A JSON object returned on verify
        #[arg(long, value_name = "JSON")]
        meta: Option<String>,
    },
    /// List keys (metadata only), newest first.
    List {
        /// Only this subject's keys
        #[arg(long)]
        subject: Option<String>,
        /// At most this many [default: 100]
        #[arg(long)]
        limit: Option<u32>,
        /// Only live keys that expire within this time, e.g. 7d
        #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
        expiring_within: Option<i64>,
    },
    /// Show one key's metadata.
    Show {
        /// The key id
        id: String,
    },
    /// Revoke a key for good.
    Revoke {
        /// The key id
        id: String,
        #[command(flatten)]
        why: Why,
    },
    /// Disable a key until enabled again.
    Disable {
        /// The key id
        id: String,
    },
    /// Enable a disabled key.
    Enable {
        /// The key id
        id: String,
    },
    /// Replace a key with a new one (same subject, scopes, limits). Stdout holds only the new
    /// key; the old one keeps working for the overlap, then answers `superseded`.
    Rotate {
        /// The key id
        id: String,
        /// How long the old key keeps working, e.g. 10m or 0 [default: the server's, 1h]
        #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
        overlap: Option<i64>,
    },
}

/// Runs `ward key …`.
pub async fn run(ctx: &Ctx, cmd: KeyCommand) -> Result<ExitCode> {
    let show = |k: &Key| print_key(k);
    match cmd {
        KeyCommand::Create {
            subject,
            name,
            scopes,
            expires_in,
            starts_in,
            uses,
            refill_every,
            refill_amount,
            meta,
        } => {
            let refill =
                refill_every.zip(refill_amount).map(|(interval, amount)| Refill { interval, amount });
            let meta = json_object("--meta", meta)?;
            let req = CreateKey { subject, name, scopes, expires_in, starts_in, uses, meta, refill };
            ctx.answer(&req, print_created).await.and_then(done)
        }
        KeyCommand::List { subject, limit, expiring_within } => {
            let req = ListKeys { subject, limit, expiring_within };
            ctx.answer(&req, |l| l.keys.iter().for_each(print_key)).await.and_then(done)
        }
        KeyCommand::Show { id } => ctx.answer(&GetKey { id }, show).await.and_then(done),
        KeyCommand::Revoke { id, why } => {
            let req = RevokeKey { id, reason: Some(why.reason), note: why.note };
            ctx.answer(&req, show).await.and_then(done)
        }
        KeyCommand::Disable { id } => ctx.answer(&DisableKey { id }, show).await.and_then(done),
        KeyCommand::Enable { id } => ctx.answer(&EnableKey { id }, show).await.and_then(done),
        KeyCommand::Rotate { id, overlap } => {
            ctx.answer(&RotateKey { id, overlap_seconds: overlap }, print_created).await.and_then(done)
        }
    }
}

/// The key alone on stdout; what it is on stderr.
fn print_created(created: &CreatedKey) {
    println!("{}", created.key.expose());
    eprint!("{}", line(&created.info));
    eprintln!("(the key is shown once; Ward keeps only a keyed hash)");
}

/// One key on one line of stdout.
pub fn print_key(k: &Key) {
    print!("{}", line(k));
}

fn line(k: &Key) -> String {
    format!(
        "{}  {:<9} subject={} scopes={} expires={} uses_left={} name={}\n",
        k.id,
        k.status,
        k.subject,
        list(&k.scopes),
        or_dash(k.expires_at.as_deref()),
        k.remaining_uses.map_or_else(|| "-".to_string(), |u| u.to_string()),
        or_dash(k.name.as_deref())
    )
}
