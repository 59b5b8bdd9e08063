//! The cluster index: exactly what the cluster rules read, kept current by watch events and
//! indexed for the questions they ask. Pure data, no I/O: `super::watch` feeds it.
//!
//! - BGPFilter names, per API group;
//! - stored BGPPeers as [`StoredPeer`]s (scope key and parsed address, derived once per event),
//!   per API group, and an index by address for the duplicate check; a peer served by both
//!   groups counts once (the `crd.projectcalico.org` copy, as calico-node reads it);
//! - Node names and labels, with a generation counter bumped when a node's labels change (or a
//!   node comes or goes), and a bounded cache of which nodes each selector matches, keyed by the
//!   selector's canonical text and valid for one generation;
//! - each Node's BGP addresses (calico-node's address annotations: at most one per family), and
//!   an index from address to node for the mesh check;
//! - the key lengths of the password Secrets (opt-in), never their values;
//! - the BGPConfigurations of both groups, typed ([`BgpConfiguration`]); `default` decides the
//!   node-to-node mesh, unknown until one of the two sources has synced;
//! - the state of each watch, and from it whether the view can be trusted.
//!
//! A request reads the index under a read lock, without copying or re-parsing anything: each
//! [`ClusterView`] question is a map lookup, except a selector not yet cached for the current
//! node generation, which is evaluated once against every node.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use bgppeer_core::admission::cluster::subject::scope_key;
use bgppeer_core::admission::cluster::{
    Address, Availability, ClusterView, Mesh, NodeMatch, ScopeKey, SelectorRef, SkipReason,
    rules::SMALL_MATCH,
};
use bgppeer_core::bgpconfig;
use bgppeer_core::bgppeer::{self, ApiGroup, Peer, api};

use super::status::{self, SourceStatus};

/// Node labels.
pub type Labels = BTreeMap<String, String>;

/// Secret key → value length in bytes.
pub(crate) type KeyLengths = BTreeMap<String, usize>;

/// At most this many selectors' matches are cached; when full, entries of older node
/// generations are dropped first, then all (the selectors come from requests: the cache must be
/// bounded).
pub(crate) const MAX_CACHED_SELECTORS: usize = 1024;

/// The slot of an API group in the per-group tables: `crd.projectcalico.org` first, so that its
/// copy of an object served by both groups is the one used.
fn slot(group: ApiGroup) -> usize {
    match group {
        ApiGroup::CrdV1 => 0,
        ApiGroup::V3 => 1,
    }
}

/// One watched collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// BGPFilters of one group.
    Filters(ApiGroup),
    /// BGPPeers of one group.
    Peers(ApiGroup),
    /// BGPConfigurations of one group.
    BgpConfigurations(ApiGroup),
    /// Nodes (metadata only).
    Nodes,
    /// The Secrets of the password namespace.
    Secrets,
}

/// One object as the index keeps it.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A BGPFilter: its name.
    Filter(String),
    /// A BGPPeer.
    Peer(StoredPeer),
    /// A BGPConfiguration and its name.
    BgpConfiguration(String, BgpConfiguration),
    /// A Node: name, labels and BGP addresses (at most one per address family).
    Node(String, Labels, Vec<IpAddr>),
    /// A Secret: name and the byte length of each key's value.
    Secret(String, KeyLengths),
}

/// A stored BGPPeer: what the duplicate check compares, and (for the audit of stored peers) the
/// object itself, reduced to its group, name, uid and spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPeer {
    /// `metadata.name`.
    pub name: String,
    /// Which nodes it applies to (`None` when its scope fields are invalid).
    pub(crate) scope: Option<ScopeKey>,
    /// The remote end, when `peerIP` is set and valid.
    pub(crate) address: Option<Address>,
    /// The API group of this copy.
    pub group: ApiGroup,
    /// `metadata.uid`, when known.
    pub uid: Option<String>,
    /// The object as the audit validates it: `apiVersion`, `kind`, `metadata.name` and `spec`
    /// (shared: cloning a stored peer does not copy it).
    pub object: Arc<Value>,
}

