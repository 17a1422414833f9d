//! Configuration: flags, then `WARD_*` environment variables (clap reads both), then `ward.toml`,
//! then defaults. Read once, validated into [`Config`]; libraries never read the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use ward_core::guard::parse_network;
use ward_engine::guard::{GuardPolicy, ThrottlePolicy};
use ward_engine::Policy;
use ward_server::HttpConfig;

/// The config file format version this build reads.
pub const CONFIG_VERSION: u32 = 1;

/// `ward.toml`. Every field is optional; flags and environment variables win over it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Must be 1.
    pub version: Option<u32>,
    /// The data directory (master key, SQLite database).
    pub data: Option<PathBuf>,
    /// The address to listen on.
    pub listen: Option<String>,
    /// `sqlite://PATH` or `postgres://...`.
    pub store: Option<String>,
    /// The server the CLI's commands call (`http://…` or `https://…`); `--server` and
    /// `WARD_SERVER` win over it.
    pub server: Option<String>,
    /// A PEM file of the CA the CLI trusts for an `https://` server; `--cacert` and
    /// `WARD_CACERT` win over it.
    pub cacert: Option<PathBuf>,
    /// The environment this deployment issues tokens for (`live`, `test`, ...).
    pub env: Option<String>,
    /// Seconds a verified key's record is served from memory (revocations on other nodes apply
    /// within this time).
    pub cache_ttl_secs: Option<u64>,
    /// Largest request body in bytes.
    pub max_body_bytes: Option<usize>,
    /// Seconds a client may take to send a request head, or to start the next request on an
    /// idle connection (30; 0 turns the limit off, for a proxy in front that has its own).
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds a client may take to send a request body (30).
    pub body_read_timeout_secs: Option<u64>,
    /// Whether callers without a Ward key may call `POST /v1/verify` (they get categories only).
    pub allow_anonymous_verify: Option<bool>,
    /// A `tracing` filter, e.g. `info` or `ward=debug`.
    pub log: Option<String>,
    /// The `iss` of signed tokens and the OAuth issuer [default: http://LISTEN].
    pub issuer: Option<String>,
    /// Algorithm of JWT signing keys: EdDSA (default), ES256 or RS256; HS256 for JWTs only Ward
    /// itself verifies (its keys are never published).
    pub signing_alg: Option<String>,
    /// Default access-token lifetime, seconds (900).
    pub access_token_ttl_secs: Option<i64>,
    /// Longest access-token lifetime, seconds (86400).
    pub access_token_max_ttl_secs: Option<i64>,
    /// Refresh-token lifetime, seconds (2592000).
    pub refresh_token_ttl_secs: Option<i64>,
    /// Seconds in which re-presenting a just-rotated refresh token is a retry, not theft (10).
    pub refresh_grace_secs: Option<i64>,
    /// Clock-skew leeway for signed tokens, seconds (60).
    pub leeway_secs: Option<i64>,
    /// Seconds between scheduled signing-key rotations (2592000).
    pub key_rotation_interval_secs: Option<i64>,
    /// Seconds a new signing key is published before it signs (3600).
    pub key_publish_lead_secs: Option<i64>,
    /// Seconds a rotated API key keeps working when the rotation names no overlap (3600).
    pub key_rotation_overlap_secs: Option<i64>,
    /// Default session idle timeout, seconds (1800).
    pub session_idle_timeout_secs: Option<i64>,
    /// Default session absolute timeout, seconds (43200).
    pub session_absolute_timeout_secs: Option<i64>,
    /// Seconds a renewed session's old token keeps working (30).
    pub renewal_grace_secs: Option<i64>,
    /// Default one-time token lifetime, seconds (900).
    pub one_time_ttl_secs: Option<i64>,
    /// Longest one-time token lifetime, seconds (604800).
    pub one_time_max_ttl_secs: Option<i64>,
    /// How often last-use times are written behind, seconds (5): the most activity a crash loses.
    pub activity_flush_secs: Option<u64>,
    /// How often the sweeper runs, seconds (60).
    pub sweep_interval_secs: Option<u64>,
    /// Seconds a dead record is kept whole before it becomes a tombstone (604800).
    pub dead_record_grace_secs: Option<i64>,
    /// Seconds a tombstone is kept (34560000, 400 days).
    pub tombstone_retention_secs: Option<i64>,
    /// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` is believed; the end user is
    /// then the nearest untrusted hop. None by default: the connection's peer is the address.
    pub trusted_proxies: Option<Vec<String>>,
    /// The cookie `/v1/forward-auth` reads a token from when there is no `Authorization`
    /// header (none by default).
    pub forward_auth_cookie: Option<String>,
    /// Failed guesses (`unknown`, `tampered`, `checksum_mismatch`, `malformed`) from one address
    /// within `throttle_window_secs` that lock it out (10; 0 turns the throttle off).
    pub throttle_max_failures: Option<u32>,
    /// Seconds over which failed guesses are counted (60).
    pub throttle_window_secs: Option<i64>,
    /// The first lockout, seconds (60); each further lockout doubles it.
    pub throttle_ban_secs: Option<i64>,
    /// The longest lockout, seconds (3600).
    pub throttle_max_ban_secs: Option<i64>,
    /// Seconds either side of now a client nonce's timestamp may lie (300).
    pub replay_window_secs: Option<i64>,
    /// Default server-nonce lifetime, seconds (300).
    pub nonce_ttl_secs: Option<i64>,
    /// Longest server-nonce lifetime, seconds (3600).
    pub nonce_max_ttl_secs: Option<i64>,
    /// Seconds a DPoP proof's `iat` may lie in the past (300).
    pub dpop_proof_max_age_secs: Option<i64>,
    /// Whether DPoP proofs must carry Ward's current nonce (`DPoP-Nonce`, RFC 9449 §8) (false).
    pub dpop_require_nonce: Option<bool>,
    /// Seconds one DPoP nonce stays current (300).
    pub dpop_nonce_period_secs: Option<i64>,
}

