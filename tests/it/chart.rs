//! The Helm chart `charts/bgppeer-webhook`, rendered by the real `helm` binary.
//!
//! Every test runs `helm lint --strict` or `helm template` and asserts on the parsed objects (never
//! on text). helm is found through the `HELM` environment variable, which `make test` sets after
//! installing helm into `.tools/`; a plain `cargo test` uses `.tools/helm` when `make tools` has
//! installed it, and otherwise skips these tests with a printed reason.
//!
//! The chart README's values table is generated from values.yaml by `values_table` (no helm
//! needed); `chart_readme_values_table_matches_values_yaml` keeps it current.

mod values_table;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Pod, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const RELEASE: &str = "edge";
const NAMESPACE: &str = "net-system";
/// `<release>-<chart>`: the Service name and the prefix of every object name.
const FULLNAME: &str = "edge-bgppeer-webhook";
const VALIDATING_WEBHOOK: &str = "validate.bgppeers.edge-bgppeer-webhook";
const MUTATING_WEBHOOK: &str = "mutate.bgppeers.edge-bgppeer-webhook";
/// The UID and GID of the image's user (see Dockerfile).
const IMAGE_UID: i64 = 65532;

// ---------------------------------------------------------------------------------------------
// Running helm
// ---------------------------------------------------------------------------------------------

/// The helm binary: `$HELM` (which `make test` sets; it must exist), else `.tools/helm` (which
/// `make tools` installs). `None` when neither is there: outside `make test`, the chart tests are
/// then skipped with a printed reason (see [`skip_without_helm`]).
fn helm_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HELM") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "HELM={} does not exist: run `make tools` to install helm into .tools/",
            path.display()
        );
        return Some(path);
    }
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/helm");
    installed.is_file().then_some(installed)
}

fn helm() -> PathBuf {
    helm_path().expect("skip_without_helm! runs first in every chart test")
}

/// Returns from a chart test, saying why on stderr, when no helm binary is found. `make test`
/// always finds one (it installs helm and sets `HELM`), so there the chart tests always run.
macro_rules! skip_without_helm {
    () => {
        if helm_path().is_none() {
            // Straight to the process's stderr: the test harness captures `eprintln!` of a
            // passing test, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: no helm binary (HELM is not set and .tools/helm is missing); run \
                 `make test`, or `make tools` once, to run the chart tests"
            );
            return;
        }
    };
}

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/bgppeer-webhook")
}

/// Writes `values` (JSON is YAML) to a temporary file for `helm -f`.
fn values_file(values: &Value) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    file.write_all(serde_json::to_string_pretty(values).unwrap().as_bytes())
        .unwrap();
    file
}

fn run_helm(subcommand: &[&str], values: &Value) -> Output {
    let file = values_file(values);
    let chart = chart_dir();
    Command::new(helm())
        .args(subcommand)
        .arg(&chart)
        .args(["--namespace", NAMESPACE, "--values"])
        .arg(file.path())
        .output()
        .unwrap()
}

