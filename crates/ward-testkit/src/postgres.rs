//! A throwaway PostgreSQL cluster, started once per test process, and a fresh database per test.
//!
//! The first test that asks for a database starts the cluster: `initdb` into a temporary
//! directory, then `pg_ctl start` on a free port of 127.0.0.1 (and a Unix socket in the same
//! directory), with `trust` authentication and `fsync=off`. PostgreSQL refuses to run as root, so
//! as root every server command runs as the `postgres` user (`runuser -u postgres --`) and the
//! directory is handed to that user.
//!
//! The cluster must not outlive the test process, which has no destructor for statics. So before
//! anything is started a small `sh` watchdog is spawned: it polls the test process every second
//! (`kill -0`), and once that is gone it stops the cluster (`pg_ctl stop -m immediate`) and
//! deletes the directory.
//!
//! Environment:
//! * `WARD_TEST_PG_URL`: use this server instead (a URL whose user may `CREATE DATABASE`); the
//!   databases made there are named `ward_t_*` and left behind for the developer to drop.
//! * `WARD_TEST_PG_BIN`: where `initdb`, `pg_ctl`, `postgres` and `pg_dump` are
//!   (default [`DEFAULT_PG_BIN`]).
//! * `CI=true`: missing binaries are a failure. Elsewhere they skip the PostgreSQL variants, with
//!   a banner on stderr that the test harness does not capture.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sqlx::{Connection as _, Executor as _};
use tokio::sync::OnceCell;

/// Where Debian puts PostgreSQL 15's server binaries.
pub const DEFAULT_PG_BIN: &str = "/usr/lib/postgresql/15/bin";
/// Names a PostgreSQL server to use instead of starting one.
pub const PG_URL_ENV: &str = "WARD_TEST_PG_URL";
/// Names the directory holding the PostgreSQL binaries.
pub const PG_BIN_ENV: &str = "WARD_TEST_PG_BIN";

/// How many times to try another port if the one picked was taken in the meantime.
const START_ATTEMPTS: usize = 3;

/// The server fresh databases are made in.
#[derive(Debug)]
enum Server {
    /// The cluster this process started.
    Local {
        /// The TCP port on 127.0.0.1.
        port: u16,
        /// The PostgreSQL binaries.
        bin: PathBuf,
        /// Whether server-side commands run as the `postgres` user (the process is root).
        as_postgres: bool,
    },
    /// A server named by [`PG_URL_ENV`].
    External {
        /// Its URL, naming a database to connect to for `CREATE DATABASE`.
        url: String,
    },
}

/// `Ok(None)`: no PostgreSQL here, and that is allowed (not CI); `Err`: it should have worked.
static SERVER: OnceCell<Result<Option<Server>, String>> = OnceCell::const_new();

/// A fresh, empty database in the test server; it lives as long as the cluster.
#[derive(Debug, Clone)]
pub struct TestDb {
    /// Its name, `ward_t_` and 16 hex digits.
    pub name: String,
    /// Its URL, for `ward_store::open`.
    pub url: String,
    server: &'static Server,
}

/// Creates a fresh database, starting the cluster if this is the first call in the process.
///
/// Returns `None` only when PostgreSQL is missing and `CI` is not `true`: the caller should skip.
/// Panics if the cluster cannot be started or the database cannot be created.
pub async fn fresh_database() -> Option<TestDb> {
    let server = match SERVER.get_or_init(start_server).await {
        Ok(Some(server)) => server,
        Ok(None) => return None,
        Err(e) => panic!("ward-testkit: cannot provide PostgreSQL: {e}"),
    };
    let admin_url = match server {
        Server::Local { port, .. } => format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        Server::External { url } => url.clone(),
    };
    let name = format!("ward_t_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("ward-testkit: cannot connect to {admin_url}: {e}"));
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("ward-testkit: CREATE DATABASE {name} failed: {e}"));
    // Closing politely is a courtesy; the server drops the session either way.
    let _ = conn.close().await;
    let url = with_database(&admin_url, &name);
    Some(TestDb { name, url, server })
}

