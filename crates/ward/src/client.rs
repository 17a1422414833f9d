//! The CLI's side of the HTTP API: `ward key …` and `ward verify`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
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
    let body = match cmd {
        KeyringCommand::List => expect_ok(call(conn, "GET", "/v1/keyring", None, true)?)?,
        KeyringCommand::Rotate { alg, immediate } => {
            let req = json!({ "alg": alg, "immediate": immediate });
            expect_ok(call(conn, "POST", "/v1/keyring/rotate", Some(req), true)?)?
        }
    };
    if conn.json {
        println!("{body}");
        return Ok(ExitCode::SUCCESS);
    }
    for k in body.get("keys").and_then(Value::as_array).into_iter().flatten() {
        let s = |f: &str| k.get(f).and_then(Value::as_str).unwrap_or("-").to_string();
        println!(
            "{:<28} {:<10} {:<9} activates={} retiring={} retired={}",
            s("kid"),
            s("alg"),
            s("state"),
            s("activates_at"),
            s("retiring_at"),
            s("retired_at")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// An HTTP answer: status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

fn admin_key() -> Option<Zeroizing<String>> {
    std::env::var("WARD_ADMIN_KEY").ok().filter(|k| !k.is_empty()).map(Zeroizing::new)
}

fn call(conn: &Conn, method: &str, path: &str, body: Option<Value>, auth: bool) -> Result<Answer> {
    let url = format!("{}{path}", conn.server.trim_end_matches('/'));
    let mut req = ureq::request(method, &url).timeout(std::time::Duration::from_secs(30));
    if auth {
        match admin_key() {
            Some(k) => req = req.set("Authorization", &format!("Bearer {}", k.as_str())),
            None => bail!("set WARD_ADMIN_KEY to a Ward key with the ward:admin scope"),
        }
    }
    let result = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e).with_context(|| format!("calling {url}")),
    };
    let status = resp.status();
    let body: Value = resp.into_json().unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

/// Fails with the server's problem document when the answer is not a success.
fn expect_ok(a: Answer) -> Result<Value> {
    if (200..300).contains(&a.status) {
        return Ok(a.body);
    }
    let s = |k: &str| a.body.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut msg = format!("server answered {}: {} ({})", a.status, s("title"), s("reason"));
    for k in ["detail", "hint"] {
        if !s(k).is_empty() {
            msg.push_str(&format!("\n  {k}: {}", s(k)));
        }
    }
    bail!(msg)
}

fn print_key(k: &Value) {
    let s = |f: &str| match k.get(f) {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Array(a)) if a.is_empty() => "-".into(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        Some(Value::Null) | None => "-".into(),
        Some(v) => v.to_string(),
    };
    println!(
        "{}  {:<9} subject={} scopes={} expires={} uses_left={} name={}",
        s("id"),
        s("status"),
        s("subject"),
        s("scopes"),
        s("expires_at"),
        s("remaining_uses"),
        s("name")
    );
}

/// Runs `ward key …`.
pub fn key(conn: &Conn, cmd: KeyCommand) -> Result<ExitCode> {
    let body = match cmd {
        KeyCommand::Create { subject, name, scopes, expires_in, starts_in, uses, meta } => {
            let meta: Option<Value> =
                meta.map(|m| serde_json::from_str(&m).context("--meta must be a JSON object")).transpose()?;
            let req = json!({ "subject": subject, "name": name, "scopes": scopes, "expires_in": expires_in,
                              "starts_in": starts_in, "uses": uses, "meta": meta });
            let created = expect_ok(call(conn, "POST", "/v1/keys", Some(req), true)?)?;
            if !conn.json {
                println!("{}", created.get("key").and_then(Value::as_str).unwrap_or_default());
                eprintln!("(the key is shown once; Ward keeps only a keyed hash)");
                print_key(&created);
                return Ok(ExitCode::SUCCESS);
            }
            created
        }
        KeyCommand::List { subject, limit } => {
            let mut q = Vec::new();
            if let Some(s) = subject {
                q.push(format!("subject={}", urlencode(&s)));
            }
            if let Some(l) = limit {
                q.push(format!("limit={l}"));
            }
            let path =
                if q.is_empty() { "/v1/keys".to_string() } else { format!("/v1/keys?{}", q.join("&")) };
            let list = expect_ok(call(conn, "GET", &path, None, true)?)?;
            if !conn.json {
                for k in list.get("keys").and_then(Value::as_array).into_iter().flatten() {
                    print_key(k);
                }
                return Ok(ExitCode::SUCCESS);
            }
            list
        }
        KeyCommand::Show { id } => {
            expect_ok(call(conn, "GET", &format!("/v1/keys/{}", urlencode(&id)), None, true)?)?
        }
        KeyCommand::Revoke { id, reason, note } => {
            let body = json!({ "reason": reason, "note": note });
            expect_ok(call(conn, "POST", &format!("/v1/keys/{}/revoke", urlencode(&id)), Some(body), true)?)?
        }
        KeyCommand::Disable { id } => {
            expect_ok(call(conn, "POST", &format!("/v1/keys/{}/disable", urlencode(&id)), None, true)?)?
        }
        KeyCommand::Enable { id } => {
            expect_ok(call(conn, "POST", &format!("/v1/keys/{}/enable", urlencode(&id)), None, true)?)?
        }
    };
    if conn.json {
        println!("{body}");
    } else {
        print_key(&body);
    }
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
    let body = json!({ "token": token.as_str(), "scopes": scopes });
    let a = call(conn, "POST", "/v1/verify", Some(body), admin_key().is_some())?;
    if a.status != 200 {
        expect_ok(a)?;
        bail!("unexpected answer");
    }
    let valid = a.body.get("valid").and_then(Value::as_bool).unwrap_or(false);
    if conn.json {
        println!("{}", a.body);
    } else {
        let s = |k: &str| a.body.get(k).and_then(Value::as_str).map(str::to_string);
        match (valid, s("reason")) {
            (true, _) => {
                print!("valid");
                if let Some(k) = a.body.get("key") {
                    print!("  ");
                    print_key(k);
                } else {
                    println!();
                }
            }
            (false, Some(reason)) => {
                println!("invalid: {reason}: {}", s("message").unwrap_or_default());
                if let Some(d) = s("detail") {
                    println!("  detail: {d}");
                }
                if let Some(h) = s("hint") {
                    println!("  hint: {h}");
                }
            }
            (false, None) => {
                println!("invalid: {}", s("error").unwrap_or_else(|| "invalid_token".into()));
                println!("  (set WARD_ADMIN_KEY to a key with ward:verify to see the reason)");
            }
        }
    }
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