/// `helm template` with `values`; panics with helm's stderr when rendering fails.
fn render(values: Value) -> Rendered {
    let output = run_helm(&["template", RELEASE], &values);
    assert!(
        output.status.success(),
        "helm template failed for values {values}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|error| panic!("helm rendered invalid YAML: {error}\n{text}"));
    Rendered {
        objects: documents.into_iter().filter(|doc| !doc.is_null()).collect(),
    }
}

/// `helm template` with `values` that must be refused; returns helm's stderr.
fn render_error(values: Value) -> String {
    let output = run_helm(&["template", RELEASE], &values);
    assert!(
        !output.status.success(),
        "helm template accepted values it must refuse: {values}"
    );
    String::from_utf8(output.stderr).unwrap()
}

fn lint_strict(values: Value) {
    let output = run_helm(&["lint", "--strict"], &values);
    assert!(
        output.status.success(),
        "helm lint --strict failed for values {values}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

struct Rendered {
    objects: Vec<Value>,
}

impl Rendered {
    fn all(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    fn has(&self, kind: &str) -> bool {
        !self.all(kind).is_empty()
    }

    /// The single object of `kind`.
    fn one(&self, kind: &str) -> &Value {
        let found = self.all(kind);
        assert_eq!(
            found.len(),
            1,
            "expected exactly one {kind}, found {}",
            found.len()
        );
        found[0]
    }

    fn named(&self, kind: &str, name: &str) -> &Value {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} named {name}"))
    }

    /// The webhook pods' spec.
    fn pod_spec(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]
    }

    fn container(&self) -> &Value {
        &self.pod_spec()["containers"][0]
    }

    fn args(&self) -> Vec<String> {
        strings(&self.container()["args"])
    }

    fn validating_webhook(&self) -> &Value {
        let configuration = self.one("ValidatingWebhookConfiguration");
        assert_eq!(configuration["webhooks"].as_array().unwrap().len(), 1);
        &configuration["webhooks"][0]
    }

    fn mutating_webhook(&self) -> &Value {
        let configuration = self.one("MutatingWebhookConfiguration");
        assert_eq!(configuration["webhooks"].as_array().unwrap().len(), 1);
        &configuration["webhooks"][0]
    }

    fn test_pod(&self) -> &Value {
        self.named("Pod", &format!("{FULLNAME}-selftest"))
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Values for tls.mode secret: an existing Secret and the CA PEM that signed it.
fn secret_mode(ca_pem: &str) -> Value {
    json!({"tls": {"mode": "secret", "secretName": "corp-webhook-tls", "caBundle": ca_pem}})
}

fn generated_ca_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}

/// One value set per TLS mode, for tests that must hold in all of them.
fn every_tls_mode() -> Vec<(&'static str, Value)> {
    vec![
        ("helm", json!({})),
        ("certManager", json!({"tls": {"mode": "certManager"}})),
        ("secret", secret_mode(&generated_ca_pem())),
    ]
}

// ---------------------------------------------------------------------------------------------
// Lint and schema
// ---------------------------------------------------------------------------------------------

#[test]
fn lint_strict_passes_with_defaults_and_every_tls_mode() {
    skip_without_helm!();
    for (_, values) in every_tls_mode() {
        lint_strict(values);
    }
    lint_strict(json!({
        "tls": {"mode": "certManager", "certManager": {"issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}}}
    }));
    lint_strict(
        json!({"hostNetwork": true, "networkPolicy": {"enabled": true},
        "metrics": {"serviceMonitor": {"enabled": true}}}),
    );
    lint_strict(json!({"autoscaling": {"enabled": true}, "image": {"tag": "latest"}}));
}

#[test]
fn schema_rejects_bad_values_and_names_the_offending_path() {
    skip_without_helm!();
    let cases = [
        (json!({"tls": {"mode": "bogus"}}), "/tls/mode"),
        (
            json!({"tls": {"mode": "secret", "secretName": "x"}}),
            "/tls/caBundle",
        ),
        (
            json!({"tls": {"mode": "secret", "caBundle": generated_ca_pem()}}),
            "/tls/secretName",
        ),
        (
            json!({"tls": {"mode": "secret", "secretName": "x", "caBundle": "not a PEM"}}),
            "/tls/caBundle",
        ),
        (
            json!({"webhook": {"failurePolicy": "Sometimes"}}),
            "/webhook/failurePolicy",
        ),
        (
            json!({"webhook": {"timeoutSeconds": 31}}),
            "/webhook/timeoutSeconds",
        ),
        (
            json!({"webhook": {"objectSelector": {"matchLabel": {"a": "b"}}}}),
            "/webhook/objectSelector",
        ),
        (json!({"replicas": 3}), "replicas"),
        (json!({"replicaCount": 0}), "/replicaCount"),
        (json!({"fullnameOverride": "Bad_Name"}), "/fullnameOverride"),
        (json!({"server": {"logFormat": "xml"}}), "/server/logFormat"),
        (json!({"ports": {"webhook": 70000}}), "/ports/webhook"),
        (json!({"image": {"digest": "latest"}}), "/image/digest"),
        (json!({"podAntiAffinity": "sometimes"}), "/podAntiAffinity"),
        (
            json!({"tls": {"certManager": {"duration": "90 days"}}}),
            "/tls/certManager/duration",
        ),
    ];
    for (values, path) in cases {
        let error = render_error(values.clone());
        assert!(
            error.contains("values don't meet the specifications of the schema"),
            "{values}: not a schema error:\n{error}"
        );
        assert!(
            error.contains(path),
            "{values}: error does not name {path}:\n{error}"
        );
    }
}

#[test]
fn template_checks_refuse_inconsistent_values() {
    skip_without_helm!();
    let error = render_error(
        json!({"terminationGracePeriodSeconds": 15, "server": {"shutdownDelaySeconds": 5, "drainTimeoutSeconds": 10}}),
    );
    assert!(
        error.contains(
            "terminationGracePeriodSeconds (15) must be larger than server.shutdownDelaySeconds + server.drainTimeoutSeconds (15)"
        ),
        "{error}"
    );
    let error = render_error(json!({"ports": {"webhook": 9000, "metrics": 9000}}));
    assert!(
        error.contains("ports.webhook and ports.metrics are both 9000"),
        "{error}"
    );
}

#[test]
fn chart_app_version_is_the_crate_version() {
    skip_without_helm!();
    let chart: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(chart_dir().join("Chart.yaml")).unwrap())
            .unwrap();
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
    let image = render(json!({})).container()["image"].clone();
    assert_eq!(
        image,
        format!("bgppeer-webhook:{}", env!("CARGO_PKG_VERSION"))
    );
}

// ---------------------------------------------------------------------------------------------
// Webhook configurations
// ---------------------------------------------------------------------------------------------

fn expected_rules() -> Value {
    json!([
        {"apiGroups": ["crd.projectcalico.org"], "apiVersions": ["v1"],
         "operations": ["CREATE", "UPDATE"], "resources": ["bgppeers"], "scope": "Cluster"},
        {"apiGroups": ["projectcalico.org"], "apiVersions": ["v3"],
         "operations": ["CREATE", "UPDATE"], "resources": ["bgppeers"], "scope": "Cluster"},
    ])
}

#[test]
fn both_webhook_configurations_register_bgppeers_in_both_groups() {
    skip_without_helm!();
    for (mode, values) in every_tls_mode() {
        let rendered = render(values);
        for (webhook, name, path) in [
            (
                rendered.validating_webhook(),
                VALIDATING_WEBHOOK,
                "/validate",
            ),
            (rendered.mutating_webhook(), MUTATING_WEBHOOK, "/mutate"),
        ] {
            assert_eq!(webhook["name"], name, "{mode}");
            assert_eq!(webhook["rules"], expected_rules(), "{mode} {name}");
            assert_eq!(webhook["sideEffects"], "None");
            assert_eq!(webhook["admissionReviewVersions"], json!(["v1"]));
            assert_eq!(webhook["matchPolicy"], "Equivalent");
            assert_eq!(webhook["failurePolicy"], "Fail");
            assert_eq!(webhook["timeoutSeconds"], 5);
            assert!(webhook.get("objectSelector").is_none());
            assert_eq!(
                webhook["clientConfig"]["service"],
                json!({"name": FULLNAME, "namespace": NAMESPACE, "path": path, "port": 443})
            );
        }
        assert_eq!(rendered.mutating_webhook()["reinvocationPolicy"], "Never");
        for kind in [
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ] {
            let configuration = rendered.one(kind);
            assert_eq!(configuration["metadata"]["name"], FULLNAME);
            // Plain chart resources: no hook annotation, so `helm uninstall` deletes them first.
            assert!(
                configuration["metadata"]["annotations"]
                    .get("helm.sh/hook")
                    .is_none()
            );
        }
    }
}

#[test]
fn webhook_names_are_fully_qualified_for_any_release_name() {
    skip_without_helm!();
    for fullname in [
        "w",
        "a-very-long-release-name-for-a-bgppeer-webhook-in-production-xy",
    ] {
        let rendered = render(json!({"fullnameOverride": fullname}));
        for webhook in [rendered.validating_webhook(), rendered.mutating_webhook()] {
            let name = webhook["name"].as_str().unwrap();
            let segments: Vec<&str> = name.split('.').collect();
            assert!(segments.len() >= 3, "{name} is not fully qualified");
            assert!(name.len() <= 253);
            for segment in segments {
                assert!(!segment.is_empty() && segment.len() <= 63, "{name}");
                assert!(
                    segment
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn failure_policy_timeout_and_object_selector_reach_both_webhooks_and_the_test() {
    skip_without_helm!();
    let selector = json!({"matchLabels": {"bgppeer-webhook.example.com/enforce": "true"}});
    let rendered = render(json!({"webhook": {
        "failurePolicy": "Ignore", "timeoutSeconds": 10, "objectSelector": selector}}));
    for webhook in [rendered.validating_webhook(), rendered.mutating_webhook()] {
        assert_eq!(webhook["failurePolicy"], "Ignore");
        assert_eq!(webhook["timeoutSeconds"], 10);
        assert_eq!(webhook["objectSelector"], selector);
    }
    // The probes of `helm test` must match the selector, or the test could not see the webhook.
    let args = strings(&rendered.test_pod()["spec"]["containers"][0]["args"]);
    assert!(
        args.contains(&"--label=bgppeer-webhook.example.com/enforce=true".to_owned()),
        "{args:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// TLS modes
// ---------------------------------------------------------------------------------------------

fn ca_bundles(rendered: &Rendered) -> Vec<Option<String>> {
    [rendered.validating_webhook(), rendered.mutating_webhook()]
        .iter()
        .map(|w| {
            w["clientConfig"]
                .get("caBundle")
                .map(|v| v.as_str().unwrap().to_owned())
        })
        .collect()
}

fn decode(base64: &Value) -> Vec<u8> {
    BASE64.decode(base64.as_str().unwrap()).unwrap()
}

fn dns_names(certificate_pem: &[u8]) -> Vec<String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(certificate_pem).unwrap();
    let certificate = pem.parse_x509().unwrap();
    let san = certificate.subject_alternative_name().unwrap().unwrap();
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            x509_parser::extensions::GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            _ => None,
        })
        .collect()
}

/// A TLS handshake over an in-memory pipe: the server uses `cert_pem`/`key_pem`, the client trusts
/// only `ca_pem` and connects to `server_name`, as the kube-apiserver does with a caBundle.
fn handshake(
    cert_pem: &[u8],
    key_pem: &[u8],
    ca_pem: &[u8],
    server_name: &str,
) -> Result<(), String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| e.to_string())?;
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(ca.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| e.to_string())?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let server_side = tokio::spawn(async move { acceptor.accept(server_io).await.map(|_| ()) });
        // Keep the client's end open until the server has finished (it still writes after the
        // client's last handshake message).
        let client_stream = connector
            .connect(name, client_io)
            .await
            .map_err(|e| format!("client: {e}"))?;
        let server_side = server_side.await.unwrap();
        drop(client_stream);
        server_side.map_err(|e| format!("server: {e}"))
    })
}

#[test]
fn helm_mode_generates_a_ca_and_a_serving_certificate_the_apiserver_accepts() {
    skip_without_helm!();
    let rendered = render(json!({"tls": {"clusterDomain": "corp.example"}}));
    let secret = rendered.one("Secret");
    assert_eq!(secret["metadata"]["name"], format!("{FULLNAME}-tls"));
    assert_eq!(secret["type"], "kubernetes.io/tls");
    let data = &secret["data"];

    // Both caBundles are the generated CA (one render generates it once).
    for bundle in ca_bundles(&rendered) {
        assert_eq!(bundle.as_deref(), data["ca.crt"].as_str());
    }

    let certificate = decode(&data["tls.crt"]);
    let svc = FULLNAME;
    let names = dns_names(&certificate);
    for expected in [
        svc.to_owned(),
        format!("{svc}.{NAMESPACE}"),
        format!("{svc}.{NAMESPACE}.svc"),
        format!("{svc}.{NAMESPACE}.svc.corp.example"),
    ] {
        assert!(names.contains(&expected), "SANs {names:?} lack {expected}");
    }

    // The name the kube-apiserver dials for a service reference, verified against the caBundle.
    let key = decode(&data["tls.key"]);
    let ca = decode(&data["ca.crt"]);
    handshake(&certificate, &key, &ca, &format!("{svc}.{NAMESPACE}.svc")).unwrap();
    // ... and a name outside the SANs is refused, so the check above means something.
    let error = handshake(&certificate, &key, &ca, "elsewhere.example").unwrap_err();
    assert!(error.contains("client"), "{error}");

    // The pods mount this very Secret.
    assert_eq!(
        rendered.pod_spec()["volumes"][0]["secret"]["secretName"],
        format!("{FULLNAME}-tls")
    );
    assert!(!rendered.has("Certificate") && !rendered.has("Issuer"));
}

#[test]
fn helm_mode_without_a_cluster_generates_fresh_material_on_every_render() {
    skip_without_helm!();
    // `helm template` has no cluster: lookup finds no Secret to reuse. (With a cluster, an
    // existing Secret is reused; that path needs an API server and is covered by docs/install.md's
    // install steps.)
    let first = render(json!({}));
    let second = render(json!({}));
    assert_ne!(
        first.one("Secret")["data"]["ca.crt"],
        second.one("Secret")["data"]["ca.crt"]
    );
}

#[test]
fn cert_manager_mode_leaves_the_ca_bundle_to_the_injector() {
    skip_without_helm!();
    let rendered = render(json!({"tls": {"mode": "certManager"}}));
    assert_eq!(ca_bundles(&rendered), vec![None, None]);
    let serving_name = format!("{FULLNAME}-tls");
    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        assert_eq!(
            rendered.one(kind)["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            format!("{NAMESPACE}/{serving_name}")
        );
    }
    assert!(
        !rendered.has("Secret"),
        "cert-manager writes the Secret, not the chart"
    );

    // Self-signed Issuer -> CA Certificate -> CA Issuer -> serving Certificate.
    let selfsigned = rendered.named("Issuer", &format!("{FULLNAME}-selfsigned"));
    assert_eq!(selfsigned["spec"]["selfSigned"], json!({}));
    let ca = rendered.named("Certificate", &format!("{FULLNAME}-ca"));
    assert_eq!(ca["spec"]["isCA"], true);
    assert_eq!(
        ca["spec"]["issuerRef"]["name"],
        format!("{FULLNAME}-selfsigned")
    );
    let ca_issuer = rendered.named("Issuer", &format!("{FULLNAME}-ca"));
    assert_eq!(
        ca_issuer["spec"]["ca"]["secretName"],
        ca["spec"]["secretName"]
    );
    let serving = rendered.named("Certificate", &serving_name);
    assert_eq!(
        serving["spec"]["issuerRef"]["name"],
        format!("{FULLNAME}-ca")
    );
    assert_eq!(serving["spec"]["issuerRef"]["kind"], "Issuer");
    assert_eq!(serving["spec"]["secretName"], serving_name);
    assert!(strings(&serving["spec"]["dnsNames"]).contains(&format!("{FULLNAME}.{NAMESPACE}.svc")));
    assert_eq!(
        rendered.pod_spec()["volumes"][0]["secret"]["secretName"],
        serving_name
    );
}

#[test]
fn cert_manager_mode_with_a_configured_issuer_creates_no_issuers() {
    skip_without_helm!();
    let issuer = json!({"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"});
    let rendered =
        render(json!({"tls": {"mode": "certManager", "certManager": {"issuerRef": issuer}}}));
    assert!(!rendered.has("Issuer"));
    let certificate = rendered.one("Certificate");
    assert_eq!(certificate["spec"]["issuerRef"], issuer);
    assert_eq!(ca_bundles(&rendered), vec![None, None]);
}

#[test]
fn secret_mode_mounts_the_existing_secret_and_publishes_the_given_ca() {
    skip_without_helm!();
    let ca = generated_ca_pem();
    let rendered = render(secret_mode(&ca));
    for bundle in ca_bundles(&rendered) {
        assert_eq!(BASE64.decode(bundle.unwrap()).unwrap(), ca.as_bytes());
    }
    assert_eq!(
        rendered.pod_spec()["volumes"][0]["secret"]["secretName"],
        "corp-webhook-tls"
    );
    assert!(!rendered.has("Secret") && !rendered.has("Certificate") && !rendered.has("Issuer"));
}

#[test]
fn the_tls_secret_is_mounted_as_a_directory_so_rotation_reaches_the_server() {
    skip_without_helm!();
    for (mode, values) in every_tls_mode() {
        let rendered = render(values);
        let mounts = &rendered.container()["volumeMounts"];
        let tls = mounts
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "tls")
            .unwrap();
        assert!(
            tls.get("subPath").is_none(),
            "{mode}: subPath mounts never see renewed files"
        );
        assert_eq!(tls["readOnly"], true);
        let dir = tls["mountPath"].as_str().unwrap();
        let args = rendered.args();
        assert!(
            args.contains(&format!("--tls-cert-file={dir}/tls.crt")),
            "{args:?}"
        );
        assert!(
            args.contains(&format!("--tls-key-file={dir}/tls.key")),
            "{args:?}"
        );
        // Hot reload, not restarts: no checksum annotation that would roll the pods.
        assert!(
            rendered.one("Deployment")["spec"]["template"]["metadata"]
                .get("annotations")
                .is_none()
        );
    }
}

#[test]
fn client_ca_is_mounted_and_required_only_when_configured() {
    skip_without_helm!();
    assert!(
        !render(json!({}))
            .args()
            .iter()
            .any(|a| a.starts_with("--client-ca-file"))
    );
    let rendered = render(json!({"tls": {"clientCA": {"configMapName": "apiserver-client-ca"}}}));
    assert!(
        rendered
            .args()
            .contains(&"--client-ca-file=/etc/bgppeer-webhook/client-ca/ca.crt".to_owned())
    );
    let volume = rendered.pod_spec()["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "client-ca")
        .unwrap()
        .clone();
    assert_eq!(volume["configMap"]["name"], "apiserver-client-ca");
}

// ---------------------------------------------------------------------------------------------
// Pods: security, availability, networking
// ---------------------------------------------------------------------------------------------

/// The restricted Pod Security Standard, checked on a pod spec and each of its containers.
fn assert_restricted(pod_spec: &Value, what: &str) {
    let pod = &pod_spec["securityContext"];
    assert_eq!(pod["runAsNonRoot"], true, "{what}");
    assert_eq!(pod["runAsUser"], IMAGE_UID, "{what}");
    assert_eq!(pod["seccompProfile"]["type"], "RuntimeDefault", "{what}");
    for container in pod_spec["containers"].as_array().unwrap() {
        let sc = &container["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}");
        assert_eq!(sc["runAsNonRoot"], true, "{what}");
        assert_eq!(sc["runAsUser"], IMAGE_UID, "{what}");
        assert_eq!(sc["capabilities"], json!({"drop": ["ALL"]}), "{what}");
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{what}");
        assert!(sc.get("privileged").is_none_or(|p| p == false), "{what}");
        let resources = &container["resources"];
        for field in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    resources[field][resource].is_string(),
                    "{what}: no {field}.{resource}"
                );
            }
        }
    }
    assert!(pod_spec.get("hostPID").is_none() && pod_spec.get("hostIPC").is_none());
}

#[test]
fn every_pod_runs_under_the_restricted_pod_security_standard() {
    skip_without_helm!();
    let rendered = render(json!({}));
    assert_restricted(rendered.pod_spec(), "webhook");
    assert_restricted(&rendered.test_pod()["spec"], "helm test pod");
    assert!(rendered.pod_spec().get("hostNetwork").is_none());
    assert_eq!(rendered.pod_spec()["serviceAccountName"], FULLNAME);
    // The cluster checks (on by default) read the API: a token in the pods and the account.
    assert_eq!(rendered.pod_spec()["automountServiceAccountToken"], true);
    // Without them the server never calls the API: no token in its pods, none in its
    // ServiceAccount.
    let offline = render(json!({"clusterChecks": {"enabled": false}}));
    assert_eq!(offline.pod_spec()["automountServiceAccountToken"], false);
    assert_eq!(
        offline.named("ServiceAccount", FULLNAME)["automountServiceAccountToken"],
        false
    );
}

#[test]
fn deployment_is_highly_available_by_default() {
    skip_without_helm!();
    let rendered = render(json!({}));
    let deployment = rendered.one("Deployment");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let selector = &deployment["spec"]["selector"]["matchLabels"];
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    for (key, value) in selector.as_object().unwrap() {
        assert_eq!(
            &pod_labels[key], value,
            "the selector must match the pod labels"
        );
    }

    let pdb = rendered.one("PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], selector);

    let spec = rendered.pod_spec();
    let anti =
        &spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(
        anti["podAffinityTerm"]["topologyKey"],
        "kubernetes.io/hostname"
    );
    assert_eq!(
        &anti["podAffinityTerm"]["labelSelector"]["matchLabels"],
        selector
    );
    let spread = &spec["topologySpreadConstraints"][0];
    assert_eq!(spread["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(&spread["labelSelector"]["matchLabels"], selector);

    let container = rendered.container();
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "metrics"})
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "metrics"})
    );

    // The grace period outlasts the shutdown delay plus the drain timeout the server is given.
    let args = rendered.args();
    assert!(args.contains(&"--shutdown-delay=5s".to_owned()), "{args:?}");
    assert!(args.contains(&"--drain-timeout=10s".to_owned()), "{args:?}");
    assert!(spec["terminationGracePeriodSeconds"].as_i64().unwrap() > 5 + 10);
    assert_eq!(args[0], "serve");
    assert!(args.contains(&"--listen=0.0.0.0:8443".to_owned()));
    assert!(args.contains(&"--metrics-listen=0.0.0.0:9090".to_owned()));

    // The Service sends port 443 to the container's named webhook port, and selects the pods.
    let service = rendered.one("Service");
    let https = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "https")
        .unwrap();
    assert_eq!(https["port"], 443);
    assert_eq!(https["targetPort"], "https");
    let container_port = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "https")
        .unwrap();
    assert_eq!(container_port["containerPort"], 8443);
    assert_eq!(&service["spec"]["selector"], selector);

    // The `helm test` Pod is not a webhook pod: outside the Service, PDB and NetworkPolicy.
    let test_labels = &rendered.test_pod()["metadata"]["labels"];
    assert!(
        selector
            .as_object()
            .unwrap()
            .iter()
            .any(|(k, v)| &test_labels[k] != v)
    );
}

