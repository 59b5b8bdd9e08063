//! The watch caches: kube-runtime reflectors of BGPFilters and BGPPeers (both API groups) and
//! of Node metadata, and, with password checks, the key lengths of the Secrets in the Calico
//! namespace.
//!
//! Each cache runs in its own task with the watcher's default backoff and records its
//! [`SourceStatus`]; [`Caches::snapshot`] reads them all without waiting, so a request never
//! blocks on a cache.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Node, Secret};
use kube::core::{ApiResource, DynamicObject, PartialObjectMeta};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use tokio::task::AbortHandle;

use crate::explain::nodes::NodeInfo;

use super::resources;
use super::snapshot::{PeerEntry, SecretLengths, Snapshot};
use super::status::{self, SourceStatus};

/// Secret name → key → value length in bytes.
type LengthMap = BTreeMap<String, BTreeMap<String, usize>>;

/// The shared state of one cache.
#[derive(Clone, Debug)]
struct StatusCell(Arc<Mutex<SourceStatus>>);

impl StatusCell {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(SourceStatus::Pending)))
    }

    fn get(&self) -> SourceStatus {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records a state, logging only changes so that a retrying watch does not flood the log.
    fn set(&self, label: &str, next: SourceStatus) {
        let mut current = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if *current == next {
            return;
        }
        match &next {
            SourceStatus::Synced => tracing::info!(cache = label, "cache synced"),
            SourceStatus::Absent => {
                tracing::info!(cache = label, "resource not served (404); treated as empty")
            }
            SourceStatus::Unreachable(detail) | SourceStatus::ApiError(detail) => {
                tracing::warn!(cache = label, error = %detail, "cache cannot sync")
            }
            SourceStatus::Pending => {}
        }
        *current = next;
    }

    /// Records a watch error. A synced cache stays synced through reconnects (its contents may
    /// lag; live lookups cover that), except when the resource disappears (404).
    fn failed(&self, label: &str, error: &watcher::Error) {
        let next = classify(error);
        if next == SourceStatus::Absent || self.get() != SourceStatus::Synced {
            self.set(label, next);
        }
    }
}

/// The state a watch error puts a cache in.
fn classify(error: &watcher::Error) -> SourceStatus {
    match error {
        watcher::Error::InitialListFailed(error)
        | watcher::Error::WatchStartFailed(error)
        | watcher::Error::WatchFailed(error) => classify_client_error(error),
        watcher::Error::WatchError(status) if status.code == 404 => SourceStatus::Absent,
        other => SourceStatus::ApiError(other.to_string()),
    }
}

/// The state a client error puts a cache in: 404 is "not served", other API answers are
/// refusals, anything else means the API server was not reached.
pub(crate) fn classify_client_error(error: &kube::Error) -> SourceStatus {
    match error {
        kube::Error::Api(status) if status.code == 404 => SourceStatus::Absent,
        kube::Error::Api(status) => SourceStatus::ApiError(format!(
            "{} {}: {}",
            status.code, status.reason, status.message
        )),
        other => SourceStatus::Unreachable(with_causes(other)),
    }
}

/// An error described most specific cause first, then the chain that led to it:
/// `Connection refused (os error 111) (ServiceError: client error (Connect): tcp connect error)`.
/// The root cause is what the user needs in a (length-limited) warning; the chain is for the log.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut chain = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    let root = chain.pop().unwrap_or_default();
    // Each level's text often repeats its cause's; keep only what a level adds.
    let context: Vec<String> = chain
        .iter()
        .map(|level| level.replace(&format!(": {root}"), "").replace(&root, ""))
        .map(|level| level.trim_end_matches([':', ' ']).to_owned())
        .filter(|level| !level.is_empty())
        .collect();
    if context.is_empty() {
        root
    } else {
        format!("{root} ({})", context.join(": "))
    }
}

/// One reflector and its state.
struct Reflected<K: Resource + 'static>
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    label: String,
    store: Store<K>,
    status: StatusCell,
}

/// Where the password Secrets' key lengths are kept.
struct SecretCache {
    namespace: String,
    lengths: Arc<RwLock<LengthMap>>,
    status: StatusCell,
}

/// The running caches; cheap to clone. The watch tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct Caches {
    inner: Arc<Inner>,
}

