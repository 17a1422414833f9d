//! `ward init` and the first-run path of `ward serve`: the master key file, the store, the
//! deployment record and the bootstrap admin key.
//!
//! A data directory remembers which store and deployment it belongs to (`deployment.toml`), so
//! `ward serve --data DIR` finds a PostgreSQL deployment without `--store`, and a data directory
//! pointed at another deployment's store (or an empty one) is refused before anything is written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use ward_core::{MasterKey, OsSecrets, SourceRng};
use ward_engine::{Call, Engine, NewKey};
use ward_server::SCOPE_ADMIN;
use ward_store::Store;
use zeroize::Zeroizing;

use crate::config::Config;

/// A running deployment's engine, and how it was reached.
pub struct Opened {
    /// The engine to serve.
    pub engine: Engine,
    /// The bootstrap admin key, when this call initialised the deployment.
    pub admin_key: Option<Zeroizing<String>>,
    /// The store's URL.
    pub store: String,
}

/// What a data directory remembers of its deployment.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Membership {
    /// The store URL the deployment lives in.
    store: String,
    /// The deployment's id, as recorded in that store.
    deployment: String,
}

fn membership_path(cfg: &Config) -> PathBuf {
    cfg.data.join("deployment.toml")
}

fn write_private(path: &Path, contents: &[u8], create_new: bool) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if create_new {
        opts.create_new(true);
    } else {
        opts.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

fn read_membership(cfg: &Config) -> Result<Option<Membership>> {
    let path = membership_path(cfg);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn remember(cfg: &Config, store: &str, deployment: &str) -> Result<()> {
    let m = Membership { store: store.to_string(), deployment: deployment.to_string() };
    let text = format!(
        "# Written by ward: the deployment this data directory belongs to.\n{}",
        toml::to_string(&m).context("writing deployment.toml")?
    );
    write_private(&membership_path(cfg), text.as_bytes(), false)
}

fn read_master_key(path: &Path) -> Result<MasterKey> {
    let text =
        Zeroizing::new(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!("{} is readable by other users (mode {mode:o}); run `chmod 600` on it", path.display());
        }
    }
    MasterKey::from_file_contents(&text).with_context(|| format!("reading {}", path.display()))
}

fn create_data_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

async fn open_store(url: &str) -> Result<Arc<dyn Store>> {
    ward_store::open(url)
        .await
        .with_context(|| format!("opening the store at {}", ward_store::redact_url(url)))
}

async fn engine(cfg: &Config, store: Arc<dyn Store>, master: &MasterKey, background: bool) -> Result<Engine> {
    Engine::builder(store, master)
        .policy(cfg.policy.clone())
        .default_issuer(cfg.default_issuer())
        .background(background)
        .log_events(background)
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Creates a new deployment: data directory, master key file (0600), store, deployment record,
/// bootstrap admin key. Refuses if a master key file exists or the store already holds a
/// deployment.
pub async fn init(cfg: &Config, background: bool) -> Result<Opened> {
    let path = cfg.master_key_path();
    if path.exists() {
        bail!("{} already exists: this deployment is initialised; refusing to overwrite it", path.display());
    }
    create_data_dir(&cfg.data)?;
    let store = open_store(&cfg.store).await?;
    if store.deployment().await?.is_some() || store.count_api_keys().await? > 0 {
        bail!(
            "the store at {} already holds a deployment: refusing to initialise over it (to add a node to an \
             existing deployment, copy its master.key into the data directory and start with --store)",
            ward_store::redact_url(&cfg.store)
        );
    }
    let master = MasterKey::generate(&mut SourceRng(&OsSecrets));
    write_private(&path, master.to_file_contents().as_bytes(), true)?;
    let engine = engine(cfg, store, &master, background).await?;
    remember(cfg, &cfg.store, engine.deployment_id())?;
    let req = NewKey {
        subject: "ward-admin".into(),
        name: Some("bootstrap admin key".into()),
        scopes: vec![SCOPE_ADMIN.into()],
        ..NewKey::default()
    };
    let (_, minted) = engine
        .issue_key(req, &Call::by("system:init"))
        .await
        .map_err(|e| anyhow::anyhow!("issuing the admin key: {e}"))?;
    // The key's one copy goes to a file only its owner reads, never to the log: service managers
    // keep stdout, so it is printed only to a terminal (`main.rs`) (issue 9).
    let key_file = admin_key_path(cfg);
    write_private(&key_file, format!("{}\n", minted.token.as_str()).as_bytes(), false)?;
    Ok(Opened { engine, admin_key: Some(minted.token), store: cfg.store.clone() })
}

/// Where the first run leaves the bootstrap admin key: `admin.key` (0600) in the data directory.
pub fn admin_key_path(cfg: &Config) -> PathBuf {
    cfg.data.join("admin.key")
}

/// Opens an existing deployment, or initialises a new one when the data directory has no master
/// key. The store is the one given, else the one the data directory remembers.
pub async fn open_or_init(cfg: &Config) -> Result<Opened> {
    let path = cfg.master_key_path();
    let remembered = read_membership(cfg)?;
    let url = match (&remembered, cfg.store_given) {
        (Some(m), false) => m.store.clone(),
        _ => cfg.store.clone(),
    };
    if !path.exists() {
        return init(&Config { store: url, ..cfg.clone() }, true).await;
    }
    let master = read_master_key(&path)?;
    let store = open_store(&url).await?;
    if let Some(m) = &remembered {
        let found = store.deployment().await?;
        if found.as_ref().map(|d| d.id.as_str()) != Some(m.deployment.as_str()) {
            bail!(
                "{} belongs to deployment {} in {}, but the store at {} holds {}: refusing to start (nothing was \
                 written); start without --store, or with the deployment's own store",
                cfg.data.display(),
                m.deployment,
                ward_store::redact_url(&m.store),
                ward_store::redact_url(&url),
                found.map_or_else(|| "no deployment".to_string(), |d| format!("deployment {}", d.id))
            );
        }
    }
    let engine = engine(cfg, store, &master, true).await?;
    if remembered.is_none() {
        remember(cfg, &url, engine.deployment_id())?;
    }
    Ok(Opened { engine, admin_key: None, store: url })
}