#[test]
fn a_single_replica_gets_no_pod_disruption_budget() {
    skip_without_helm!();
    let rendered = render(json!({"replicaCount": 1}));
    assert!(
        !rendered.has("PodDisruptionBudget"),
        "minAvailable 1 of 1 would block every drain"
    );
}

#[test]
fn operator_settings_reach_the_pods() {
    skip_without_helm!();
    let rendered = render(json!({
        "priorityClassName": "system-cluster-critical",
        "image": {"repository": "registry.example/bgppeer-webhook",
                  "digest": format!("sha256:{}", "a".repeat(64))},
        "imagePullSecrets": [{"name": "registry"}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}],
        "extraArgs": ["--log-level=debug"],
        "extraEnv": [{"name": "RUST_BACKTRACE", "value": "1"}],
        "server": {"maxBodyBytes": 1048576, "logFormat": "text",
                   "maxConcurrentReviews": 4, "maxBodyBytesInFlight": 16777216},
        "podAntiAffinity": "hard",
    }));
    let spec = rendered.pod_spec();
    assert_eq!(spec["priorityClassName"], "system-cluster-critical");
    assert_eq!(
        rendered.container()["image"],
        format!("registry.example/bgppeer-webhook@sha256:{}", "a".repeat(64))
    );
    assert_eq!(spec["imagePullSecrets"], json!([{"name": "registry"}]));
    assert_eq!(spec["nodeSelector"], json!({"kubernetes.io/os": "linux"}));
    assert_eq!(spec["tolerations"][0]["operator"], "Exists");
    assert!(
        spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            .is_array()
    );
    let args = rendered.args();
    assert_eq!(args.last().unwrap(), "--log-level=debug");
    assert!(
        args.contains(&"--max-body-bytes=1048576".to_owned()),
        "{args:?}"
    );
    assert!(args.contains(&"--log-format=text".to_owned()));
    assert!(
        args.contains(&"--max-concurrent-reviews=4".to_owned()),
        "{args:?}"
    );
    assert!(
        args.contains(&"--max-body-bytes-in-flight=16777216".to_owned()),
        "{args:?}"
    );
    // The operator's variables follow the audit's Lease identity (on by default).
    assert_eq!(
        rendered.container()["env"],
        json!([
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "RUST_BACKTRACE", "value": "1"},
        ])
    );
}

