//! The edge's live configuration: one immutable [`Snapshot`] (config plus the page cache built from
//! it) behind an `ArcSwap`. A reload validates the whole new file and builds the whole new snapshot
//! first, then swaps one pointer; a request holds the snapshot it started with, so nothing is ever
//! half-applied and in-flight requests are not disturbed. Certificate files are read again at
//! every reload, so rotating them on disk and reloading is how certificates are renewed. A bad file changes nothing, and so
//! does one that changes what only a restart can (listeners, threads, `redis.url`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use sale::Config;
use sale::config::reload::Component;
use sale::config::{ConfigError, Environment};

use crate::limits::Limits;
use crate::page::{PageCache, PageError};
use crate::tls::certificates::{CertificateError, Certificates};
use crate::upstreams::origin_tls::{self, OriginTrust};

/// Everything derived from one config file.
pub struct Snapshot {
    /// The validated config.
    pub config: Config,
    /// The static files it names.
    pub page: PageCache,
    /// The frequency caps it sets; carried over from the previous snapshot when unchanged, so a
    /// reload does not forgive everyone.
    pub limits: Arc<Limits>,
    /// The HTTPS certificates, read from their files at this load (`[edge.tls]` only).
    pub certificates: Option<Arc<Certificates>>,
    /// How origins reached over TLS are verified, by address.
    pub origin_trust: HashMap<SocketAddr, Arc<OriginTrust>>,
    /// Counts successful loads, starting at 1; shown to operators.
    pub version: u64,
    /// When it was loaded, Unix ms.
    pub loaded_at: u64,
}

/// Why a config could not be (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The static folder it names cannot be served.
    #[error("edge.static_dir: {0}")]
    Page(#[from] PageError),
    /// A listener could not be set up.
    #[error("listener: {0}")]
    Listener(String),
    /// A certificate of `[edge.tls]` cannot serve, or an origin's CA cannot be read; each
    /// problem names its file.
    #[error("certificates: {}", problems(.0))]
    Certificates(Vec<CertificateError>),
}

/// Unix seconds of `millis`, as certificates count time.
pub fn unix_secs(millis: u64) -> i64 {
    sale::saturating::to_i64(millis / 1000)
}

fn problems(list: &[CertificateError]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The current snapshot and where to reload it from.
pub struct Live {
    path: PathBuf,
    env: Environment,
    current: ArcSwap<Snapshot>,
    reload_lock: std::sync::Mutex<()>,
}

fn build(config: Config, version: u64, previous: Option<&Snapshot>) -> Result<Snapshot, LoadError> {
    let page = PageCache::load(&config.edge.static_dir)?;
    let certificates = match &config.edge.tls {
        Some(tls) => Some(Arc::new(
            Certificates::load(tls, unix_secs(sale::time::now_millis()))
                .map_err(LoadError::Certificates)?,
        )),
        None => None,
    };
    let origin_trust = origin_tls::load(&config.origins).map_err(LoadError::Certificates)?;
    let limits = match previous {
        Some(old) if *old.limits.config() == config.edge.limits => old.limits.clone(),
        _ => Arc::new(Limits::new(config.edge.limits)),
    };
    Ok(Snapshot {
        config,
        page,
        limits,
        certificates,
        origin_trust,
        version,
        loaded_at: sale::time::now_millis(),
    })
}

impl Live {
    /// Loads the file for the first time.
    pub fn load(path: &Path, env: Environment) -> Result<Self, LoadError> {
        let snapshot = build(Config::load(path, &env)?, 1, None)?;
        Ok(Self {
            path: path.to_owned(),
            env,
            current: ArcSwap::from_pointee(snapshot),
            reload_lock: std::sync::Mutex::new(()),
        })
    }

    /// The snapshot in force.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Re-reads the file; on success swaps it in and returns the new version, on failure keeps
    /// the old snapshot and returns every problem.
    pub fn reload(&self) -> Result<u64, LoadError> {
        // Two concurrent reloads (SIGHUP and the admin API) must not both claim one version.
        let _serialised = self
            .reload_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.current.load_full();
        let version = current.version + 1;
        let next = current
            .config
            .reloaded(Config::load(&self.path, &self.env), Component::Edge)
            .map_err(LoadError::from)
            .and_then(|config| build(config, version, Some(&current)));
        match next {
            Ok(snapshot) => {
                self.current.store(Arc::new(snapshot));
                tracing::info!(version, "config reloaded");
                Ok(version)
            }
            Err(e) => {
                tracing::warn!(error = %e, "config reload refused; the running config stays");
                Err(e)
            }
        }
    }
}
