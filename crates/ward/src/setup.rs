//! `ward init` and the first-run path of `ward serve`: the master key file, the store and the
//! bootstrap admin key.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ward_core::{MasterKey, OsSecrets, SourceRng, SystemClock};
use ward_server::keys::{self, CreateKey};
use ward_server::{AppState, SCOPE_ADMIN};
use ward_store::Store;
use zeroize::Zeroizing;

use crate::config::Config;

/// The state of a data directory plus store.
pub struct Opened {
    /// The app state to serve.
    pub state: AppState,
    /// The bootstrap admin key, when this call initialised the deployment.
    pub admin_key: Option<Zeroizing<String>>,
}

fn write_master_key(path: &Path, key: &MasterKey) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(key.to_file_contents().as_bytes())?;
    f.sync_all()?;
    Ok(())
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

async fn open_store(cfg: &Config) -> Result<Arc<dyn Store>> {
    ward_store::open(&cfg.store)
        .await
        .with_context(|| format!("opening the store at {}", ward_store::redact_url(&cfg.store)))
}

fn state(cfg: &Config, store: Arc<dyn Store>, master: &MasterKey) -> AppState {
    AppState::new(store, Arc::new(SystemClock), Arc::new(OsSecrets), master, cfg.server.clone())
}

/// Creates a new deployment: data directory, master key file (0600), store, bootstrap admin key.
/// Refuses if a master key file exists or the store already holds keys.
pub async fn init(cfg: &Config) -> Result<Opened> {
    let path = cfg.master_key_path();
    if path.exists() {
        bail!("{} already exists: this deployment is initialised; refusing to overwrite it", path.display());
    }
    create_data_dir(&cfg.data)?;
    let store = open_store(cfg).await?;
    if store.count_api_keys().await? > 0 {
        bail!(
            "the store at {} already holds keys: refusing to initialise over it (to add a node to an existing \
             deployment, copy its master.key into the data directory)",
            ward_store::redact_url(&cfg.store)
        );
    }
    let master = MasterKey::generate(&mut SourceRng(&OsSecrets));
    write_master_key(&path, &master)?;
    let state = state(cfg, store, &master);
    let req = CreateKey {
        subject: "ward-admin".into(),
        name: Some("bootstrap admin key".into()),
        scopes: vec![SCOPE_ADMIN.into()],
        ..CreateKey::default()
    };
    let (_, minted) =
        keys::issue(&state, req).await.map_err(|e| anyhow::anyhow!("issuing the admin key: {e:?}"))?;
    Ok(Opened { state, admin_key: Some(minted.token) })
}

/// Opens an existing deployment, or initialises a new one when the data directory has no master
/// key and the store is empty.
pub async fn open_or_init(cfg: &Config) -> Result<Opened> {
    let path = cfg.master_key_path();
    if !path.exists() {
        return init(cfg).await;
    }
    let master = read_master_key(&path)?;
    let store = open_store(cfg).await?;
    Ok(Opened { state: state(cfg, store, &master), admin_key: None })
}