/// Parses `args` with the binary's own command line, as the container's entrypoint would.
fn assert_cli_accepts(args: &[String], what: &str) {
    use clap::Parser;
    let argv = std::iter::once("bgppeer-webhook".to_owned()).chain(args.iter().cloned());
    if let Err(error) = bgppeer_webhook::cmd::Cli::try_parse_from(argv) {
        panic!("the binary refuses the {what} arguments {args:?}:\n{error}");
    }
}

#[test]
fn the_binary_accepts_every_argument_the_chart_passes() {
    skip_without_helm!();
    let ca_pem = generated_ca_pem();
    let mut value_sets = every_tls_mode()
        .into_iter()
        .map(|(_, values)| values)
        .collect::<Vec<_>>();
    value_sets.push(json!({
        "hostNetwork": true,
        "server": {"maxBodyBytes": 1048576, "logFormat": "text", "logLevel": "debug",
                   "maxConcurrentReviews": 4096, "maxBodyBytesInFlight": 4294967296u64},
        "tls": {"clientCA": {"configMapName": "apiserver-client-ca"}},
    }));
    value_sets.push(secret_mode(&ca_pem));
    for values in value_sets {
        let rendered = render(values.clone());
        assert_cli_accepts(&rendered.args(), &format!("server ({values})"));
        let test_args = strings(&rendered.test_pod()["spec"]["containers"][0]["args"]);
        assert_eq!(test_args.first().map(String::as_str), Some("selftest"));
        assert_cli_accepts(&test_args, &format!("selftest ({values})"));
    }
}