/// The settings given on the command line or in the environment.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Data directory: master key and SQLite database [default: ./ward-data]
    #[arg(long, env = "WARD_DATA")]
    pub data: Option<PathBuf>,
    /// Store URL: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://DATA/ward.db]
    #[arg(long, env = "WARD_STORE")]
    pub store: Option<String>,
    /// Config file [default: ./ward.toml if it exists]
    #[arg(long, env = "WARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Environment name in issued tokens [default: live]
    #[arg(long, env = "WARD_ENV")]
    pub env: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory.
    pub data: PathBuf,
    /// The store URL.
    pub store: String,
    /// The listen address.
    pub listen: SocketAddr,
    /// Whether the store URL was given (flag, environment or file) rather than defaulted.
    pub store_given: bool,
    /// The log filter.
    pub log: String,
    /// The token policy the engine runs with.
    pub policy: Policy,
    /// What the HTTP layer needs.
    pub http: HttpConfig,
}

impl Config {
    /// The master key file.
    pub fn master_key_path(&self) -> PathBuf {
        self.data.join("master.key")
    }

    /// Merges flags/env over the file over defaults, and validates.
    pub fn load(o: &Overrides, listen: Option<&str>, log: Option<&str>) -> Result<Config> {
        let file = read_file(o.config.as_deref())?;
        if let Some(v) = file.version {
            if v != CONFIG_VERSION {
                bail!("config file version {v} is not supported (this build reads version {CONFIG_VERSION})");
            }
        }
        let guard = guard_policy(&file, &Policy::default().guard);
        let trusted_proxies = file
            .trusted_proxies
            .iter()
            .flatten()
            .map(|n| parse_network(n).map_err(|e| anyhow::anyhow!("trusted_proxies: {e}")))
            .collect::<Result<Vec<_>>>()?;
        let data = o.data.clone().or(file.data).unwrap_or_else(|| PathBuf::from("./ward-data"));
        let given = o.store.clone().or(file.store);
        let store_given = given.is_some();
        let store = given.unwrap_or_else(|| format!("sqlite://{}", data.join("ward.db").display()));
        let listen = listen.map(str::to_string).or(file.listen).unwrap_or_else(|| "127.0.0.1:7878".into());
        let listen: SocketAddr =
            listen.parse().with_context(|| format!("listen address {listen:?} is not HOST:PORT"))?;
        let env = o.env.clone().or(file.env).unwrap_or_else(|| "live".into());
        if !ward_core::token::valid_env(&env) {
            bail!("environment {env:?} must be 1 to 16 lowercase letters or digits");
        }
        let defaults = Policy::default();
        let http_defaults = HttpConfig::default();
        let cache_ttl = file.cache_ttl_secs.map(Duration::from_secs).unwrap_or(defaults.cache_ttl);
        if cache_ttl > Duration::from_secs(300) {
            bail!("cache_ttl_secs must be at most 300: revocations must reach every node quickly");
        }
        let max_body_bytes = file.max_body_bytes.unwrap_or(http_defaults.max_body_bytes);
        if !(1024..=16 * 1024 * 1024).contains(&max_body_bytes) {
            bail!("max_body_bytes must be between 1024 and 16777216");
        }
        let header_read_timeout = match file.header_read_timeout_secs {
            None => http_defaults.header_read_timeout,
            Some(0) => None,
            Some(s) if s > 3600 => bail!("header_read_timeout_secs must be at most 3600"),
            Some(s) => Some(Duration::from_secs(s)),
        };
        let body_read_timeout = match file.body_read_timeout_secs {
            None => http_defaults.body_read_timeout,
            Some(s) if !(1..=3600).contains(&s) => bail!("body_read_timeout_secs must be between 1 and 3600"),
            Some(s) => Duration::from_secs(s),
        };
        let positive = |name: &str, v: Option<i64>, default: i64| -> Result<i64> {
            match v {
                Some(n) if n < 1 => bail!("{name} must be at least 1"),
                Some(n) => Ok(n),
                None => Ok(default),
            }
        };
        let secs = |name: &str, v: Option<u64>, default: Duration| -> Result<Duration> {
            match v {
                Some(0) => bail!("{name} must be at least 1"),
                Some(n) => Ok(Duration::from_secs(n)),
                None => Ok(default),
            }
        };
        let one_time_max_ttl =
            positive("one_time_max_ttl_secs", file.one_time_max_ttl_secs, defaults.one_time_max_ttl)?;
        let one_time_ttl = positive("one_time_ttl_secs", file.one_time_ttl_secs, defaults.one_time_ttl)?;
        if one_time_ttl > one_time_max_ttl {
            bail!("one_time_ttl_secs must not exceed one_time_max_ttl_secs");
        }
        let policy = Policy {
            env,
            cache_ttl,
            session_idle_timeout: positive(
                "session_idle_timeout_secs",
                file.session_idle_timeout_secs,
                defaults.session_idle_timeout,
            )?,
            session_absolute_timeout: positive(
                "session_absolute_timeout_secs",
                file.session_absolute_timeout_secs,
                defaults.session_absolute_timeout,
            )?,
            renewal_grace: file.renewal_grace_secs.unwrap_or(defaults.renewal_grace).max(0),
            one_time_ttl,
            one_time_max_ttl,
            activity_flush_interval: secs(
                "activity_flush_secs",
                file.activity_flush_secs,
                defaults.activity_flush_interval,
            )?,
            sweep_interval: secs("sweep_interval_secs", file.sweep_interval_secs, defaults.sweep_interval)?,
            dead_record_grace: file.dead_record_grace_secs.unwrap_or(defaults.dead_record_grace).max(0),
            tombstone_retention: positive(
                "tombstone_retention_secs",
                file.tombstone_retention_secs,
                defaults.tombstone_retention,
            )?,
            issuer: file.issuer.clone(),
            signing_alg: match file.signing_alg.as_deref() {
                None => defaults.signing_alg,
                Some(a @ ("EdDSA" | "ES256" | "RS256" | "HS256")) => {
                    a.parse().map_err(|_| anyhow::anyhow!("signing_alg {a:?} is not known"))?
                }
                Some(other) => bail!("signing_alg {other:?} must be EdDSA, ES256, RS256 or HS256"),
            },
            access_token_ttl: positive(
                "access_token_ttl_secs",
                file.access_token_ttl_secs,
                defaults.access_token_ttl,
            )?,
            access_token_max_ttl: positive(
                "access_token_max_ttl_secs",
                file.access_token_max_ttl_secs,
                defaults.access_token_max_ttl,
            )?,
            refresh_token_ttl: positive(
                "refresh_token_ttl_secs",
                file.refresh_token_ttl_secs,
                defaults.refresh_token_ttl,
            )?,
            refresh_grace: file.refresh_grace_secs.unwrap_or(defaults.refresh_grace).max(0),
            leeway: file.leeway_secs.unwrap_or(defaults.leeway).clamp(0, 600),
            key_rotation_interval: positive(
                "key_rotation_interval_secs",
                file.key_rotation_interval_secs,
                defaults.key_rotation_interval,
            )?,
            key_publish_lead: file.key_publish_lead_secs.unwrap_or(defaults.key_publish_lead).max(0),
            rotation_overlap: file.key_rotation_overlap_secs.unwrap_or(defaults.rotation_overlap),
            guard,
            ..defaults.clone()
        };
        policy.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        let log = log.map(str::to_string).or(file.log).unwrap_or_else(|| "info".into());
        let http = HttpConfig {
            max_body_bytes,
            header_read_timeout,
            body_read_timeout,
            allow_anonymous_verify: file
                .allow_anonymous_verify
                .unwrap_or(http_defaults.allow_anonymous_verify),
            trace_requests: log.contains("debug") || log.contains("trace"),
            trusted_proxies,
            forward_auth_cookie: file.forward_auth_cookie.filter(|c| !c.is_empty()),
        };
        Ok(Config { data, store, store_given, listen, log, policy, http })
    }

