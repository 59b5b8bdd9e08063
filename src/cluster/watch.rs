//! The watches: kube-runtime watchers of BGPFilters, BGPPeers and BGPConfigurations (both API
//! groups), of Node metadata, and, with password checks, of the Secrets in the Calico namespace.
//! This module does the network I/O; each event is reduced here (outside any lock) to the
//! [`Item`] the [`Index`] keeps, then applied under the index's write lock.
//!
//! Each watch runs in its own task with the watcher's default backoff and records its
//! [`SourceStatus`] in the index. A relist (the initial list, or after the watch lost track) is
//! collected and swapped in at once when it completes, so that a request never sees half a list.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard};

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Node, Secret};
use kube::core::{DynamicObject, PartialObjectMeta};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde_json::Value;
use tokio::task::AbortHandle;

use bgppeer_core::explain::nodes;

use super::index::{BgpConfiguration, Index, Item, KeyLengths, Source, StoredPeer};
use super::resources;
use super::status::SourceStatus;

/// The index as the watches and the requests share it.
pub(crate) type Shared = Arc<RwLock<Index>>;

/// The watch tasks; they stop when this is dropped.
pub(crate) struct Tasks(Vec<AbortHandle>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl fmt::Debug for Tasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tasks({})", self.0.len())
    }
}

/// Starts every watch on the current Tokio runtime, feeding `index`; `secrets_namespace`
/// enables the watch of the password Secrets (the index must have been made with it too).
pub(crate) fn start(client: &Client, index: &Shared, secrets_namespace: Option<&str>) -> Tasks {
    let mut tasks = Vec::new();
    for group in resources::GROUPS {
        let api = Api::<DynamicObject>::all_with(client.clone(), &resources::bgpfilters(group));
        tasks.push(spawn(index, Source::Filters(group), api, filter));
    }
    for group in resources::GROUPS {
        let api = Api::<DynamicObject>::all_with(client.clone(), &resources::bgppeers(group));
        tasks.push(spawn(index, Source::Peers(group), api, peer));
    }
    for group in resources::GROUPS {
        let resource = resources::bgpconfigurations(group);
        let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
        tasks.push(spawn(
            index,
            Source::BgpConfigurations(group),
            api,
            bgp_configuration,
        ));
    }
    let nodes = Api::<PartialObjectMeta<Node>>::all(client.clone());
    tasks.push(spawn(index, Source::Nodes, nodes, node));
    if let Some(namespace) = secrets_namespace {
        let secrets = Api::<Secret>::namespaced(client.clone(), namespace);
        tasks.push(spawn(index, Source::Secrets, secrets, secret));
    }
    Tasks(tasks)
}

fn write(index: &Shared) -> RwLockWriteGuard<'_, Index> {
    index.write().unwrap_or_else(PoisonError::into_inner)
}

/// Starts one watch, applying its events to the index.
fn spawn<K>(
    index: &Shared,
    source: Source,
    api: Api<K>,
    convert: fn(Source, &K) -> Option<Item>,
) -> AbortHandle
where
    K: Resource + Clone + fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let events = watcher(api, watcher::Config::default());
    spawn_events(index.clone(), source, events, convert)
}

/// Applies a stream of watch events to the index (the stream is the watcher's, or a test's).
pub(crate) fn spawn_events<K, S>(
    index: Shared,
    source: Source,
    events: S,
    convert: fn(Source, &K) -> Option<Item>,
) -> AbortHandle
where
    K: Resource + Send + 'static,
    S: Stream<Item = watcher::Result<watcher::Event<K>>> + Send + 'static,
{
    let task = tokio::spawn(async move {
        let mut events = std::pin::pin!(events.default_backoff());
        let mut relisting: Vec<Item> = Vec::new();
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::Init) => relisting.clear(),
                Ok(watcher::Event::InitApply(object)) => relisting.extend(convert(source, &object)),
                Ok(watcher::Event::InitDone) => {
                    let mut index = write(&index);
                    index.replace(source, std::mem::take(&mut relisting));
                    index.set_status(source, SourceStatus::Synced);
                }
                Ok(watcher::Event::Apply(object)) => {
                    if let Some(item) = convert(source, &object) {
                        write(&index).apply(source, item);
                    }
                }
                Ok(watcher::Event::Delete(object)) => {
                    if let Some(name) = object.meta().name.as_deref() {
                        write(&index).delete(source, name);
                    }
                }
                Err(error) => write(&index).failed(source, classify(&error)),
            }
        }
    });
    task.abort_handle()
}