#[test]
fn host_network_moves_the_ports_and_resolves_cluster_names() {
    skip_without_helm!();
    let rendered =
        render(json!({"hostNetwork": true, "ports": {"webhook": 10260, "metrics": 10261}}));
    let spec = rendered.pod_spec();
    assert_eq!(spec["hostNetwork"], true);
    assert_eq!(spec["dnsPolicy"], "ClusterFirstWithHostNet");
    let args = rendered.args();
    assert!(
        args.contains(&"--listen=0.0.0.0:10260".to_owned()),
        "{args:?}"
    );
    assert!(
        args.contains(&"--metrics-listen=0.0.0.0:10261".to_owned()),
        "{args:?}"
    );
    let ports: BTreeMap<String, i64> = rendered.container()["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["containerPort"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        BTreeMap::from([("https".to_owned(), 10260), ("metrics".to_owned(), 10261)])
    );
    // The apiserver still calls the Service on 443; only the target moved.
    assert_eq!(
        rendered.validating_webhook()["clientConfig"]["service"]["port"],
        443
    );
}

#[test]
fn network_policy_opens_the_webhook_port_metrics_to_the_selector_and_no_egress() {
    skip_without_helm!();
    assert!(!render(json!({})).has("NetworkPolicy"));
    let from = json!([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]);
    let rendered = render(
        json!({"networkPolicy": {"enabled": true, "metricsFrom": from},
        "clusterChecks": {"enabled": false}}),
    );
    let policy = rendered.one("NetworkPolicy");
    assert_eq!(
        &policy["spec"]["podSelector"]["matchLabels"],
        &rendered.one("Deployment")["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert!(
        policy["spec"].get("egress").is_none(),
        "the server opens no connections"
    );
    let ingress = policy["spec"]["ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 2);
    assert!(
        ingress[0].get("from").is_none(),
        "the apiserver's address is not known in advance"
    );
    assert_eq!(
        ingress[0]["ports"],
        json!([{"port": "https", "protocol": "TCP"}])
    );
    assert_eq!(ingress[1]["from"], from);
    assert_eq!(
        ingress[1]["ports"],
        json!([{"port": "metrics", "protocol": "TCP"}])
    );
}

#[test]
fn service_monitor_scrapes_the_metrics_port_when_enabled() {
    skip_without_helm!();
    assert!(!render(json!({})).has("ServiceMonitor"));
    let rendered = render(
        json!({"metrics": {"serviceMonitor": {"enabled": true, "labels": {"release": "prom"}}}}),
    );
    let monitor = rendered.one("ServiceMonitor");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prom");
    let service_labels = &rendered.one("Service")["metadata"]["labels"];
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(
            &service_labels[key], value,
            "the ServiceMonitor must select the Service"
        );
    }
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    assert!(
        rendered.one("Service")["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "metrics")
    );
}

// ---------------------------------------------------------------------------------------------
// helm test
// ---------------------------------------------------------------------------------------------

#[test]
fn helm_test_runs_selftest_against_these_webhooks_with_minimal_rbac() {
    skip_without_helm!();
    let rendered = render(json!({}));
    let pod = rendered.test_pod();
    let annotations = &pod["metadata"]["annotations"];
    assert_eq!(annotations["helm.sh/hook"], "test");
    assert_eq!(pod["spec"]["restartPolicy"], "Never");
    assert_eq!(pod["spec"]["automountServiceAccountToken"], true);
    let container = &pod["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        rendered.container()["image"],
        "the webhook image tests itself"
    );
    assert_eq!(
        strings(&container["args"]),
        vec![
            "selftest".to_owned(),
            format!("--validating-webhook={VALIDATING_WEBHOOK}"),
            format!("--mutating-webhook={MUTATING_WEBHOOK}"),
        ]
    );

    let account = format!("{FULLNAME}-selftest");
    assert_eq!(pod["spec"]["serviceAccountName"], account);
    let role = rendered.named("ClusterRole", &account);
    assert_eq!(
        role["rules"],
        json!([{"apiGroups": ["crd.projectcalico.org"], "resources": ["bgppeers"], "verbs": ["create"]}]),
        "dry-run create is all the test does"
    );
    let binding = rendered.named("ClusterRoleBinding", &account);
    assert_eq!(binding["roleRef"]["name"], account);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}])
    );

    // The RBAC exists before the Pod starts: lower hook weights.
    let weight = |o: &Value| {
        o["metadata"]["annotations"]["helm.sh/hook-weight"]
            .as_str()
            .unwrap()
            .parse::<i32>()
            .unwrap()
    };
    let pod_weight = weight(pod);
    for kind in ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"] {
        let object = rendered.named(kind, &account);
        assert_eq!(object["metadata"]["annotations"]["helm.sh/hook"], "test");
        assert!(
            weight(object) < pod_weight,
            "{kind} must be created before the Pod"
        );
    }

    let disabled = render(json!({"test": {"enabled": false}}));
    assert!(!disabled.has("Pod"));
    for kind in ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"] {
        assert!(
            !disabled
                .objects
                .iter()
                .any(|o| o["kind"] == kind && o["metadata"]["name"] == account.as_str()),
            "{kind} {account} rendered without the test"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes types
// ---------------------------------------------------------------------------------------------

/// Deserializes `object` into the k8s-openapi type and serializes it back: equality proves every
/// rendered field is a known field of the right type (k8s-openapi drops unknown fields).
fn assert_round_trips<T: DeserializeOwned + Serialize>(object: &Value) {
    let typed: T = serde_json::from_value(object.clone()).unwrap_or_else(|error| {
        panic!(
            "{} {} does not deserialize: {error}",
            object["kind"], object["metadata"]["name"]
        )
    });
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        &back, object,
        "{} lost or changed fields in a round trip",
        object["kind"]
    );
}

