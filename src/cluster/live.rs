//! Live lookups that confirm a cache miss before the webhook denies because of it.

use kube::core::{ApiResource, DynamicObject};
use kube::{Api, Client};

use super::status::SourceStatus;
use super::watch::classify_client_error;
use bgppeer_core::admission::cluster::SkipReason;

/// Whether a BGPFilter of this name exists in any of `resources` (the API groups served),
/// asked of the API server directly. A 404 from every group means it does not exist; any
/// other failure is returned as the reason to skip the checks (never as a denial).
pub(crate) async fn filter_exists(
    client: &Client,
    resources: &[ApiResource],
    name: &str,
) -> Result<bool, SkipReason> {
    for resource in resources {
        let api = Api::<DynamicObject>::all_with(client.clone(), resource);
        match api.get_opt(name).await {
            Ok(Some(_)) => return Ok(true),
            Ok(None) => {}
            Err(error) => match classify_client_error(&error) {
                SourceStatus::Absent => {}
                SourceStatus::ApiError(detail) => return Err(SkipReason::ApiError { detail }),
                SourceStatus::Unreachable(detail) => {
                    return Err(SkipReason::Unreachable { detail });
                }
                SourceStatus::Pending | SourceStatus::Synced => {}
            },
        }
    }
    Ok(false)
}