    /// The issuer a new deployment records when `issuer` is not configured: this node's URL,
    /// with the machine's host name in place of an unspecified listen address (`0.0.0.0`).
    pub fn default_issuer(&self) -> String {
        if self.listen.ip().is_unspecified() {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| {
                    !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                })
                .unwrap_or_else(|| "localhost".into());
            format!("http://{host}:{}", self.listen.port())
        } else {
            format!("http://{}", self.listen)
        }
    }
}

/// The guards' settings: the file's where given, the defaults elsewhere (checked with the policy).
fn guard_policy(file: &FileConfig, d: &GuardPolicy) -> GuardPolicy {
    GuardPolicy {
        throttle: ThrottlePolicy {
            max_failures: file.throttle_max_failures.unwrap_or(d.throttle.max_failures),
            window: file.throttle_window_secs.unwrap_or(d.throttle.window),
            ban: file.throttle_ban_secs.unwrap_or(d.throttle.ban),
            max_ban: file.throttle_max_ban_secs.unwrap_or(d.throttle.max_ban),
            ..d.throttle.clone()
        },
        replay_window: file.replay_window_secs.unwrap_or(d.replay_window),
        nonce_ttl: file.nonce_ttl_secs.unwrap_or(d.nonce_ttl),
        nonce_max_ttl: file.nonce_max_ttl_secs.unwrap_or(d.nonce_max_ttl),
        dpop_proof_max_age: file.dpop_proof_max_age_secs.unwrap_or(d.dpop_proof_max_age),
        dpop_require_nonce: file.dpop_require_nonce.unwrap_or(d.dpop_require_nonce),
        dpop_nonce_period: file.dpop_nonce_period_secs.unwrap_or(d.dpop_nonce_period),
    }
}

