//! The cluster, as the webhook's decisions see it: an index of what the cluster rules read,
//! maintained from watch events, behind the core's read-only [`ClusterView`]. This module and
//! its children do the network I/O; the rules themselves are pure and live in
//! [`bgppeer_core::admission::cluster`].
//!
//! - `watch`: kube-runtime watchers that feed the index (I/O);
//! - [`index`]: the index itself (pure data, updated by events, read by requests);
//! - `live`: the GET that confirms a missing filter before denying (the watches lag);
//! - [`Checker`]: the three together, as the webhook server uses them.
//!
//! The cluster never makes the webhook fail closed: when the watches are not synced or the API
//! server cannot be reached, the checks are skipped with one warning ([`SkipReason`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use kube::Client;
use serde_json::Value;
use tokio::time::Instant;

use bgppeer_core::admission::Confirmation;
use bgppeer_core::admission::cluster::{Findings, SkipReason, rules};
use bgppeer_core::bgppeer::ApiGroup;

pub mod api_error;
pub mod index;
pub(crate) mod live;
pub(crate) mod resources;
pub(crate) mod snapshot;
pub mod status;
pub(crate) mod watch;

pub use bgppeer_core::admission::cluster::ClusterView;
pub use index::Index;

use index::Source;
use status::SourceStatus;

/// The default namespace of the password Secrets: where the Tigera operator runs calico-node.
pub(crate) const DEFAULT_CALICO_NAMESPACE: &str = "calico-system";

/// How the cluster checks connect and what they watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// A kubeconfig file; `None` finds one as kubectl does (`KUBECONFIG`, `~/.kube/config`),
    /// else uses the pod's service account.
    pub kubeconfig: Option<PathBuf>,
    /// Whether to check password Secrets (needs read access to Secrets in the namespace).
    pub password_checks: bool,
    /// The namespace calico-node reads BGP password Secrets from.
    pub calico_namespace: String,
}

/// Why the cluster checks cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No kubeconfig or service account, or one that cannot be read or used.
    #[error(transparent)]
    Discovery(#[from] crate::kubeconfig::DiscoveryError),
    /// The client cannot be built from the configuration.
    #[error("cannot create the Kubernetes client")]
    Client(#[from] kube::Error),
}

/// The cluster checks as the webhook runs them: the index, its watches and live lookups. Cheap
/// to clone; the watches stop when the last clone is dropped.
#[derive(Clone)]
pub struct Checker {
    index: watch::Shared,
    client: Client,
    _tasks: Arc<watch::Tasks>,
}

impl fmt::Debug for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checker")
            .field("sources", &self.statuses())
            .finish_non_exhaustive()
    }
}

impl Checker {
    /// Builds the client from the settings and starts the watches (on the current Tokio
    /// runtime). Returns at once: the index fills in the background.
    pub async fn connect(settings: &Settings) -> Result<Self, ConnectError> {
        // Found as kubectl finds it, as `audit` and `explain` do.
        let (config, _origin) =
            crate::kubeconfig::discover(settings.kubeconfig.as_deref(), None).await?;
        let client = Client::try_from(config)?;
        Ok(Self::start(client, settings))
    }

    /// Starts the watches with an existing client.
    pub(crate) fn start(client: Client, settings: &Settings) -> Self {
        let namespace = settings
            .password_checks
            .then_some(settings.calico_namespace.as_str());
        let index = Arc::new(RwLock::new(Index::new(namespace)));
        let tasks = watch::start(&client, &index, namespace);
        Self {
            index,
            client,
            _tasks: Arc::new(tasks),
        }
    }

    /// The index, read-locked: the [`ClusterView`] a decision reads. Hold it only for the
    /// decision (never across an `.await`): the watches wait for it to apply events.
    pub fn view(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state of every watch, by name.
    pub fn statuses(&self) -> Vec<(String, SourceStatus)> {
        self.view().statuses()
    }

    /// Asks the API server about the filters a decision waits for, by `deadline`: `Ok` with the
    /// names no served group has, or why the API server could not tell (a timeout included).
    pub(crate) async fn confirm(
        &self,
        confirmation: &Confirmation,
        deadline: Instant,
    ) -> Result<Vec<String>, SkipReason> {
        let names: Vec<String> = confirmation
            .filters()
            .into_iter()
            .map(str::to_owned)
            .collect();
        match tokio::time::timeout_at(deadline, self.missing_filters(names)).await {
            Ok(answer) => answer,
            Err(_) => Err(SkipReason::Timeout),
        }
    }

    /// The cluster's findings about one BGPPeer object (of the group its `apiVersion` names,
    /// `crd.projectcalico.org/v1` otherwise), outside an admission decision (for tools such as an
    /// audit of stored peers, and tests), finishing by `deadline`.
    pub async fn check(&self, object: &Value, deadline: Instant) -> Findings {
        let group = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .and_then(ApiGroup::from_api_version)
            .unwrap_or(ApiGroup::CrdV1);
        let peer = bgppeer_core::bgppeer::validate(group, object).peer;
        let checked = rules::check(&peer, object, &*self.view());
        if checked.unconfirmed.is_empty() {
            return checked.findings;
        }
        let mut names: Vec<String> = Vec::new();
        for miss in &checked.unconfirmed {
            if !names.contains(&miss.name) {
                names.push(miss.name.clone());
            }
        }
        match tokio::time::timeout_at(deadline, self.missing_filters(names)).await {
            Ok(Ok(missing)) => {
                let confirmed: Vec<rules::FilterMiss> = checked
                    .unconfirmed
                    .into_iter()
                    .filter(|miss| missing.contains(&miss.name))
                    .collect();
                rules::resolve(checked.findings, &confirmed)
            }
            Ok(Err(reason)) => Findings::skipped(reason),
            Err(_) => Findings::skipped(SkipReason::Timeout),
        }
    }

    /// The client the watches use.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The names, of `names`, that no served API group has a BGPFilter of (one GET each).
    pub(crate) async fn missing_filters(
        &self,
        names: Vec<String>,
    ) -> Result<Vec<String>, SkipReason> {
        let resources: Vec<_> = {
            let index = self.view();
            resources::GROUPS
                .into_iter()
                .filter(|group| {
                    index.status(Source::Filters(*group)) != Some(&SourceStatus::Absent)
                })
                .map(resources::bgpfilters)
                .collect()
        };
        let mut missing = Vec::new();
        for name in names {
            if !live::filter_exists(&self.client, &resources, &name).await? {
                missing.push(name);
            }
        }
        Ok(missing)
    }
}