impl StoredPeer {
    /// A stored peer from its name and `spec` in `group`, validated into the typed peer (once
    /// per watch event) and reduced with the same derivation as the object under review
    /// ([`scope_key`], [`Peer::peer_target`]). A stored peer whose scope is invalid has no
    /// scope: it cannot be anyone's duplicate.
    pub fn from_spec(group: ApiGroup, name: String, spec: &Value) -> Self {
        let object = serde_json::json!({
            "apiVersion": group.api_version(),
            "kind": bgppeer::api::BGP_PEER_KIND,
            "metadata": {"name": name},
            "spec": spec,
        });
        let peer: Peer = bgppeer::validate(group, &object).peer;
        Self {
            scope: scope_key(&peer),
            address: peer.peer_target(),
            name,
            group,
            uid: None,
            object: Arc::new(object),
        }
    }

    /// The same peer with its `metadata.uid`.
    pub fn with_uid(mut self, uid: Option<String>) -> Self {
        self.uid = uid;
        self
    }
}

/// What the index keeps of a `BGPConfiguration` (the core's typed fields).
pub use bgpconfig::BgpConfiguration;

/// A source's name and state.
#[derive(Clone, Debug)]
struct SourceState {
    source: Source,
    label: String,
    status: SourceStatus,
}

/// Per-group copies of one named object.
type PerGroup<T> = [Option<T>; 2];

fn first<T>(copies: &PerGroup<T>) -> Option<&T> {
    copies.iter().flatten().next()
}

/// The cluster index. See the module documentation.
#[derive(Debug)]
pub struct Index {
    sources: Vec<SourceState>,
    unavailable: Option<SkipReason>,
    password_namespace: Option<String>,
    filters: HashMap<String, [bool; 2]>,
    peers: HashMap<String, PerGroup<StoredPeer>>,
    by_address: HashMap<Address, BTreeMap<String, ScopeKey>>,
    nodes: BTreeMap<String, Labels>,
    node_addresses: HashMap<String, Vec<IpAddr>>,
    by_ip: HashMap<IpAddr, String>,
    node_generation: u64,
    selectors: Mutex<HashMap<String, (u64, NodeMatch)>>,
    secrets: HashMap<String, KeyLengths>,
    bgp_configurations: BTreeMap<String, PerGroup<BgpConfiguration>>,
}

impl Index {
    /// An empty index whose every source is pending; `password_namespace` enables the
    /// password checks (and the Secrets source).
    pub fn new(password_namespace: Option<&str>) -> Self {
        let mut sources = Vec::new();
        for group in [ApiGroup::CrdV1, ApiGroup::V3] {
            sources.push(Source::Filters(group));
        }
        for group in [ApiGroup::CrdV1, ApiGroup::V3] {
            sources.push(Source::Peers(group));
        }
        for group in [ApiGroup::CrdV1, ApiGroup::V3] {
            sources.push(Source::BgpConfigurations(group));
        }
        sources.push(Source::Nodes);
        if password_namespace.is_some() {
            sources.push(Source::Secrets);
        }
        let sources: Vec<SourceState> = sources
            .into_iter()
            .map(|source| SourceState {
                source,
                label: label(source, password_namespace),
                status: SourceStatus::Pending,
            })
            .collect();
        let mut index = Self {
            sources,
            unavailable: None,
            password_namespace: password_namespace.map(str::to_owned),
            filters: HashMap::new(),
            peers: HashMap::new(),
            by_address: HashMap::new(),
            nodes: BTreeMap::new(),
            node_addresses: HashMap::new(),
            by_ip: HashMap::new(),
            node_generation: 0,
            selectors: Mutex::new(HashMap::new()),
            secrets: HashMap::new(),
            bgp_configurations: BTreeMap::new(),
        };
        index.unavailable = status::availability(&index.statuses());
        index
    }

    /// Every source, in a fixed order.
    pub fn sources(&self) -> Vec<Source> {
        self.sources.iter().map(|state| state.source).collect()
    }

    /// The name of every source (`bgpfilters.crd.projectcalico.org`) and its state.
    pub(crate) fn statuses(&self) -> Vec<(String, SourceStatus)> {
        self.sources
            .iter()
            .map(|state| (state.label.clone(), state.status.clone()))
            .collect()
    }

    /// The state of one source (`None` for a source not watched).
    pub(crate) fn status(&self, source: Source) -> Option<&SourceStatus> {
        self.sources
            .iter()
            .find(|state| state.source == source)
            .map(|state| &state.status)
    }

    /// Records a source's state, logging changes only (a retrying watch does not flood the
    /// log), and recomputes whether the view can be trusted.
    pub fn set_status(&mut self, source: Source, next: SourceStatus) {
        let Some(state) = self.sources.iter_mut().find(|state| state.source == source) else {
            return;
        };
        if state.status == next {
            return;
        }
        let label = state.label.as_str();
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
        state.status = next;
        self.unavailable = status::availability(&self.statuses());
    }