impl TestDb {
    /// The plain-text `pg_dump` of this database (run as the `postgres` user when root).
    pub async fn dump(&self) -> String {
        let cmd = match self.server {
            Server::Local { port, bin, as_postgres } => {
                let port = port.to_string();
                let args =
                    ["-h", "127.0.0.1", "-p", port.as_str(), "-U", "postgres", "-d", self.name.as_str()];
                server_command(*as_postgres, &bin.join("pg_dump"), &args)
            }
            Server::External { .. } => {
                let dir = pg_bin();
                let pg_dump = if dir.join("pg_dump").is_file() {
                    dir.join("pg_dump")
                } else {
                    PathBuf::from("pg_dump")
                };
                let mut cmd = Command::new(pg_dump);
                cmd.arg(format!("--dbname={}", self.url)).stdin(Stdio::null());
                cmd
            }
        };
        let out = tokio::process::Command::from(cmd).output().await;
        let out = checked("pg_dump", out).unwrap_or_else(|e| panic!("ward-testkit: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Makes PostgreSQL drop every connection to the database at `url` that is waiting in `LISTEN`
/// (a node's change listener), as a network failure would; returns how many it dropped.
pub async fn terminate_listeners(url: &str) -> u64 {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("ward-testkit: cannot connect to {url}: {e}"));
    let killed: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("ward-testkit: cannot terminate listeners: {e}"));
    let _ = conn.close().await;
    killed.into_iter().filter(|(ok,)| *ok).count() as u64
}

/// Replaces the database in a PostgreSQL URL (`scheme://authority/db?query`).
pub fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split_once('/').map_or(before_query, |(a, _)| a);
    match query {
        Some(q) => format!("{scheme}://{authority}/{db}?{q}"),
        None => format!("{scheme}://{authority}/{db}"),
    }
}

fn pg_bin() -> PathBuf {
    std::env::var_os(PG_BIN_ENV).map_or_else(|| PathBuf::from(DEFAULT_PG_BIN), PathBuf::from)
}

/// Writes to the process's stderr directly: the test harness captures `eprintln!`, not this.
fn shout(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Tells, past the test harness's capture, that a PostgreSQL variant did not run.
pub fn note_skipped(test: &str) {
    shout(&format!("ward-testkit: SKIPPED postgres::{test} (no PostgreSQL; see the banner above)"));
}

async fn start_server() -> Result<Option<Server>, String> {
    if let Some(url) = std::env::var(PG_URL_ENV).ok().filter(|u| !u.is_empty()) {
        return Ok(Some(Server::External { url }));
    }
    let bin = pg_bin();
    let missing: Vec<&str> =
        ["initdb", "pg_ctl", "postgres", "pg_dump"].into_iter().filter(|b| !bin.join(b).is_file()).collect();
    if !missing.is_empty() {
        let what = format!("PostgreSQL binaries {} not found in {}", missing.join(", "), bin.display());
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err(format!("{what}; CI must run the PostgreSQL variants (install postgresql-15)"));
        }
        shout(&format!(
            "\n{bar}\nward-testkit: {what}.\nThe PostgreSQL variants of the store tests are SKIPPED and pass \
             WITHOUT RUNNING.\nInstall postgresql-15, set {PG_BIN_ENV}, or point {PG_URL_ENV} at a server. \
             (With CI=true this is a failure.)\n{bar}\n",
            bar = "=".repeat(78)
        ));
        return Ok(None);
    }
    tokio::task::spawn_blocking(move || start_cluster(bin).map(Some))
        .await
        .map_err(|e| format!("the start-up task failed: {e}"))?
}

/// Whether this process runs as root (`id -u` is 0).
fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args…`, or `runuser -u postgres -- program args…` when `as_postgres`.
fn server_command(as_postgres: bool, program: &Path, args: &[&str]) -> Command {
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// The output of a finished command, or an error naming it with its stderr.
fn checked(what: &str, out: std::io::Result<Output>) -> Result<Output, String> {
    let out = out.map_err(|e| format!("could not run {what}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot pick a port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("cannot pick a port: {e}"))
}

fn start_cluster(bin: PathBuf) -> Result<Server, String> {
    let as_postgres = is_root();
    // As root the directory is handed to `postgres`, who must be able to reach it: /tmp, not a
    // TMPDIR that may sit under /root.
    let builder = tempfile::Builder::new().prefix("ward-test-pg-").tempdir_in(if as_postgres {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir()
    });
    let dir = builder.map_err(|e| format!("cannot make a temporary directory: {e}"))?.keep();
    let data = dir.join("data");
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let (dir_s, data_s) = (path(&dir), path(&data));
    spawn_watchdog(&bin, as_postgres, &data_s, &dir_s)?;
    if as_postgres {
        checked("chown", Command::new("chown").args(["postgres:postgres", dir_s.as_str()]).output())?;
    }
    checked(
        "initdb",
        server_command(
            as_postgres,
            &bin.join("initdb"),
            &["-D", &data_s, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        )
        .output(),
    )?;
    let log = path(&dir.join("postgres.log"));
    let mut last_error = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {dir_s} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300"
        );
        let started = checked(
            "pg_ctl start",
            server_command(
                as_postgres,
                &bin.join("pg_ctl"),
                &["-D", &data_s, "-l", &log, "-w", "-t", "60", "-o", &options, "start"],
            )
            .output(),
        );
        match started {
            Ok(_) => {
                shout(&format!("ward-testkit: PostgreSQL test cluster on 127.0.0.1:{port} in {dir_s}"));
                return Ok(Server::Local { port, bin, as_postgres });
            }
            // Most likely the port was taken between picking and binding; try another.
            Err(e) => {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                last_error = format!("{e}\n--- postgres.log ---\n{tail}");
            }
        }
    }
    Err(last_error)
}

/// Spawns the `sh` loop that stops the cluster and deletes `dir` once this process is gone.
fn spawn_watchdog(bin: &Path, as_postgres: bool, data: &str, dir: &str) -> Result<(), String> {
    let runuser = if as_postgres { "runuser -u postgres -- " } else { "" };
    let script = format!(
        "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; \
         {runuser}\"$2\" -D \"$3\" stop -m immediate -w >/dev/null 2>&1; rm -rf \"$4\""
    );
    let pg_ctl = bin.join("pg_ctl").to_string_lossy().into_owned();
    // Its stdio is /dev/null so that nothing reading the test's output waits for it. The child is
    // never waited for: it must outlive this process.
    Command::new("sh")
        .args(["-c", &script, "ward-pg-watchdog", &std::process::id().to_string(), &pg_ctl, data, dir])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot spawn the cluster's watchdog: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_in_a_url_is_replaced() {
        assert_eq!(with_database("postgres://u:p@h:5432/postgres", "t1"), "postgres://u:p@h:5432/t1");
        assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
        assert_eq!(
            with_database("postgresql://h/db?sslmode=disable", "t1"),
            "postgresql://h/t1?sslmode=disable"
        );
    }
}