#[test]
fn rendered_objects_are_valid_kubernetes_objects() {
    skip_without_helm!();
    let mut value_sets = every_tls_mode();
    value_sets.push(("combined", json!({
        "hostNetwork": true,
        "networkPolicy": {"enabled": true},
        "autoscaling": {"enabled": true},
        "metrics": {"serviceMonitor": {"enabled": true}},
        "webhook": {"failurePolicy": "Ignore", "objectSelector": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}},
        "tls": {"clientCA": {"configMapName": "ca"}},
    })));
    for (mode, values) in value_sets {
        let rendered = render(values);
        let mut checked = BTreeMap::<String, usize>::new();
        for object in &rendered.objects {
            let kind = object["kind"].as_str().unwrap();
            match kind {
                "ValidatingWebhookConfiguration" => {
                    assert_round_trips::<ValidatingWebhookConfiguration>(object)
                }
                "MutatingWebhookConfiguration" => {
                    assert_round_trips::<MutatingWebhookConfiguration>(object)
                }
                "Deployment" => assert_round_trips::<Deployment>(object),
                "Service" => assert_round_trips::<Service>(object),
                "ServiceAccount" => assert_round_trips::<ServiceAccount>(object),
                "Secret" => assert_round_trips::<Secret>(object),
                "PodDisruptionBudget" => assert_round_trips::<PodDisruptionBudget>(object),
                "NetworkPolicy" => assert_round_trips::<NetworkPolicy>(object),
                "HorizontalPodAutoscaler" => assert_round_trips::<HorizontalPodAutoscaler>(object),
                "Pod" => assert_round_trips::<Pod>(object),
                "ClusterRole" => assert_round_trips::<ClusterRole>(object),
                "ClusterRoleBinding" => assert_round_trips::<ClusterRoleBinding>(object),
                "Role" => assert_round_trips::<Role>(object),
                "RoleBinding" => assert_round_trips::<RoleBinding>(object),
                // CRD kinds (cert-manager, Prometheus Operator) have no k8s-openapi type.
                "Certificate" | "Issuer" | "ServiceMonitor" => continue,
                other => panic!("{mode}: unexpected kind {other}: add it to this test"),
            }
            *checked.entry(kind.to_owned()).or_default() += 1;
        }
        for kind in [
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
            "Deployment",
        ] {
            assert_eq!(checked.get(kind), Some(&1), "{mode}: {kind}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster-aware checks
// ---------------------------------------------------------------------------------------------

#[test]
fn cluster_checks_get_exactly_the_reads_they_need() {
    skip_without_helm!();
    let rendered = render(json!({}));
    let args = strings(&rendered.container()["args"]);
    assert!(args.contains(&"--cluster-checks".to_owned()), "{args:?}");
    assert!(!args.iter().any(|arg| arg.starts_with("--password-checks")));
    let role = rendered.named("ClusterRole", FULLNAME);
    assert_eq!(
        role["rules"],
        json!([
            {"apiGroups": ["crd.projectcalico.org", "projectcalico.org"],
             "resources": ["bgpfilters", "bgppeers", "bgpconfigurations"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
        ])
    );
    let binding = rendered.named("ClusterRoleBinding", FULLNAME);
    assert_eq!(binding["roleRef"]["name"], FULLNAME);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}])
    );
    // No access to Secrets without password checks, anywhere (the only Roles are the audit's,
    // tested in `the_audit_is_on_by_default_with_exactly_the_rbac_it_needs`).
    for role in rendered.all("Role") {
        assert!(
            role["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{FULLNAME}-audit-")),
            "{role}"
        );
    }
    for kind in ["Role", "ClusterRole"] {
        for role in rendered.all(kind) {
            assert!(
                !serde_json::to_string(role).unwrap().contains("secrets"),
                "{role}"
            );
        }
    }
    let no_audit = render(json!({"audit": {"interval": "0"}}));
    assert!(!no_audit.has("Role") && !no_audit.has("RoleBinding"));

    let off = render(json!({"clusterChecks": {"enabled": false}}));
    assert!(
        !off.objects.iter().any(|o| o["metadata"]["name"] == FULLNAME
            && (o["kind"] == "ClusterRole" || o["kind"] == "ClusterRoleBinding"))
    );
    assert!(
        !strings(&off.container()["args"])
            .iter()
            .any(|arg| arg.starts_with("--cluster-checks"))
    );
}

#[test]
fn the_audit_is_on_by_default_with_exactly_the_rbac_it_needs() {
    skip_without_helm!();
    let rendered = render(json!({}));
    let args = rendered.args();
    let lease = format!("{FULLNAME}-audit");
    for expected in [
        "--cluster-checks".to_owned(),
        "--audit-interval=5m".to_owned(),
        "--audit-events".to_owned(),
        format!("--lease-namespace={NAMESPACE}"),
        format!("--lease-name={lease}"),
    ] {
        assert!(args.contains(&expected), "{expected} in {args:?}");
    }
    assert_eq!(
        rendered.container()["env"],
        json!([{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}])
    );
    let events = rendered.named("Role", &format!("{FULLNAME}-audit-events"));
    assert_eq!(events["metadata"]["namespace"], "default");
    assert_eq!(
        events["rules"],
        json!([{"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]}])
    );
    let leases = rendered.named("Role", &format!("{FULLNAME}-audit-lease"));
    assert_eq!(leases["metadata"]["namespace"], NAMESPACE);
    assert_eq!(
        leases["rules"],
        json!([
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
             "resourceNames": [lease], "verbs": ["get", "patch"]},
        ])
    );
    for (name, namespace) in [
        (format!("{FULLNAME}-audit-events"), "default"),
        (format!("{FULLNAME}-audit-lease"), NAMESPACE),
    ] {
        let binding = rendered.named("RoleBinding", &name);
        assert_eq!(binding["metadata"]["namespace"], namespace);
        assert_eq!(
            binding["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name})
        );
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}])
        );
    }
    assert_cli_accepts(&args, "audit defaults");

    // Metrics and logs only: no Events, no Roles, no identity.
    let quiet = render(json!({"audit": {"interval": "1m30s", "events": false},
                              "extraEnv": [{"name": "A", "value": "b"}]}));
    let args = quiet.args();
    assert!(
        args.contains(&"--audit-interval=1m30s".to_owned()),
        "{args:?}"
    );
    assert!(
        !args
            .iter()
            .any(|arg| arg.starts_with("--audit-events") || arg.starts_with("--lease"))
    );
    assert!(!quiet.has("Role") && !quiet.has("RoleBinding"));
    assert_eq!(
        quiet.container()["env"],
        json!([{"name": "A", "value": "b"}])
    );
    // Off, or without cluster checks (the audit reads their caches): no flag at all.
    for values in [
        json!({"audit": {"interval": "0"}}),
        json!({"clusterChecks": {"enabled": false}}),
    ] {
        let off = render(values.clone());
        assert!(
            !off.args().iter().any(|arg| arg.starts_with("--audit")),
            "{values}"
        );
        assert!(!off.has("Role"), "{values}");
        assert!(off.container()["env"].is_null(), "{values}");
    }
    let error = render_error(json!({"audit": {"interval": "5 minutes"}}));
    assert!(error.contains("audit"), "{error}");
}

#[test]
fn password_checks_read_secrets_in_the_calico_namespace_only() {
    skip_without_helm!();
    let rendered = render(
        json!({"clusterChecks": {"enabled": true, "passwordChecks": true,
        "calicoNamespace": "kube-system"}}),
    );
    let args = strings(&rendered.container()["args"]);
    for expected in [
        "--cluster-checks",
        "--password-checks",
        "--calico-namespace=kube-system",
    ] {
        assert!(
            args.contains(&expected.to_owned()),
            "{expected} in {args:?}"
        );
    }
    assert_eq!(rendered.pod_spec()["automountServiceAccountToken"], true);
    let name = format!("{FULLNAME}-secrets");
    let role = rendered.named("Role", &name);
    assert_eq!(role["metadata"]["namespace"], "kube-system");
    assert_eq!(
        role["rules"],
        json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}])
    );
    let binding = rendered.named("RoleBinding", &name);
    assert_eq!(binding["metadata"]["namespace"], "kube-system");
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name})
    );
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}])
    );
    let error = render_error(
        json!({"clusterChecks": {"enabled": true, "passwordChecks": true,
        "calicoNamespace": "Not A Namespace"}}),
    );
    assert!(error.contains("calicoNamespace"), "{error}");
}