    /// Records a watch failure: a synced source stays synced through reconnects (its contents
    /// may lag; live lookups cover that), except when the resource disappears (404).
    pub(crate) fn failed(&mut self, source: Source, next: SourceStatus) {
        if next == SourceStatus::Absent || self.status(source) != Some(&SourceStatus::Synced) {
            self.set_status(source, next);
        }
    }

    /// An object was added or changed.
    pub fn apply(&mut self, source: Source, item: Item) {
        match (source, item) {
            (Source::Filters(group), Item::Filter(name)) => {
                self.filters.entry(name).or_default()[slot(group)] = true;
            }
            (Source::Peers(group), Item::Peer(peer)) => {
                let name = peer.name.clone();
                self.set_peer(group, &name, Some(peer));
            }
            (Source::BgpConfigurations(group), Item::BgpConfiguration(name, config)) => {
                self.bgp_configurations.entry(name).or_default()[slot(group)] = Some(config);
            }
            (Source::Nodes, Item::Node(name, labels, addresses)) => {
                self.set_node_addresses(&name, addresses);
                if self.nodes.get(&name) != Some(&labels) {
                    self.nodes.insert(name, labels);
                    self.node_generation = self.node_generation.wrapping_add(1);
                }
            }
            (Source::Secrets, Item::Secret(name, keys)) => {
                self.secrets.insert(name, keys);
            }
            (source, item) => {
                tracing::debug!(?source, ?item, "ignored an object of another source");
            }
        }
    }

    /// An object was deleted.
    pub(crate) fn delete(&mut self, source: Source, name: &str) {
        match source {
            Source::Filters(group) => {
                if let Some(groups) = self.filters.get_mut(name) {
                    groups[slot(group)] = false;
                    if groups == &[false, false] {
                        self.filters.remove(name);
                    }
                }
            }
            Source::Peers(group) => self.set_peer(group, name, None),
            Source::BgpConfigurations(group) => {
                if let Some(copies) = self.bgp_configurations.get_mut(name) {
                    copies[slot(group)] = None;
                    if first(copies).is_none() {
                        self.bgp_configurations.remove(name);
                    }
                }
            }
            Source::Nodes => {
                self.set_node_addresses(name, Vec::new());
                if self.nodes.remove(name).is_some() {
                    self.node_generation = self.node_generation.wrapping_add(1);
                }
            }
            Source::Secrets => {
                self.secrets.remove(name);
            }
        }
    }

    /// A source was listed again (at start, or after the watch lost track): its objects are
    /// exactly `items` now.
    pub fn replace(&mut self, source: Source, items: Vec<Item>) {
        match source {
            Source::Nodes => {
                self.node_addresses.clear();
                self.by_ip.clear();
                let mut nodes: BTreeMap<String, Labels> = BTreeMap::new();
                for item in items {
                    if let Item::Node(name, labels, addresses) = item {
                        self.set_node_addresses(&name, addresses);
                        nodes.insert(name, labels);
                    }
                }
                if nodes != self.nodes {
                    self.nodes = nodes;
                    self.node_generation = self.node_generation.wrapping_add(1);
                }
                return;
            }
            Source::Secrets => self.secrets.clear(),
            Source::Filters(_) => {
                let names: Vec<String> = self.filters.keys().cloned().collect();
                for name in names {
                    self.delete(source, &name);
                }
            }
            Source::Peers(group) => {
                let names: Vec<String> = self
                    .peers
                    .iter()
                    .filter(|(_, copies)| copies[slot(group)].is_some())
                    .map(|(name, _)| name.clone())
                    .collect();
                for name in names {
                    self.set_peer(group, &name, None);
                }
            }
            Source::BgpConfigurations(_) => {
                let names: Vec<String> = self.bgp_configurations.keys().cloned().collect();
                for name in names {
                    self.delete(source, &name);
                }
            }
        }
        for item in items {
            self.apply(source, item);
        }
    }

    /// The BGPConfiguration of this name (the `crd.projectcalico.org` copy when both groups
    /// serve it).
    pub fn bgp_configuration(&self, name: &str) -> Option<&BgpConfiguration> {
        self.bgp_configurations.get(name).and_then(first)
    }

