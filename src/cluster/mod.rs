//! Cluster-aware checks: what only the cluster knows about a BGPPeer (do its filters exist, is
//! its password Secret there and short enough for BGP, does its node exist, do its selectors
//! match any node, does another peer already describe the same session).
//!
//! The rules are pure over a [`Snapshot`] ([`check`]); the I/O is kept apart:
//!
//! - [`caches`]: kube-runtime reflectors that keep the snapshot's data current;
//! - [`live`]: the GET that confirms a missing filter before denying (caches lag);
//! - [`Checker`]: the two together, as the webhook server calls them, bounded by a deadline.
//!
//! The cluster never makes the webhook fail closed: when the caches are not synced or the API
//! server cannot be reached, the checks are skipped with one warning ([`SkipReason`]).

use std::fmt;
use std::path::PathBuf;

use kube::Client;
use serde_json::Value;
use tokio::time::Instant;

pub mod caches;
pub mod check;
pub mod findings;
pub mod live;
pub mod resources;
pub mod snapshot;
pub mod status;

pub use caches::Caches;
pub use findings::{Findings, SkipReason};
pub use snapshot::Snapshot;

/// The default namespace of the password Secrets: where the Tigera operator runs calico-node.
pub const DEFAULT_CALICO_NAMESPACE: &str = "calico-system";

/// How the cluster checks connect and what they watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// A kubeconfig file; `None` uses the in-cluster service account (or `KUBECONFIG`).
    pub kubeconfig: Option<PathBuf>,
    /// Whether to check password Secrets (needs read access to Secrets in the namespace).
    pub password_checks: bool,
    /// The namespace calico-node reads BGP password Secrets from.
    pub calico_namespace: String,
}

/// Why the cluster checks cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The kubeconfig cannot be read or used.
    #[error("cannot use the kubeconfig {path}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (printed after the message, as its cause).
        source: kube::config::KubeconfigError,
    },
    /// Neither in-cluster configuration nor a default kubeconfig was found.
    #[error(
        "cannot find the API server: not running in a pod and no kubeconfig; pass --kubeconfig"
    )]
    Infer(#[from] kube::config::InferConfigError),
    /// The client cannot be built from the configuration.
    #[error("cannot create the Kubernetes client")]
    Client(#[from] kube::Error),
}

/// The cluster checks as the webhook runs them: caches plus live lookups. Cheap to clone.
#[derive(Clone)]
pub struct Checker {
    caches: Caches,
    client: Client,
}

impl fmt::Debug for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checker")
            .field("caches", &self.caches)
            .finish_non_exhaustive()
    }
}

impl Checker {
    /// Builds the client from the settings and starts the caches (on the current Tokio
    /// runtime). Returns at once: the caches sync in the background.
    pub async fn connect(settings: &Settings) -> Result<Self, ConnectError> {
        let config = match &settings.kubeconfig {
            Some(path) => {
                let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|source| {
                    ConnectError::Kubeconfig {
                        path: path.clone(),
                        source,
                    }
                })?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                    .await
                    .map_err(|source| ConnectError::Kubeconfig {
                        path: path.clone(),
                        source,
                    })?
            }
            None => kube::Config::infer().await?,
        };
        let client = Client::try_from(config)?;
        Ok(Self::start(client, settings))
    }

    /// Starts the caches with an existing client.
    pub fn start(client: Client, settings: &Settings) -> Self {
        let namespace = settings
            .password_checks
            .then_some(settings.calico_namespace.as_str());
        Self {
            caches: Caches::start(&client, namespace),
            client,
        }
    }

    /// The caches (their states, a snapshot).
    pub fn caches(&self) -> &Caches {
        &self.caches
    }

    /// Checks a BGPPeer being created or updated against the cluster, finishing by
    /// `deadline`: a live lookup still running then is abandoned and the checks skipped.
    pub async fn check(&self, object: &Value, deadline: Instant) -> Findings {
        let snapshot = self.caches.snapshot();
        let checked = check::check(object, &snapshot);
        if checked.unconfirmed.is_empty() {
            return checked.findings;
        }
        let confirming = self.confirm_missing(&checked.unconfirmed);
        match tokio::time::timeout_at(deadline, confirming).await {
            Ok(Ok(missing)) => check::resolve(checked.findings, &missing),
            Ok(Err(reason)) => Findings::skipped(reason),
            Err(_) => Findings::skipped(SkipReason::Timeout),
        }
    }

    /// The misses a live GET confirms (the filters created since the cache last heard).
    async fn confirm_missing(
        &self,
        misses: &[check::FilterMiss],
    ) -> Result<Vec<check::FilterMiss>, SkipReason> {
        let resources = self.caches.filter_resources();
        let mut missing = Vec::new();
        for miss in misses {
            if !live::filter_exists(&self.client, &resources, &miss.name).await? {
                missing.push(miss.clone());
            }
        }
        Ok(missing)
    }
}
