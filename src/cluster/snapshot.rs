//! One read of everything the cluster rules need, into an [`Index`], for `audit`: the BGPPeers
//! of both API groups (listed first, so that a filter created before a listed peer is in the
//! filter list), BGPFilters, BGPConfigurations, Node metadata and, opt-in, the key lengths of
//! the password Secrets. Lists are read in pages. Network I/O.
//!
//! A resource that is not served (404: that group's CRD or API is not installed) is empty. A
//! list the API server refuses (403, ...) is skipped with a note: when the other Calico group
//! was read, it serves the same objects and nothing is lost; otherwise the cluster rules cannot
//! be trusted and are skipped (as the webhook's degraded mode), or, for the Secrets, the
//! password checks are. An API server that cannot be reached stops the audit.

use std::future::Future;

use k8s_openapi::api::core::v1::{Node, Secret};
use kube::api::{ListParams, ObjectList};
use kube::core::{ApiResource, DynamicObject};
use kube::{Api, Client};

use super::api_error::{self, Request};
use super::index::{Index, Item, Source};
use super::resources;
use super::status::SourceStatus;
use super::watch;
use bgppeer_core::bgppeer::ApiGroup;

/// How many objects one list request asks for; larger collections are read in pages.
pub(crate) const PAGE_SIZE: u32 = 500;

/// What was read.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// Everything, as the cluster rules read it.
    pub(crate) index: Index,
    /// What could not be read and what that means for the audit.
    pub(crate) notes: Vec<String>,
}

/// The outcome of one list.
enum Listed<T> {
    Items(Vec<T>),
    /// Not served (404).
    Absent,
    /// Refused: the plain sentence.
    Refused(String),
}

/// Reads everything from the API server at `server` (its URL, for messages). `Err` is a plain
/// sentence: the API server could not be reached, or no BGPPeer list could be read.
pub(crate) async fn take(
    client: &Client,
    server: &str,
    password_namespace: Option<&str>,
) -> Result<Snapshot, String> {
    let mut notes = Vec::new();
    let mut sources: Vec<(Source, Listed<Item>)> = Vec::new();

    let peers = calico(
        client,
        server,
        resources::bgppeers,
        Source::Peers,
        watch::peer,
    )
    .await?;
    if !peers
        .iter()
        .any(|(_, listed)| matches!(listed, Listed::Items(_)))
        && let Some(reason) = peers.iter().find_map(|(_, listed)| match listed {
            Listed::Refused(reason) => Some(reason.clone()),
            _ => None,
        })
    {
        return Err(reason);
    }
    sources.extend(peers);
    sources.extend(
        calico(
            client,
            server,
            resources::bgpfilters,
            Source::Filters,
            watch::filter,
        )
        .await?,
    );
    sources.extend(
        calico(
            client,
            server,
            resources::bgpconfigurations,
            Source::BgpConfigurations,
            watch::bgp_configuration,
        )
        .await?,
    );

    let nodes = Api::<Node>::all(client.clone());
    let listed = classify(
        list_pages(|params| {
            let nodes = nodes.clone();
            async move { nodes.list_metadata(&params).await }
        })
        .await,
        &Request {
            verb: "list",
            resource: "nodes",
            namespace: None,
            server,
        },
    )?;
    sources.push((Source::Nodes, convert(listed, Source::Nodes, watch::node)));

    let mut secrets_namespace = None;
    if let Some(namespace) = password_namespace {
        let secrets = Api::<Secret>::namespaced(client.clone(), namespace);
        let listed = classify(
            list_pages(|params| {
                let secrets = secrets.clone();
                async move { secrets.list(&params).await }
            })
            .await,
            &Request {
                verb: "list",
                resource: "secrets",
                namespace: Some(namespace),
                server,
            },
        )?;
        match listed {
            Listed::Items(items) => {
                secrets_namespace = Some(namespace);
                let items = items
                    .iter()
                    .filter_map(|s| watch::secret(Source::Secrets, s));
                sources.push((Source::Secrets, Listed::Items(items.collect())));
            }
            Listed::Absent | Listed::Refused(_) => {
                let reason = match listed {
                    Listed::Refused(reason) => reason,
                    _ => format!("{server} does not serve secrets"),
                };
                notes.push(format!("password checks skipped: {reason}"));
            }
        }
    }

    let mut index = Index::new(secrets_namespace);
    for (source, listed) in sources {
        let status = match listed {
            Listed::Items(items) => {
                index.replace(source, items);
                SourceStatus::Synced
            }
            Listed::Absent => SourceStatus::Absent,
            Listed::Refused(reason) => SourceStatus::ApiError(reason),
        };
        index.set_status(source, status);
    }
    // A Calico resource neither group serves: said once (a missing CRD, or no Calico at all).
    for group_source in [Source::Peers, Source::Filters, Source::BgpConfigurations] {
        let [first, second] = resources::GROUPS.map(group_source);
        if index.status(first) == Some(&SourceStatus::Absent)
            && index.status(second) == Some(&SourceStatus::Absent)
        {
            notes.push(format!(
                "{server} serves no {} in either Calico API group (crd.projectcalico.org, \
                 projectcalico.org): none are stored",
                plural(first)
            ));
        }
    }
    // A Calico resource refused in one group but read in the other: the other serves the same
    // objects, so the refused one is treated as not served, with a note.
    for source in index.sources() {
        if let Some(SourceStatus::ApiError(reason)) = index.status(source).cloned()
            && sibling(source)
                .is_some_and(|other| index.status(other) == Some(&SourceStatus::Synced))
        {
            index.set_status(source, SourceStatus::Absent);
            notes.push(format!(
                "{reason}; the other Calico API group was read and serves the same objects"
            ));
        }
    }
    Ok(Snapshot { index, notes })
}