struct Inner {
    filters: Vec<(ApiResource, Reflected<DynamicObject>)>,
    peers: Vec<Reflected<DynamicObject>>,
    nodes: Reflected<PartialObjectMeta<Node>>,
    secrets: Option<SecretCache>,
    tasks: Vec<AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl fmt::Debug for Caches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caches")
            .field("sources", &self.statuses())
            .finish()
    }
}

impl Caches {
    /// Starts every cache on the current Tokio runtime. `secrets_namespace` enables the
    /// password checks: the Secrets of that namespace are watched, keeping key lengths only.
    pub fn start(client: &Client, secrets_namespace: Option<&str>) -> Self {
        let mut tasks = Vec::new();
        let filters = resources::bgpfilters()
            .into_iter()
            .map(|resource| {
                let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
                let reflected = reflect(
                    resources::label(&resource),
                    resource.clone(),
                    watcher(api, watcher::Config::default()),
                    &mut tasks,
                );
                (resource, reflected)
            })
            .collect();
        let peers = resources::bgppeers()
            .into_iter()
            .map(|resource| {
                let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
                reflect(
                    resources::label(&resource),
                    resource,
                    watcher(api, watcher::Config::default()),
                    &mut tasks,
                )
            })
            .collect();
        let nodes = reflect(
            "nodes".to_owned(),
            (),
            watcher(
                Api::<PartialObjectMeta<Node>>::all(client.clone()),
                watcher::Config::default(),
            ),
            &mut tasks,
        );
        let secrets =
            secrets_namespace.map(|namespace| watch_secrets(client, namespace, &mut tasks));
        Self {
            inner: Arc::new(Inner {
                filters,
                peers,
                nodes,
                secrets,
                tasks,
            }),
        }
    }

    /// The state of every cache, by name.
    pub fn statuses(&self) -> Vec<(String, SourceStatus)> {
        let inner = &self.inner;
        let mut statuses: Vec<(String, SourceStatus)> = inner
            .filters
            .iter()
            .map(|(_, reflected)| reflected)
            .chain(&inner.peers)
            .map(|reflected| (reflected.label.clone(), reflected.status.get()))
            .collect();
        statuses.push((inner.nodes.label.clone(), inner.nodes.status.get()));
        if let Some(secrets) = &inner.secrets {
            statuses.push((
                format!("secrets in {}", secrets.namespace),
                secrets.status.get(),
            ));
        }
        statuses
    }

    /// The BGPFilter resources a live lookup should ask: those of groups the API server serves
    /// (or has not said it does not).
    pub fn filter_resources(&self) -> Vec<ApiResource> {
        self.inner
            .filters
            .iter()
            .filter(|(_, reflected)| reflected.status.get() != SourceStatus::Absent)
            .map(|(resource, _)| resource.clone())
            .collect()
    }

    /// What the caches hold now, without waiting for anything.
    pub fn snapshot(&self) -> Snapshot {
        let inner = &self.inner;
        let unavailable = status::availability(&self.statuses());
        if unavailable.is_some() {
            return Snapshot {
                unavailable,
                ..Snapshot::default()
            };
        }
        let filters = inner
            .filters
            .iter()
            .flat_map(|(_, reflected)| reflected.store.state())
            .filter_map(|filter| filter.metadata.name.clone())
            .collect();
        let mut peers: BTreeMap<String, PeerEntry> = BTreeMap::new();
        for peer in inner
            .peers
            .iter()
            .flat_map(|reflected| reflected.store.state())
        {
            let object = serde_json::json!({
                "metadata": {"name": peer.metadata.name},
                "spec": peer.data.get("spec"),
            });
            if let Some(entry) = PeerEntry::from_object(&object) {
                peers.entry(entry.name.clone()).or_insert(entry);
            }
        }
        let mut nodes: Vec<NodeInfo> = inner
            .nodes
            .store
            .state()
            .iter()
            .filter_map(|node| {
                Some(NodeInfo {
                    name: node.metadata.name.clone()?,
                    labels: node.metadata.labels.clone().unwrap_or_default(),
                    ..NodeInfo::default()
                })
            })
            .collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let secrets = inner.secrets.as_ref().map(|cache| SecretLengths {
            namespace: cache.namespace.clone(),
            secrets: cache
                .lengths
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        });
        Snapshot {
            unavailable: None,
            filters,
            peers: peers.into_values().collect(),
            nodes,
            secrets,
        }
    }
}

