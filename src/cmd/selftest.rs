//! The `selftest` subcommand: dry-run-create one invalid and one valid BGPPeer through the API
//! server and check that this installation's webhooks judged them (see [`crate::selftest`]).
//!
//! Runs inside the cluster as the chart's `helm test` Pod (in-cluster ServiceAccount credentials),
//! or from a workstation with a kubeconfig. It never stores anything: every request carries
//! `dryRun=All`.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::{Client, Error as KubeError};
use serde_json::Value;

use bgppeer_core::bgppeer::api;

use crate::selftest::{self, Answer, Report, Webhooks};

/// Arguments of `bgppeer-webhook selftest`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Name of the installation's validating webhook, as registered in its
    /// ValidatingWebhookConfiguration; the invalid probe must be denied by exactly this webhook.
    #[arg(long, env = "BGPPEER_WEBHOOK_VALIDATING_WEBHOOK", value_name = "NAME")]
    validating_webhook: String,

    /// Name of the installation's mutating webhook; the valid probe must come back with its
    /// default `spec.sourceAddress: UseNodeIP`.
    #[arg(long, env = "BGPPEER_WEBHOOK_MUTATING_WEBHOOK", value_name = "NAME")]
    mutating_webhook: String,

    /// Label for both probe BGPPeers, so they match the webhooks' objectSelector (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,

    /// Prefix of the names the API server generates for the probes.
    #[arg(
        long,
        default_value = "bgppeer-webhook-selftest-",
        value_name = "PREFIX"
    )]
    name_prefix: String,

    /// Seconds to wait for each API request before giving up.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout_seconds: u64,
}

/// Parses `KEY=VALUE`; the key must be non-empty.
fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!(
            "expected KEY=VALUE (e.g. team=network), got {text:?}"
        )),
    }
}

/// Runs `bgppeer-webhook selftest`: exit 0 when both probes behaved, 1 when either did not, 2 when
/// the API server could not be asked at all.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(probe_cluster(&args))?;
    super::output::print(&format!("{report}\n"))?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn probe_cluster(args: &Args) -> anyhow::Result<Report> {
    let client = Client::try_default().await.context(
        "cannot configure a Kubernetes client (no in-cluster ServiceAccount and no usable kubeconfig)",
    )?;
    let gvk = GroupVersionKind::gvk(api::CRD_GROUP, api::CRD_VERSION, api::BGP_PEER_KIND);
    let resource = ApiResource::from_gvk_with_plural(&gvk, api::BGP_PEER_RESOURCE);
    let api: Api<DynamicObject> = Api::all_with(client, &resource);
    let labels: BTreeMap<String, String> = args.labels.iter().cloned().collect();
    let timeout = Duration::from_secs(args.timeout_seconds);

    let invalid = dry_run_create(
        &api,
        selftest::invalid_peer(&args.name_prefix, &labels),
        timeout,
    )
    .await
    .context("probing with the invalid BGPPeer")?;
    let valid = dry_run_create(
        &api,
        selftest::valid_peer(&args.name_prefix, &labels),
        timeout,
    )
    .await
    .context("probing with the valid BGPPeer")?;
    let webhooks = Webhooks {
        validating: args.validating_webhook.clone(),
        mutating: args.mutating_webhook.clone(),
    };
    Ok(Report::new(&webhooks, &invalid, &valid))
}

/// Creates `object` with `dryRun=All` and returns the API server's answer. Only failures to get an
/// answer at all (network, TLS, timeout) are errors.
async fn dry_run_create(
    api: &Api<DynamicObject>,
    object: Value,
    timeout: Duration,
) -> anyhow::Result<Answer> {
    let object: DynamicObject =
        serde_json::from_value(object).context("cannot build the probe BGPPeer")?;
    let params = PostParams {
        dry_run: true,
        field_manager: Some("bgppeer-webhook-selftest".to_owned()),
    };
    let outcome = tokio::time::timeout(timeout, api.create(&params, &object)).await;
    match outcome {
        Err(_) => bail!(
            "the API server did not answer a dry-run create of a BGPPeer within {} s",
            timeout.as_secs()
        ),
        Ok(Ok(created)) => Ok(Answer::Admitted(
            serde_json::to_value(created).context("cannot read the admitted BGPPeer")?,
        )),
        Ok(Err(KubeError::Api(status))) => Ok(Answer::Refused {
            code: status.code,
            reason: status.reason.clone(),
            message: status.message.clone(),
        }),
        Ok(Err(error)) => {
            Err(error).context("cannot send a dry-run create of a BGPPeer to the API server")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_as_key_value() {
        assert_eq!(
            parse_label("team=net").unwrap(),
            ("team".to_owned(), "net".to_owned())
        );
        assert_eq!(
            parse_label("example.com/empty=").unwrap(),
            ("example.com/empty".to_owned(), String::new())
        );
        assert_eq!(
            parse_label("a=b=c").unwrap(),
            ("a".to_owned(), "b=c".to_owned())
        );
        assert!(parse_label("novalue").unwrap_err().contains("KEY=VALUE"));
        assert!(parse_label("=v").is_err());
    }
}
