//! A throwaway PostgreSQL cluster for this test binary, and a fresh database per test.
//!
//! The same approach as `ward-testkit`'s (`crates/ward-testkit/src/postgres.rs`), cut down and kept
//! here because `ward-testkit` depends on `ward-server`, which depends on this crate: the store's
//! tests should not need the server to build. `initdb` into a temporary directory, `pg_ctl start`
//! on a free port of 127.0.0.1 with `trust` authentication; as root, as the `postgres` user. A
//! `sh` watchdog stops the cluster and deletes the directory once this process is gone.
//!
//! `WARD_TEST_PG_URL` names a server to use instead, `WARD_TEST_PG_BIN` the binaries
//! (default `/usr/lib/postgresql/15/bin`); with `CI=true` missing binaries are a failure.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection as _, Executor as _};
use tokio::sync::OnceCell;

/// The admin URL of the server, or `None` when there is no PostgreSQL here (and that is allowed).
static SERVER: OnceCell<Option<String>> = OnceCell::const_new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The URL of a fresh, empty database, or `None` if the PostgreSQL variants are skipped.
pub async fn fresh_database() -> Option<String> {
    let admin = SERVER.get_or_init(start).await.as_ref()?;
    let name = format!("ward_store_t_{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::Relaxed));
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect to the test cluster");
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("CREATE DATABASE");
    let _ = conn.close().await;
    let (base, _) = admin.rsplit_once('/').expect("the admin URL names a database");
    Some(format!("{base}/{name}"))
}

/// Says, past the harness's capture, that a PostgreSQL variant did not run.
pub fn note_skipped(test: &str) {
    let _ = writeln!(std::io::stderr(), "ward-store tests: SKIPPED postgres::{test} (no PostgreSQL)");
}

async fn start() -> Option<String> {
    if let Some(url) = std::env::var("WARD_TEST_PG_URL").ok().filter(|u| !u.is_empty()) {
        return Some(url);
    }
    let bin = std::env::var_os("WARD_TEST_PG_BIN")
        .map_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"), PathBuf::from);
    if !["initdb", "pg_ctl", "postgres"].iter().all(|b| bin.join(b).is_file()) {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "no PostgreSQL binaries in {}; CI must run the PostgreSQL variants",
            bin.display()
        );
        let _ = writeln!(
            std::io::stderr(),
            "ward-store tests: no PostgreSQL in {}: the PostgreSQL variants are SKIPPED",
            bin.display()
        );
        return None;
    }
    let port = tokio::task::spawn_blocking(move || start_cluster(&bin)).await.expect("start-up task");
    Some(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

fn command(as_postgres: bool, program: &Path, args: &[&str]) -> Command {
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

fn run(what: &str, mut cmd: Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("could not run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start_cluster(bin: &Path) -> u16 {
    let as_postgres =
        Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    // As root the directory goes to `postgres`, who must be able to reach it: /tmp, not a TMPDIR
    // under /root.
    let parent = if as_postgres { PathBuf::from("/tmp") } else { std::env::temp_dir() };
    let dir = tempfile::Builder::new().prefix("ward-store-pg-").tempdir_in(parent).expect("temp dir").keep();
    let dir_s = dir.to_string_lossy().into_owned();
    let data = dir.join("data").to_string_lossy().into_owned();
    let log = dir.join("postgres.log").to_string_lossy().into_owned();
    let pg_ctl = bin.join("pg_ctl");
    spawn_watchdog(&pg_ctl, as_postgres, &data, &dir_s);
    if as_postgres {
        let mut chown = Command::new("chown");
        chown.args(["postgres:postgres", dir_s.as_str()]);
        run("chown", chown);
    }
    run(
        "initdb",
        command(
            as_postgres,
            &bin.join("initdb"),
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        ),
    );
    // Another process may take the port between picking and binding: try a few.
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {dir_s} -c fsync=off -c synchronous_commit=off"
        );
        let started = command(
            as_postgres,
            &pg_ctl,
            &["-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start"],
        )
        .output();
        if started.is_ok_and(|o| o.status.success()) {
            return port;
        }
    }
    panic!("PostgreSQL did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
}

/// The loop that stops the cluster and deletes `dir` once this process is gone; never waited for.
fn spawn_watchdog(pg_ctl: &Path, as_postgres: bool, data: &str, dir: &str) {
    let runuser = if as_postgres { "runuser -u postgres -- " } else { "" };
    let script = format!(
        "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; \
         {runuser}\"$2\" -D \"$3\" stop -m immediate -w >/dev/null 2>&1; rm -rf \"$4\""
    );
    let pg_ctl = pg_ctl.to_string_lossy().into_owned();
    // Never waited for: it must outlive this process.
    Command::new("sh")
        .args(["-c", &script, "ward-store-pg-watchdog", &std::process::id().to_string(), &pg_ctl, data, dir])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .expect("spawn the cluster's watchdog");
}