    /// The names of the BGPFilters, sorted.
    pub fn filter_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.filters.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The stored BGPPeers (each once), sorted by name.
    pub fn peers(&self) -> Vec<&StoredPeer> {
        let mut peers: Vec<&StoredPeer> = self.peers.values().filter_map(first).collect();
        peers.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        peers
    }

    /// The names of the Nodes, sorted.
    pub fn node_names(&self) -> Vec<&str> {
        self.nodes.keys().map(String::as_str).collect()
    }

    #[cfg(test)]
    /// The node generation: changes whenever a node's labels change or a node comes or goes.
    pub(crate) fn node_generation(&self) -> u64 {
        self.node_generation
    }

    /// Sets one group's copy of a peer, keeping the address index on the copy in use.
    fn set_peer(&mut self, group: ApiGroup, name: &str, peer: Option<StoredPeer>) {
        let before = self.peers.get(name).and_then(first).cloned();
        let copies = self.peers.entry(name.to_owned()).or_default();
        copies[slot(group)] = peer;
        let after = first(copies).cloned();
        if after.is_none() {
            self.peers.remove(name);
        }
        if before == after {
            return;
        }
        if let Some(StoredPeer {
            scope: Some(_),
            address: Some(address),
            ..
        }) = &before
            && let Some(names) = self.by_address.get_mut(address)
        {
            names.remove(name);
            if names.is_empty() {
                self.by_address.remove(address);
            }
        }
        if let Some(StoredPeer {
            name,
            scope: Some(scope),
            address: Some(address),
            ..
        }) = after
        {
            self.by_address
                .entry(address)
                .or_default()
                .insert(name, scope);
        }
    }

    /// Sets a node's BGP addresses (empty: none, or the node is gone), keeping the index from
    /// address to node. When two nodes claim one address, the first keeps it while it has it.
    fn set_node_addresses(&mut self, name: &str, addresses: Vec<IpAddr>) {
        if let Some(old) = self.node_addresses.remove(name) {
            for ip in old {
                if self.by_ip.get(&ip).is_some_and(|owner| owner == name) {
                    self.by_ip.remove(&ip);
                    // Another node claiming the same address (a misconfiguration, rare) takes
                    // it over.
                    if let Some(other) = self
                        .node_addresses
                        .iter()
                        .find(|(_, addresses)| addresses.contains(&ip))
                        .map(|(other, _)| other.clone())
                    {
                        self.by_ip.insert(ip, other);
                    }
                }
            }
        }
        if addresses.is_empty() {
            return;
        }
        for ip in &addresses {
            self.by_ip.entry(*ip).or_insert_with(|| name.to_owned());
        }
        self.node_addresses.insert(name.to_owned(), addresses);
    }

    /// Evaluates a selector against every node (a cache miss).
    fn evaluate(&self, selector: SelectorRef<'_>) -> NodeMatch {
        let mut matched = NodeMatch {
            total: self.nodes.len(),
            ..NodeMatch::default()
        };
        for (name, labels) in &self.nodes {
            if selector.selector.matches(labels) {
                matched.count += 1;
                if matched.names.len() < SMALL_MATCH + 1 {
                    matched.names.push(name.clone());
                }
            }
        }
        if matched.count > SMALL_MATCH {
            matched.names = Vec::new();
        }
        matched
    }
}