#[test]
fn network_policy_lets_cluster_checks_reach_the_api_server_only() {
    skip_without_helm!();
    let rendered = render(json!({"networkPolicy": {"enabled": true}}));
    let policy = rendered.one("NetworkPolicy");
    assert_eq!(
        policy["spec"]["egress"],
        json!([{"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}])
    );
}

// ---------------------------------------------------------------------------------------------
// Autoscaling and disruption budget
// ---------------------------------------------------------------------------------------------

#[test]
fn autoscaling_replaces_replicas_with_a_horizontal_pod_autoscaler() {
    skip_without_helm!();
    assert!(!render(json!({})).has("HorizontalPodAutoscaler"));
    let rendered = render(json!({"autoscaling": {"enabled": true, "minReplicas": 3,
        "maxReplicas": 7, "targetCPUUtilizationPercentage": 60}}));
    let hpa = rendered.one("HorizontalPodAutoscaler");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": FULLNAME})
    );
    assert_eq!(hpa["spec"]["minReplicas"], 3);
    assert_eq!(hpa["spec"]["maxReplicas"], 7);
    assert_eq!(
        hpa["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 60}}}])
    );
    // The autoscaler owns the replica count: an upgrade must not reset it.
    let deployment = rendered.one("Deployment");
    assert!(
        deployment["spec"].get("replicas").is_none(),
        "{}",
        deployment["spec"]
    );
    // Utilization is a percentage of the CPU request, which the default resources set.
    assert!(rendered.container()["resources"]["requests"]["cpu"].is_string());
    // The disruption budget follows the autoscaler's floor.
    assert_eq!(
        rendered.one("PodDisruptionBudget")["spec"]["minAvailable"],
        1
    );
    let floor_of_one = render(json!({"autoscaling": {"enabled": true, "minReplicas": 1}}));
    assert!(
        !floor_of_one.has("PodDisruptionBudget"),
        "with one pod, minAvailable 1 would block every drain"
    );
    // replicaCount no longer decides the budget under autoscaling.
    assert!(
        render(json!({"replicaCount": 1, "autoscaling": {"enabled": true}}))
            .has("PodDisruptionBudget")
    );
}

#[test]
fn autoscaling_values_are_checked() {
    skip_without_helm!();
    for (values, path) in [
        (
            json!({"autoscaling": {"enabled": true, "minReplicas": 0}}),
            "/autoscaling/minReplicas",
        ),
        (
            json!({"autoscaling": {"enabled": true, "maxReplicas": 0}}),
            "/autoscaling/maxReplicas",
        ),
        (
            json!({"autoscaling": {"enabled": true, "targetCPUUtilizationPercentage": 0}}),
            "/autoscaling/targetCPUUtilizationPercentage",
        ),
        (
            json!({"autoscaling": {"enabled": "yes"}}),
            "/autoscaling/enabled",
        ),
        (json!({"autoscaling": {"maxReplica": 3}}), "maxReplica"),
    ] {
        let error = render_error(values.clone());
        assert!(
            error.contains("values don't meet the specifications of the schema"),
            "{values}: not a schema error:\n{error}"
        );
        assert!(
            error.contains(path),
            "{values}: does not name {path}:\n{error}"
        );
    }
    let error =
        render_error(json!({"autoscaling": {"enabled": true, "minReplicas": 4, "maxReplicas": 3}}));
    assert!(
        error.contains(
            "autoscaling.maxReplicas (3) is smaller than autoscaling.minReplicas (4): set \
             maxReplicas to at least minReplicas"
        ),
        "{error}"
    );
    // helm merges maps with the defaults: null removes the default CPU request.
    let error = render_error(
        json!({"autoscaling": {"enabled": true}, "resources": {"requests": {"cpu": null}}}),
    );
    assert!(
        error.contains("autoscaling.enabled needs resources.requests.cpu"),
        "{error}"
    );
    // Without autoscaling the same values are not looked at.
    render(json!({"autoscaling": {"minReplicas": 4, "maxReplicas": 3}}));
}

#[test]
fn pod_disruption_budget_always_leaves_a_pod_evictable() {
    skip_without_helm!();
    let cases = [
        (
            json!({"podDisruptionBudget": {"minAvailable": 2}}),
            "podDisruptionBudget.minAvailable (2) means 2 of the 2 pods (replicaCount) must stay \
             available",
        ),
        (
            // Kubernetes rounds up: 60% of 2 pods is 2.
            json!({"podDisruptionBudget": {"minAvailable": "60%"}}),
            "podDisruptionBudget.minAvailable (60%) means 2 of the 2 pods (replicaCount)",
        ),
        (
            json!({"autoscaling": {"enabled": true, "minReplicas": 3},
                   "podDisruptionBudget": {"minAvailable": 3}}),
            "podDisruptionBudget.minAvailable (3) means 3 of the 3 pods (autoscaling.minReplicas)",
        ),
    ];
    for (values, expected) in cases {
        let error = render_error(values.clone());
        assert!(error.contains(expected), "{values}:\n{error}");
        assert!(error.contains("node drains would block"), "{error}");
    }
    for minimum in [json!(2), json!("50%"), json!("66%")] {
        let rendered =
            render(json!({"replicaCount": 3, "podDisruptionBudget": {"minAvailable": minimum}}));
        assert_eq!(
            rendered.one("PodDisruptionBudget")["spec"]["minAvailable"],
            minimum
        );
    }
    // Not rendered, so not checked: a disabled budget and a single pod.
    render(json!({"podDisruptionBudget": {"enabled": false, "minAvailable": 5}}));
    render(json!({"replicaCount": 1, "podDisruptionBudget": {"minAvailable": 1}}));
}

// ---------------------------------------------------------------------------------------------
// Image, notes, metadata
// ---------------------------------------------------------------------------------------------

#[test]
fn image_pull_policy_is_always_only_for_the_mutable_latest_tag() {
    skip_without_helm!();
    let policy = |values: Value| {
        let rendered = render(values);
        let webhook = rendered.container()["imagePullPolicy"].clone();
        assert_eq!(
            rendered.test_pod()["spec"]["containers"][0]["imagePullPolicy"],
            webhook
        );
        webhook
    };
    assert_eq!(policy(json!({})), "IfNotPresent");
    assert_eq!(policy(json!({"image": {"tag": "latest"}})), "Always");
    let digest = format!("sha256:{}", "b".repeat(64));
    assert_eq!(
        policy(json!({"image": {"tag": "latest", "digest": digest}})),
        "IfNotPresent"
    );
    assert_eq!(policy(json!({"image": {"pullPolicy": "Never"}})), "Never");
    assert_eq!(
        policy(json!({"image": {"tag": "latest", "pullPolicy": "IfNotPresent"}})),
        "IfNotPresent"
    );
}

/// `helm install --dry-run=client` (no cluster): the installation notes, as helm prints them.
fn install_notes(values: &Value) -> String {
    let output = run_helm(&["install", RELEASE, "--dry-run=client"], values);
    assert!(
        output.status.success(),
        "helm install --dry-run=client failed for values {values}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (_, notes) = text
        .split_once("\nNOTES:\n")
        .unwrap_or_else(|| panic!("helm printed no NOTES:\n{text}"));
    notes.to_owned()
}

#[test]
fn notes_warn_while_the_image_is_the_unpublished_default() {
    skip_without_helm!();
    let version = env!("CARGO_PKG_VERSION");
    let notes = install_notes(&json!({}));
    assert!(
        notes.starts_with(&format!(
            "WARNING: the image is the chart's default, bgppeer-webhook:{version}, which is not\n\
             published to any registry"
        )),
        "{notes}"
    );
    assert!(
        notes.contains(&format!(
            "--set image.repository=<registry>/bgppeer-webhook --set image.tag={version}"
        )),
        "{notes}"
    );
    assert!(notes.contains(&format!("helm upgrade {RELEASE} <chart> -n {NAMESPACE}")));
    // The rest of the notes follow the warning.
    assert!(notes.contains(&format!("is installed in namespace {NAMESPACE}")));

    for values in [
        json!({"image": {"repository": "registry.corp/net/bgppeer-webhook"}}),
        json!({"image": {"repository": "registry.corp/net/bgppeer-webhook",
                         "digest": format!("sha256:{}", "c".repeat(64))}}),
    ] {
        let notes = install_notes(&values);
        assert!(!notes.contains("WARNING"), "{values}:\n{notes}");
        assert!(notes.starts_with(&format!("bgppeer-webhook {version} is installed")));
    }
}

#[test]
fn secret_mode_without_a_secret_name_fails_naming_tls_secret_name() {
    skip_without_helm!();
    // Exactly what a user types; helm's schema error names each value by its JSON pointer.
    let output = Command::new(helm())
        .args(["template", RELEASE])
        .arg(chart_dir())
        .args(["--set", "tls.mode=secret"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(
        error.contains("values don't meet the specifications of the schema"),
        "{error}"
    );
    assert!(
        error.contains("at '/tls/secretName': minLength: got 0, want 1"),
        "{error}"
    );
    assert!(error.contains("at '/tls/caBundle'"), "{error}");
}

/// Chart.yaml as a JSON value.
fn chart_metadata() -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(chart_dir().join("Chart.yaml")).unwrap())
        .unwrap()
}

#[test]
fn chart_metadata_is_ready_for_artifact_hub() {
    skip_without_helm!();
    let chart = chart_metadata();
    let annotations = &chart["annotations"];
    // The project's license, from the crate.
    assert_eq!(
        annotations["artifacthub.io/license"],
        env!("CARGO_PKG_LICENSE")
    );
    assert!(
        ["true", "false"].contains(&annotations["artifacthub.io/prerelease"].as_str().unwrap()),
        "artifacthub.io/prerelease must be the string \"true\" or \"false\""
    );
    // The images annotation names the image the default render deploys.
    let images: Vec<Value> =
        serde_saphyr::from_str(annotations["artifacthub.io/images"].as_str().unwrap()).unwrap();
    let default_image = render(json!({})).container()["image"].clone();
    assert_eq!(
        images,
        vec![json!({"name": "bgppeer-webhook", "image": default_image})]
    );
    // The changes annotation is Artifact Hub's structured list.
    let changes: Vec<Value> =
        serde_saphyr::from_str(annotations["artifacthub.io/changes"].as_str().unwrap()).unwrap();
    assert!(!changes.is_empty());
    for change in &changes {
        let kind = change["kind"].as_str().unwrap_or_default();
        assert!(
            [
                "added",
                "changed",
                "deprecated",
                "removed",
                "fixed",
                "security"
            ]
            .contains(&kind),
            "unknown change kind in {change}"
        );
        assert!(
            change["description"].as_str().is_some_and(|d| d.len() > 10),
            "{change}"
        );
    }
    // The README's install commands build and push the image of this appVersion.
    let readme = std::fs::read_to_string(chart_dir().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!(
            "version={}  ",
            chart["appVersion"].as_str().unwrap()
        )),
        "charts/bgppeer-webhook/README.md: the quick install names another version"
    );
    // Only real addresses: no placeholder domains anywhere in the metadata.
    let text = std::fs::read_to_string(chart_dir().join("Chart.yaml")).unwrap();
    for placeholder in ["example.com", "example.org", ".example", "TODO", "changeme"] {
        assert!(
            !text.contains(placeholder),
            "Chart.yaml contains the placeholder {placeholder}"
        );
    }
    for key in ["home", "icon"] {
        if let Some(url) = chart[key].as_str() {
            assert!(url.starts_with("https://"), "{key}: {url}");
        }
    }
    if let Some(links) = annotations["artifacthub.io/links"].as_str() {
        let links: Vec<Value> = serde_saphyr::from_str(links).unwrap();
        for link in links {
            assert!(link["url"].as_str().unwrap().starts_with("https://"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// checkov exceptions
// ---------------------------------------------------------------------------------------------

/// The checkov skip annotations of `object`: (check id, reason).
fn checkov_skips(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["annotations"]
        .as_object()
        .map(|annotations| {
            annotations
                .iter()
                .filter(|(key, _)| key.starts_with("checkov.io/skip"))
                .map(|(key, value)| {
                    let value = value.as_str().unwrap();
                    let (id, reason) = value
                        .split_once('=')
                        .unwrap_or_else(|| panic!("{key}: {value}: no `ID=reason`"));
                    (id.to_owned(), reason.to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn checkov_exceptions_name_a_check_and_give_a_reason() {
    skip_without_helm!();
    let rendered = render(json!({}));
    let ids = |object: &Value| {
        let mut ids: Vec<String> = checkov_skips(object)
            .into_iter()
            .map(|(id, reason)| {
                let well_formed = (id.starts_with("CKV_K8S_") || id.starts_with("CKV2_K8S_"))
                    && id
                        .rsplit('_')
                        .next()
                        .is_some_and(|n| n.parse::<u32>().is_ok());
                assert!(well_formed, "not a checkov Kubernetes check id: {id}");
                assert!(
                    reason.split_whitespace().count() >= 8,
                    "{id}: a reason must explain, got {reason:?}"
                );
                id
            })
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(rendered.one("Deployment")),
        ["CKV2_K8S_6", "CKV_K8S_15", "CKV_K8S_38", "CKV_K8S_43"]
    );
    assert_eq!(
        ids(rendered.test_pod()),
        [
            "CKV2_K8S_6",
            "CKV_K8S_15",
            "CKV_K8S_38",
            "CKV_K8S_43",
            "CKV_K8S_8",
            "CKV_K8S_9"
        ]
    );
    // Each exception goes away with the values that make the check pass.
    let digest = format!("sha256:{}", "d".repeat(64));
    let strict = render(json!({
        "image": {"digest": digest, "pullPolicy": "Always"},
        "networkPolicy": {"enabled": true},
        "clusterChecks": {"enabled": false},
    }));
    let deployment = strict.one("Deployment");
    assert!(
        deployment["metadata"].get("annotations").is_none(),
        "{}",
        deployment["metadata"]
    );
    assert_eq!(
        ids(strict.test_pod()),
        ["CKV2_K8S_6", "CKV_K8S_38", "CKV_K8S_8", "CKV_K8S_9"]
    );
}

// ---------------------------------------------------------------------------------------------
// Chart README
// ---------------------------------------------------------------------------------------------

const TABLE_START: &str = "<!-- values-table:start -->\n";
const TABLE_END: &str = "<!-- values-table:end -->";

#[test]
fn chart_readme_values_table_matches_values_yaml() {
    let chart = chart_dir();
    let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(chart.join("values.schema.json")).unwrap())
            .unwrap();
    let rows = values_table::rows(&values, &schema).unwrap_or_else(|errors| {
        panic!(
            "charts/bgppeer-webhook/values.yaml: every value needs a description:\n{}",
            errors.join("\n")
        )
    });
    let table = values_table::render(&rows);

    let readme_path = chart.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (before, rest) = readme
        .split_once(TABLE_START)
        .unwrap_or_else(|| panic!("charts/bgppeer-webhook/README.md has no {TABLE_START:?}"));
    let (current, after) = rest
        .split_once(TABLE_END)
        .unwrap_or_else(|| panic!("charts/bgppeer-webhook/README.md has no {TABLE_END:?}"));
    if current == table {
        return;
    }
    if std::env::var_os("BLESS_CHART_README").is_some() {
        std::fs::write(
            &readme_path,
            format!("{before}{TABLE_START}{table}{TABLE_END}{after}"),
        )
        .unwrap();
        return;
    }
    panic!(
        "charts/bgppeer-webhook/README.md: the values table does not match values.yaml; \
         regenerate it with\n  BLESS_CHART_README=1 cargo test -p bgppeer-webhook --test it \
         chart_readme\nand commit the README"
    );
}

#[test]
fn chart_readme_values_table_has_a_row_for_every_schema_value() {
    // The schema and values.yaml describe the same keys: a value only in the schema would be
    // missing from the table.
    let chart = chart_dir();
    let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(chart.join("values.schema.json")).unwrap())
            .unwrap();
    let rows = values_table::rows(&values, &schema).unwrap_or_else(|errors| panic!("{errors:?}"));
    let documented: Vec<&str> = rows.iter().map(|row| row.key.as_str()).collect();
    for key in schema["properties"].as_object().unwrap().keys() {
        assert!(
            documented
                .iter()
                .any(|row| *row == key || row.starts_with(&format!("{key}."))),
            "values.schema.json declares {key}, but the values table has no row for it"
        );
    }
}