/// A BGPFilter: its name.
pub(crate) fn filter(_: Source, object: &DynamicObject) -> Option<Item> {
    Some(Item::Filter(object.metadata.name.clone()?))
}

/// A BGPPeer: what the duplicate check compares (validated as its group's peer).
pub(crate) fn peer(source: Source, object: &DynamicObject) -> Option<Item> {
    let Source::Peers(group) = source else {
        return None;
    };
    let name = object.metadata.name.clone()?;
    let spec = object.data.get("spec").unwrap_or(&Value::Null);
    Some(Item::Peer(
        StoredPeer::from_spec(group, name, spec).with_uid(object.metadata.uid.clone()),
    ))
}

/// A BGPConfiguration, typed.
pub(crate) fn bgp_configuration(_: Source, object: &DynamicObject) -> Option<Item> {
    let name = object.metadata.name.clone()?;
    let spec = object.data.get("spec").unwrap_or(&Value::Null);
    Some(Item::BgpConfiguration(
        name,
        BgpConfiguration::from_spec(spec),
    ))
}

/// A Node: name, labels and the BGP addresses calico-node published in its annotations (the
/// addresses other nodes peer with; at most one per family, so memory stays bounded by the
/// number of nodes).
pub(crate) fn node(_: Source, object: &PartialObjectMeta<Node>) -> Option<Item> {
    let annotations = object.metadata.annotations.as_ref();
    let addresses = [nodes::CALICO_IPV4_ANNOTATION, nodes::CALICO_IPV6_ANNOTATION]
        .into_iter()
        .filter_map(|key| annotations?.get(key))
        .filter_map(|text| nodes::bgp_address(text))
        .collect();
    Some(Item::Node(
        object.metadata.name.clone()?,
        object.metadata.labels.clone().unwrap_or_default(),
        addresses,
    ))
}

/// A Secret: its name and the byte length of each key's value. The values are dropped with the
/// event: they are never stored, logged or returned.
pub(crate) fn secret(_: Source, secret: &Secret) -> Option<Item> {
    let (name, keys) = key_lengths(secret)?;
    Some(Item::Secret(name, keys))
}

/// A Secret's name and the byte length of each of its keys' values.
pub(crate) fn key_lengths(secret: &Secret) -> Option<(String, KeyLengths)> {
    let name = secret.metadata.name.clone()?;
    let mut keys: KeyLengths = secret
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

/// The state a watch error puts a source in.
fn classify(error: &watcher::Error) -> SourceStatus {
    match error {
        watcher::Error::InitialListFailed(error)
        | watcher::Error::WatchStartFailed(error)
        | watcher::Error::WatchFailed(error) => classify_client_error(error),
        watcher::Error::WatchError(status) if status.code == 404 => SourceStatus::Absent,
        other => SourceStatus::ApiError(other.to_string()),
    }
}

/// The state a client error puts a source in: 404 is "not served", other API answers are
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
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::with_causes;
    use super::*;
    use bgppeer_core::admission::cluster::{Address, ClusterView, ScopeKey};
    use bgppeer_core::bgppeer::ApiGroup;
    use std::time::Duration;

    fn bgppeer(name: &str, peer_ip: &str) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
            "metadata": {"name": name}, "spec": {"peerIP": peer_ip}
        }))
        .unwrap()
    }

    /// The events of a watch, relist included, reach the index; the source is synced when the
    /// list completes.
    #[tokio::test]
    async fn watch_events_update_the_index() {
        let index: Shared = Arc::new(RwLock::new(Index::new(None)));
        let source = Source::Peers(ApiGroup::CrdV1);
        let events = futures::stream::iter(vec![
            Ok(watcher::Event::Init),
            Ok(watcher::Event::InitApply(bgppeer("a", "10.0.0.1"))),
            Ok(watcher::Event::InitApply(bgppeer("b", "10.0.0.1"))),
            Ok(watcher::Event::InitDone),
            Ok(watcher::Event::Delete(bgppeer("a", "10.0.0.1"))),
            Ok(watcher::Event::Apply(bgppeer("c", "10.0.0.1:179"))),
        ]);
        let _task = spawn_events(index.clone(), source, events, peer);
        let at: Address = ("10.0.0.1".parse().unwrap(), 179);
        for _ in 0..100 {
            if index.read().unwrap().peers_at(&ScopeKey::Global, at) == ["b", "c"] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let index = index.read().unwrap();
        assert_eq!(index.peers_at(&ScopeKey::Global, at), ["b", "c"]);
        assert_eq!(index.status(source), Some(&SourceStatus::Synced));
    }

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