/// Starts a reflector fed by `events`, recording its state.
fn reflect<K, S>(
    label: String,
    dynamic_type: K::DynamicType,
    events: S,
    tasks: &mut Vec<AbortHandle>,
) -> Reflected<K>
where
    K: Resource + Clone + fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
    S: Stream<Item = watcher::Result<watcher::Event<K>>> + Send + 'static,
{
    let writer = reflector::store::Writer::new(dynamic_type);
    let store = writer.as_reader();
    let status = StatusCell::new();
    let cell = status.clone();
    let task_label = label.clone();
    let task = tokio::spawn(async move {
        let mut events = std::pin::pin!(events.default_backoff().reflect(writer));
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::InitDone) => cell.set(&task_label, SourceStatus::Synced),
                Ok(_) => {}
                Err(error) => cell.failed(&task_label, &error),
            }
        }
    });
    tasks.push(task.abort_handle());
    Reflected {
        label,
        store,
        status,
    }
}

/// Watches the Secrets of `namespace`, keeping only the byte length of each key's value. The
/// values are dropped as soon as each event is read: they are never stored, logged or returned.
fn watch_secrets(client: &Client, namespace: &str, tasks: &mut Vec<AbortHandle>) -> SecretCache {
    let api = Api::<Secret>::namespaced(client.clone(), namespace);
    let lengths = Arc::new(RwLock::new(LengthMap::new()));
    let status = StatusCell::new();
    let label = format!("secrets in {namespace}");
    let (shared, cell) = (lengths.clone(), status.clone());
    let task = tokio::spawn(async move {
        let mut events = std::pin::pin!(watcher(api, watcher::Config::default()).default_backoff());
        let mut relisting = LengthMap::new();
        while let Some(event) = events.next().await {
            let write = || shared.write().unwrap_or_else(PoisonError::into_inner);
            match event {
                Ok(watcher::Event::Init) => relisting.clear(),
                Ok(watcher::Event::InitApply(secret)) => {
                    if let Some((name, keys)) = key_lengths(&secret) {
                        relisting.insert(name, keys);
                    }
                }
                Ok(watcher::Event::InitDone) => {
                    *write() = std::mem::take(&mut relisting);
                    cell.set(&label, SourceStatus::Synced);
                }
                Ok(watcher::Event::Apply(secret)) => {
                    if let Some((name, keys)) = key_lengths(&secret) {
                        write().insert(name, keys);
                    }
                }
                Ok(watcher::Event::Delete(secret)) => {
                    if let Some(name) = &secret.metadata.name {
                        write().remove(name);
                    }
                }
                Err(error) => cell.failed(&label, &error),
            }
        }
    });
    tasks.push(task.abort_handle());
    SecretCache {
        namespace: namespace.to_owned(),
        lengths,
        status,
    }
}

/// A Secret's name and the byte length of each of its keys' values.
pub fn key_lengths(secret: &Secret) -> Option<(String, BTreeMap<String, usize>)> {
    let name = secret.metadata.name.clone()?;
    let mut keys: BTreeMap<String, usize> = secret
        .data
        .iter()
        .flatten()
        .map(|(key, value)| (key.clone(), value.0.len()))
        .collect();
    for (key, value) in secret.string_data.iter().flatten() {
        keys.entry(key.clone()).or_insert(value.len());
    }
    Some((name, keys))
}

#[cfg(test)]
mod tests {
    use super::with_causes;

    /// An error with an optional cause, shaped like hyper's and kube's wrappers.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|cause| cause as _)
        }
    }

    #[test]
    fn root_cause_comes_first_then_the_context_each_level_adds() {
        let refused = Layer("Connection refused (os error 111)", None);
        let connect = Layer(
            "tcp connect error: Connection refused (os error 111)",
            Some(Box::new(refused)),
        );
        let service = Layer(
            "ServiceError: client error (Connect)",
            Some(Box::new(connect)),
        );
        assert_eq!(
            with_causes(&service),
            "Connection refused (os error 111) (ServiceError: client error (Connect): tcp connect error)"
        );
        assert_eq!(with_causes(&Layer("timed out", None)), "timed out");
    }
}