/// Reads `path`, or `./ward.toml` if it exists (defaults if not), and checks its version.
pub fn read_file(path: Option<&Path>) -> Result<FileConfig> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from("ward.toml"), false),
    };
    let file: FileConfig = match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => FileConfig::default(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if let Some(v) = file.version.filter(|v| *v != CONFIG_VERSION) {
        bail!("config file version {v} is not supported (this build reads version {CONFIG_VERSION})");
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(text: &str) -> (tempfile::TempDir, Overrides) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ward.toml");
        std::fs::write(&path, text).expect("write");
        (dir, Overrides { config: Some(path), ..Overrides::default() })
    }

    #[test]
    fn flags_win_over_the_file_which_wins_over_defaults() {
        let (_d, mut o) = with_file("version = 1\nenv = \"test\"\ndata = \"/tmp/x\"\ncache_ttl_secs = 2\n");
        let c = Config::load(&o, None, None).expect("loads");
        assert_eq!(c.policy.env, "test");
        assert_eq!(c.store, "sqlite:///tmp/x/ward.db");
        assert_eq!(c.policy.cache_ttl, Duration::from_secs(2));
        assert_eq!(c.listen.to_string(), "127.0.0.1:7878");
        o.env = Some("staging".into());
        let c = Config::load(&o, Some("0.0.0.0:9000"), None).expect("loads");
        assert_eq!(c.policy.env, "staging");
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn the_readme_example_file_loads_and_means_the_defaults() {
        let readme = include_str!("../../../README.md");
        let example =
            readme.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block");
        let (_d, o) = with_file(example);
        let c = Config::load(&o, None, None).expect("the README's example loads");
        let d = HttpConfig::default();
        assert_eq!(c.http.header_read_timeout, d.header_read_timeout);
        assert_eq!(c.http.body_read_timeout, d.body_read_timeout);
        assert_eq!(c.http.max_body_bytes, d.max_body_bytes);
        assert_eq!(c.policy.cache_ttl, Policy::default().cache_ttl);
        let (_d, o) = with_file("version = 1\nheader_read_timeout_secs = 0\nbody_read_timeout_secs = 5\n");
        let c = Config::load(&o, None, None).expect("loads");
        assert_eq!((c.http.header_read_timeout, c.http.body_read_timeout), (None, Duration::from_secs(5)));
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        for bad in [
            "version = 2",
            "env = \"Live!\"",
            "cache_ttl_secs = 100000",
            "nonsense = 1",
            "body_read_timeout_secs = 0",
            "header_read_timeout_secs = 100000",
        ] {
            let (_d, o) = with_file(bad);
            assert!(Config::load(&o, None, None).is_err(), "{bad} accepted");
        }
        let (_d, o) = with_file("");
        assert!(Config::load(&o, Some("not an address"), None).is_err());
    }
}