/// The resource a Calico source lists, as kubectl names it (`bgppeers`).
fn plural(source: Source) -> &'static str {
    use bgppeer_core::bgppeer::api;
    match source {
        Source::Filters(_) => api::BGP_FILTER_RESOURCE,
        Source::Peers(_) => api::BGP_PEER_RESOURCE,
        Source::BgpConfigurations(_) => api::BGP_CONFIGURATION_RESOURCE,
        Source::Nodes => "nodes",
        Source::Secrets => "secrets",
    }
}

/// The same resource in the other Calico API group.
fn sibling(source: Source) -> Option<Source> {
    let other = |group| match group {
        ApiGroup::CrdV1 => ApiGroup::V3,
        ApiGroup::V3 => ApiGroup::CrdV1,
    };
    match source {
        Source::Filters(group) => Some(Source::Filters(other(group))),
        Source::Peers(group) => Some(Source::Peers(other(group))),
        Source::BgpConfigurations(group) => Some(Source::BgpConfigurations(other(group))),
        Source::Nodes | Source::Secrets => None,
    }
}

/// Lists one Calico resource in both groups.
async fn calico(
    client: &Client,
    server: &str,
    resource: fn(ApiGroup) -> ApiResource,
    source: fn(ApiGroup) -> Source,
    item: fn(Source, &DynamicObject) -> Option<Item>,
) -> Result<Vec<(Source, Listed<Item>)>, String> {
    let mut listed = Vec::new();
    for group in resources::GROUPS {
        let resource = resource(group);
        let name = format!("{}.{}", resource.plural, resource.group);
        let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
        let objects = classify(
            list_pages(|params| {
                let api = api.clone();
                async move { api.list(&params).await }
            })
            .await,
            &Request {
                verb: "list",
                resource: &name,
                namespace: None,
                server,
            },
        )?;
        listed.push((source(group), convert(objects, source(group), item)));
    }
    Ok(listed)
}

fn convert<K>(
    listed: Listed<K>,
    source: Source,
    item: fn(Source, &K) -> Option<Item>,
) -> Listed<Item> {
    match listed {
        Listed::Items(objects) => Listed::Items(
            objects
                .iter()
                .filter_map(|object| item(source, object))
                .collect(),
        ),
        Listed::Absent => Listed::Absent,
        Listed::Refused(reason) => Listed::Refused(reason),
    }
}

/// A list's outcome: 404 is "not served", another answer a refusal; not reaching the API
/// server is `Err`.
fn classify<T>(
    result: Result<Vec<T>, kube::Error>,
    request: &Request<'_>,
) -> Result<Listed<T>, String> {
    match result {
        Ok(items) => Ok(Listed::Items(items)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(Listed::Absent),
        Err(error @ kube::Error::Api(_)) => Ok(Listed::Refused(api_error::plain(&error, request))),
        Err(error) => Err(api_error::plain(&error, request)),
    }
}

/// Every item of a collection, [`PAGE_SIZE`] at a time, following the `continue` token.
async fn list_pages<T, F, Fut>(mut list: F) -> Result<Vec<T>, kube::Error>
where
    T: Clone,
    F: FnMut(ListParams) -> Fut,
    Fut: Future<Output = Result<ObjectList<T>, kube::Error>>,
{
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        let page = list(params.clone()).await?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}