impl ClusterView for Index {
    fn availability(&self) -> Availability<'_> {
        match &self.unavailable {
            Some(reason) => Availability::Skipped(reason),
            None => Availability::Ready,
        }
    }

    fn filter_exists(&self, name: &str) -> bool {
        self.filters.contains_key(name)
    }

    fn password_namespace(&self) -> Option<&str> {
        self.password_namespace.as_deref()
    }

    fn secret_key_lengths(&self, name: &str) -> Option<&BTreeMap<String, usize>> {
        self.password_namespace.as_ref()?;
        self.secrets.get(name)
    }

    fn node_exists(&self, name: &str) -> bool {
        self.nodes.contains_key(name)
    }

    fn nodes_matching(&self, selector: SelectorRef<'_>) -> NodeMatch {
        let generation = self.node_generation;
        {
            let cache = self
                .selectors
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((cached, matched)) = cache.get(selector.canonical)
                && *cached == generation
            {
                return matched.clone();
            }
        }
        let matched = self.evaluate(selector);
        let mut cache = self
            .selectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED_SELECTORS && !cache.contains_key(selector.canonical) {
            cache.retain(|_, (cached, _)| *cached == generation);
            if cache.len() >= MAX_CACHED_SELECTORS {
                cache.clear();
            }
        }
        cache.insert(selector.canonical.to_owned(), (generation, matched.clone()));
        matched
    }

    /// Known once a BGPConfiguration source has synced (an absent group or a refused one
    /// leaves it unknown: no mesh warning then).
    fn node_to_node_mesh(&self) -> Mesh {
        let synced = self.sources.iter().any(|state| {
            matches!(state.source, Source::BgpConfigurations(_))
                && state.status == SourceStatus::Synced
        });
        if synced {
            Mesh::from_default(self.bgp_configuration(bgpconfig::DEFAULT_NAME))
        } else {
            Mesh::Unknown
        }
    }

    fn node_at(&self, ip: IpAddr) -> Option<&str> {
        self.by_ip.get(&ip).map(String::as_str)
    }

    fn peers_at(&self, scope: &ScopeKey, address: Address) -> Vec<&str> {
        let Some(names) = self.by_address.get(&address) else {
            return Vec::new();
        };
        names
            .iter()
            .filter(|(_, other)| *other == scope)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// The name a source is reported under (`bgpfilters.crd.projectcalico.org`), as `kubectl`
/// spells a resource with its group.
fn label(source: Source, password_namespace: Option<&str>) -> String {
    match source {
        Source::Filters(group) => format!("{}.{}", api::BGP_FILTER_RESOURCE, group.group()),
        Source::Peers(group) => format!("{}.{}", api::BGP_PEER_RESOURCE, group.group()),
        Source::BgpConfigurations(group) => {
            format!("{}.{}", api::BGP_CONFIGURATION_RESOURCE, group.group())
        }
        Source::Nodes => "nodes".to_owned(),
        Source::Secrets => format!("secrets in {}", password_namespace.unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calico_selector as selector;
    use serde_json::json;

    fn ready(password_namespace: Option<&str>) -> Index {
        let mut index = Index::new(password_namespace);
        for source in index.sources() {
            index.set_status(source, SourceStatus::Synced);
        }
        index
    }

    fn node(name: &str, labels: &[(&str, &str)]) -> Item {
        Item::Node(
            name.to_owned(),
            labels
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            Vec::new(),
        )
    }

    fn stored(name: &str, spec: Value) -> Item {
        Item::Peer(StoredPeer::from_spec(
            ApiGroup::CrdV1,
            name.to_owned(),
            &spec,
        ))
    }

    fn matching(index: &Index, text: &str) -> NodeMatch {
        let parsed = selector::parse(text).unwrap();
        let canonical = parsed.to_string();
        index.nodes_matching(SelectorRef {
            selector: &parsed,
            canonical: &canonical,
        })
    }

    fn address(text: &str) -> Address {
        let (ip, port) = text.split_once(':').unwrap_or((text, "179"));
        (ip.parse().unwrap(), port.parse().unwrap())
    }

    #[test]
    fn a_node_label_change_invalidates_the_selector_cache() {
        let mut index = ready(None);
        index.replace(
            Source::Nodes,
            vec![node("n1", &[("rack", "a")]), node("n2", &[("rack", "b")])],
        );
        let before = matching(&index, "rack == 'a'");
        assert_eq!((before.count, before.total), (1, 2));
        assert_eq!(before.names, ["n1"]);
        let generation = index.node_generation();

        // The same labels again (a status or annotation update): the cache stays valid.
        index.apply(Source::Nodes, node("n2", &[("rack", "b")]));
        assert_eq!(index.node_generation(), generation);

        index.apply(Source::Nodes, node("n2", &[("rack", "a")]));
        assert_ne!(index.node_generation(), generation);
        let after = matching(&index, "rack == \"a\"");
        assert_eq!((after.count, after.total), (2, 2));
        assert_eq!(after.names, ["n1", "n2"]);

        index.delete(Source::Nodes, "n1");
        let after = matching(&index, "rack == 'a'");
        assert_eq!((after.count, after.total), (1, 1));
        assert!(!index.node_exists("n1") && index.node_exists("n2"));
    }

    #[test]
    fn many_matches_keep_no_names_and_the_cache_stays_bounded() {
        let mut index = ready(None);
        let names: Vec<String> = (0..10).map(|n| format!("n{n}")).collect();
        index.replace(
            Source::Nodes,
            names
                .iter()
                .map(|name| node(name, &[("all", "yes")]))
                .collect(),
        );
        let matched = matching(&index, "all == 'yes'");
        assert_eq!((matched.count, matched.names.len()), (10, 0));
        for n in 0..MAX_CACHED_SELECTORS + 10 {
            matching(&index, &format!("x == '{n}'"));
        }
        let cached = index.selectors.lock().unwrap().len();
        assert!(cached <= MAX_CACHED_SELECTORS, "{cached}");
    }

    #[test]
    fn a_deleted_peer_leaves_the_duplicate_index() {
        let mut index = ready(None);
        let group = Source::Peers(ApiGroup::CrdV1);
        index.apply(group, stored("a", json!({"peerIP": "10.0.0.1"})));
        index.apply(group, stored("b", json!({"peerIP": "10.0.0.1:179"})));
        index.apply(
            group,
            stored("c", json!({"peerIP": "10.0.0.1", "node": "n1"})),
        );
        let at = address("10.0.0.1");
        assert_eq!(index.peers_at(&ScopeKey::Global, at), ["a", "b"]);
        assert_eq!(index.peers_at(&ScopeKey::Node("n1".into()), at), ["c"]);

        index.delete(group, "a");
        assert_eq!(index.peers_at(&ScopeKey::Global, at), ["b"]);
        // A peer that moves to another address leaves the old one.
        index.apply(group, stored("b", json!({"peerIP": "10.0.0.2"})));
        assert!(index.peers_at(&ScopeKey::Global, at).is_empty());
        assert_eq!(
            index.peers_at(&ScopeKey::Global, address("10.0.0.2")),
            ["b"]
        );
        index.delete(group, "b");
        index.delete(group, "c");
        assert!(index.by_address.is_empty() && index.peers.is_empty());
    }

    #[test]
    fn an_object_served_by_both_groups_counts_once() {
        let mut index = ready(None);
        for group in [ApiGroup::CrdV1, ApiGroup::V3] {
            index.apply(
                Source::Peers(group),
                stored("p", json!({"peerIP": "10.0.0.1"})),
            );
            index.apply(Source::Filters(group), Item::Filter("f".into()));
        }
        assert_eq!(index.peers().len(), 1);
        assert_eq!(
            index.peers_at(&ScopeKey::Global, address("10.0.0.1")),
            ["p"]
        );
        // Gone from one group only: still there.
        index.delete(Source::Peers(ApiGroup::CrdV1), "p");
        index.delete(Source::Filters(ApiGroup::V3), "f");
        assert_eq!(
            index.peers_at(&ScopeKey::Global, address("10.0.0.1")),
            ["p"]
        );
        assert!(index.filter_exists("f"));
        index.delete(Source::Peers(ApiGroup::V3), "p");
        index.delete(Source::Filters(ApiGroup::CrdV1), "f");
        assert!(index.peers().is_empty());
        assert!(!index.filter_exists("f"));

        // BGPConfigurations: the crd.projectcalico.org copy wins.
        let config = |port| {
            BgpConfiguration::from_spec(&json!({"listenPort": port, "asNumber": "1.10",
                "nodeToNodeMeshEnabled": true}))
        };
        index.apply(
            Source::BgpConfigurations(ApiGroup::V3),
            Item::BgpConfiguration("default".into(), config(1179)),
        );
        index.apply(
            Source::BgpConfigurations(ApiGroup::CrdV1),
            Item::BgpConfiguration("default".into(), config(179)),
        );
        assert_eq!(
            index.bgp_configuration("default"),
            Some(&BgpConfiguration {
                node_to_node_mesh_enabled: Some(true),
                as_number: Some(65546),
                listen_port: Some(179),
            })
        );
        index.delete(Source::BgpConfigurations(ApiGroup::CrdV1), "default");
        assert_eq!(
            index
                .bgp_configuration("default")
                .and_then(|c| c.listen_port),
            Some(1179)
        );
    }

    #[test]
    fn node_addresses_follow_the_node_events_and_a_relist() {
        let mut index = ready(None);
        let ip = |text: &str| -> IpAddr { text.parse().unwrap() };
        index.replace(
            Source::Nodes,
            vec![
                Item::Node(
                    "n1".into(),
                    Labels::new(),
                    vec![ip("10.0.0.1"), ip("fd00::1")],
                ),
                Item::Node("n2".into(), Labels::new(), vec![ip("10.0.0.2")]),
            ],
        );
        let generation = index.node_generation();
        assert_eq!(index.node_at(ip("fd00::1")), Some("n1"));
        // An address change is no label change: the selector cache stays valid.
        index.apply(
            Source::Nodes,
            Item::Node("n1".into(), Labels::new(), vec![ip("10.0.0.11")]),
        );
        assert_eq!(index.node_generation(), generation);
        assert_eq!(index.node_at(ip("10.0.0.1")), None);
        assert_eq!(index.node_at(ip("fd00::1")), None);
        assert_eq!(index.node_at(ip("10.0.0.11")), Some("n1"));
        // Two nodes claiming one address: the first keeps it while it has it.
        index.apply(
            Source::Nodes,
            Item::Node("n3".into(), Labels::new(), vec![ip("10.0.0.2")]),
        );
        assert_eq!(index.node_at(ip("10.0.0.2")), Some("n2"));
        index.delete(Source::Nodes, "n2");
        assert_eq!(index.node_at(ip("10.0.0.2")), Some("n3"));
        index.delete(Source::Nodes, "n3");
        assert_eq!(index.node_at(ip("10.0.0.2")), None);
        // A relist keeps exactly the listed nodes' addresses.
        index.replace(
            Source::Nodes,
            vec![Item::Node("n4".into(), Labels::new(), vec![ip("10.0.0.4")])],
        );
        assert_eq!(index.node_at(ip("10.0.0.11")), None);
        assert_eq!(index.node_at(ip("10.0.0.4")), Some("n4"));
        assert_eq!((index.node_addresses.len(), index.by_ip.len()), (1, 1));
    }

    #[test]
    fn a_relist_replaces_one_group_only() {
        let mut index = ready(None);
        index.apply(
            Source::Peers(ApiGroup::CrdV1),
            stored("old", json!({"peerIP": "10.0.0.1"})),
        );
        index.apply(
            Source::Peers(ApiGroup::V3),
            stored("v3", json!({"peerIP": "10.0.0.3"})),
        );
        index.replace(
            Source::Peers(ApiGroup::CrdV1),
            vec![stored("new", json!({"peerIP": "10.0.0.2"}))],
        );
        let names: Vec<&str> = index.peers().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["new", "v3"]);
        assert!(
            index
                .peers_at(&ScopeKey::Global, address("10.0.0.1"))
                .is_empty()
        );
        index.replace(
            Source::Filters(ApiGroup::V3),
            vec![Item::Filter("f".into())],
        );
        index.apply(Source::Filters(ApiGroup::CrdV1), Item::Filter("g".into()));
        index.replace(Source::Filters(ApiGroup::V3), Vec::new());
        assert_eq!(index.filter_names(), ["g"]);
    }

    #[test]
    fn availability_follows_the_watches_and_secrets_are_opt_in() {
        let mut index = Index::new(None);
        assert!(matches!(
            index.availability(),
            Availability::Skipped(SkipReason::NotSynced { .. })
        ));
        assert!(
            !index
                .statuses()
                .iter()
                .any(|(name, _)| name.starts_with("secrets"))
        );
        for source in index.sources() {
            index.set_status(source, SourceStatus::Synced);
        }
        assert_eq!(index.availability(), Availability::Ready);
        // A synced watch stays synced through a reconnect failure, not through a 404.
        index.failed(Source::Nodes, SourceStatus::Unreachable("refused".into()));
        assert_eq!(index.availability(), Availability::Ready);
        index.failed(Source::Filters(ApiGroup::V3), SourceStatus::Absent);
        assert_eq!(
            index.status(Source::Filters(ApiGroup::V3)),
            Some(&SourceStatus::Absent)
        );
        index.apply(Source::Secrets, Item::Secret("s".into(), KeyLengths::new()));
        assert_eq!(index.password_namespace(), None);
        assert_eq!(index.secret_key_lengths("s"), None);

        let mut index = ready(Some("calico-system"));
        assert!(
            index
                .statuses()
                .iter()
                .any(|(name, _)| name == "secrets in calico-system")
        );
        index.apply(
            Source::Secrets,
            Item::Secret("s".into(), [("k".to_owned(), 3)].into_iter().collect()),
        );
        assert_eq!(index.secret_key_lengths("s").map(|keys| keys["k"]), Some(3));
        index.delete(Source::Secrets, "s");
        assert_eq!(index.secret_key_lengths("s"), None);
    }
}
