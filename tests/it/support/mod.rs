//! Test harness for the admission server: fresh certificates laid out like a Kubernetes Secret
//! volume, the server on ephemeral ports, and HTTPS clients that verify it against the generated
//! CA with the SNI name the kube-apiserver uses.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use bgppeer_webhook::certs::{self, DevCerts};
use bgppeer_webhook::server::{self, Config, Running, ShutdownHandle};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The name the kube-apiserver dials: `<service>.<namespace>.svc`.
pub const SERVICE_NAME: &str = "bgppeer-webhook.bgppeer-webhook.svc";

/// Generates a CA and serving pair valid for an hour.
pub fn generate_certs() -> DevCerts {
    certs::generate(&certs::Request::with_defaults(
        SystemTime::now() - Duration::from_secs(60),
        Duration::from_secs(3600),
    ))
    .unwrap()
}

/// A directory laid out like a mounted Kubernetes Secret: the real files live in a timestamped
/// directory, `..data` points at it, and `tls.crt` / `tls.key` point through `..data`. An update
/// writes a new directory and atomically renames a new `..data` symlink over the old one.
pub struct SecretVolume {
    pub dir: tempfile::TempDir,
    generation: AtomicU32,
}

impl SecretVolume {
    pub fn new(certs: &DevCerts) -> Self {
        let volume = Self {
            dir: tempfile::tempdir().unwrap(),
            generation: AtomicU32::new(0),
        };
        volume.update(&certs.tls_cert_pem, &certs.tls_key_pem);
        std::os::unix::fs::symlink("..data/tls.crt", volume.cert_path()).unwrap();
        std::os::unix::fs::symlink("..data/tls.key", volume.key_path()).unwrap();
        volume
    }

    pub fn cert_path(&self) -> PathBuf {
        self.dir.path().join("tls.crt")
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("tls.key")
    }

    /// Publishes new contents the way the kubelet does (new directory, `..data` swap).
    pub fn update(&self, cert_pem: &str, key_pem: &str) {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst);
        let name = format!("..2026_11_25_{generation:04}");
        let data = self.dir.path().join(&name);
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("tls.crt"), cert_pem).unwrap();
        std::fs::write(data.join("tls.key"), key_pem).unwrap();
        let tmp = self.dir.path().join("..data_tmp");
        std::os::unix::fs::symlink(&name, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.path().join("..data")).unwrap();
    }
}

/// A server started in-process on ephemeral ports.
pub struct TestServer {
    pub certs: DevCerts,
    pub volume: SecretVolume,
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub shutdown: ShutdownHandle,
    pub running: Option<Running>,
}

/// A configuration for `volume` on ephemeral localhost ports with short delays for tests.
pub fn test_config(volume: &SecretVolume) -> Config {
    let mut config = Config::new(volume.cert_path(), volume.key_path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics_listen = "127.0.0.1:0".parse().unwrap();
    config.shutdown_delay = Duration::from_millis(200);
    config.drain_timeout = Duration::from_secs(5);
    config.cert_check_interval = Duration::from_millis(500);
    config
}

impl TestServer {
    /// Starts a server with fresh certificates and the default test configuration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after letting `adjust` change the configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let certs = generate_certs();
        let volume = SecretVolume::new(&certs);
        let mut config = test_config(&volume);
        adjust(&mut config);
        let running = server::start(config).await.unwrap();
        Self {
            certs,
            volume,
            addr: running.addr,
            metrics_addr: running.metrics_addr,
            shutdown: running.shutdown_handle(),
            running: Some(running),
        }
    }

    /// A client for this server speaking `version`.
    pub fn client(&self, version: HttpVersion) -> WebhookClient {
        WebhookClient::new(self.addr, &self.certs.ca_cert_pem, version)
    }

    /// GET on the operations port.
    pub async fn ops_get(&self, path: &str) -> (StatusCode, String) {
        ops_get(self.metrics_addr, path).await
    }

    /// Shuts the server down and waits for it.
    pub async fn stop(mut self) {
        self.shutdown.shutdown();
        if let Some(running) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(10), running.wait())
                .await
                .expect("the server did not stop within 10 s");
        }
    }
}

/// GET over plain HTTP (the operations port).
pub async fn ops_get(addr: SocketAddr, path: &str) -> (StatusCode, String) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .get(format!("http://{addr}{path}").parse().unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpVersion {
    Http1,
    Http2,
}

/// The TLS client configuration the kube-apiserver effectively uses: trust only the webhook's CA.
pub fn client_tls(ca_pem: &str, client_cert: Option<(&str, &str)>) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
    match client_cert {
        Some((cert_pem, key_pem)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    }
}

/// A pooled HTTPS client (keep-alive, like the apiserver's) that verifies the server against
/// the CA under the name [`SERVICE_NAME`] while connecting to 127.0.0.1.
#[derive(Clone)]
pub struct WebhookClient {
    base: String,
    client: Client<HttpsConnector<HttpConnector>, BoxBody<Bytes, std::convert::Infallible>>,
}

/// An answer: status, headers, body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub version: hyper::Version,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "not JSON ({err}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

impl WebhookClient {
    pub fn new(addr: SocketAddr, ca_pem: &str, version: HttpVersion) -> Self {
        Self::with_tls(addr, client_tls(ca_pem, None), version)
    }

    pub fn with_tls(addr: SocketAddr, tls: ClientConfig, version: HttpVersion) -> Self {
        let resolver = FixedServerNameResolver::new(ServerName::try_from(SERVICE_NAME).unwrap());
        let builder = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .with_server_name_resolver(resolver);
        let connector = match version {
            HttpVersion::Http1 => builder.enable_http1().build(),
            HttpVersion::Http2 => builder.enable_http2().build(),
        };
        let client = Client::builder(TokioExecutor::new())
            .http2_only(version == HttpVersion::Http2)
            .build(connector);
        Self {
            base: format!("https://{addr}"),
            client,
        }
    }

    /// POSTs `body` to `path_and_query` with the given Content-Type.
    pub async fn post(
        &self,
        path_and_query: &str,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<Answer, hyper_util::client::legacy::Error> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{path_and_query}", self.base));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(Full::new(body.into())).unwrap();
        self.send(request).await
    }

    /// POSTs an AdmissionReview as the apiserver does.
    pub async fn review(&self, path: &str, review: &Value) -> Answer {
        self.post(
            &format!("{path}?timeout=10s"),
            Some("application/json"),
            serde_json::to_vec(review).unwrap(),
        )
        .await
        .unwrap()
    }

    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<Answer, hyper_util::client::legacy::Error> {
        let response = self.client.request(request.map(BodyExt::boxed)).await?;
        let status = response.status();
        let version = response.version();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Ok(Answer {
            status,
            headers,
            body,
            version,
        })
    }
}

impl WebhookClient {
    /// Sends a request with any body (for example a chunked one) and returns status and body.
    pub async fn send_stream<B>(&self, request: Request<B>) -> (StatusCode, Bytes)
    where
        B: hyper::body::Body<Data = Bytes, Error = std::convert::Infallible>
            + Send
            + Sync
            + 'static,
    {
        let response = self
            .client
            .request(request.map(BodyExt::boxed))
            .await
            .unwrap();
        let status = response.status();
        (
            status,
            response.into_body().collect().await.unwrap().to_bytes(),
        )
    }
}

/// Opens a raw TLS connection (new handshake) with SNI [`SERVICE_NAME`].
pub async fn tls_connect(
    addr: SocketAddr,
    tls: ClientConfig,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(tls))
        .connect(ServerName::try_from(SERVICE_NAME).unwrap(), tcp)
        .await
}

/// The serial number of the leaf certificate a connection was served.
pub fn peer_leaf(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// The DER of the leaf in a PEM chain.
pub fn leaf_der(pem: &str) -> Vec<u8> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .unwrap()
        .unwrap()
        .to_vec()
}

/// One recorded request from a real kube-apiserver (`tests/fixtures/admission/*.json`).
pub struct Recorded {
    pub file: String,
    pub path: String,
    pub query: String,
    pub review: Value,
}

/// Every recorded request, in file order.
pub fn recorded() -> Vec<Recorded> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/admission");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.ends_with(".validate.json") || name.ends_with(".mutate.json")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let fixture: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            Recorded {
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                path: fixture["path"].as_str().unwrap().to_owned(),
                query: fixture["query"].as_str().unwrap().to_owned(),
                review: fixture["review"].clone(),
            }
        })
        .collect()
}

/// The recorded request whose file name starts with `prefix` (`"019"`).
pub fn recorded_one(prefix: &str) -> Recorded {
    recorded()
        .into_iter()
        .find(|r| r.file.starts_with(prefix))
        .unwrap_or_else(|| panic!("no fixture {prefix}"))
}

/// What `kubectl` prints for a denial, rebuilt from the Status the way kubectl does it
/// (`The <kind> "<name>" is invalid: ` then one `* <field>: <message>` line per cause).
pub fn kubectl_error_text(status: &Value) -> String {
    let details = &status["details"];
    let mut text = format!(
        "The {} {:?} is invalid: \n",
        details["kind"].as_str().unwrap(),
        details["name"].as_str().unwrap()
    );
    for cause in details["causes"].as_array().unwrap() {
        text.push_str(&format!(
            "* {}: {}\n",
            cause["field"].as_str().unwrap(),
            cause["message"].as_str().unwrap()
        ));
    }
    text
}

/// A BGPPeer AdmissionReview request built from parts.
pub fn review(
    api_version: &str,
    operation: &str,
    object: Value,
    old_object: Value,
    dry_run: bool,
) -> Value {
    let (group, version) = api_version.split_once('/').unwrap();
    let name = object
        .pointer("/metadata/name")
        .or_else(|| old_object.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("uid-{operation}-{name}"),
            "kind": {"group": group, "version": version, "kind": "BGPPeer"},
            "resource": {"group": group, "version": version, "resource": "bgppeers"},
            "name": name,
            "operation": operation,
            "userInfo": {"username": "test"},
            "object": object,
            "oldObject": old_object,
            "dryRun": dry_run,
        }
    })
}

/// A BGPPeer object.
pub fn peer(api_version: &str, name: &str, spec: Value) -> Value {
    serde_json::json!({
        "apiVersion": api_version,
        "kind": "BGPPeer",
        "metadata": {"name": name},
        "spec": spec,
    })
}

/// A CA for client certificates and a client certificate it signed, as PEM
/// `(ca_cert, client_cert, client_key)`.
pub fn client_ca_and_cert() -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "test client CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let client_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = params.signed_by(&client_key, &issuer).unwrap();
    (ca_cert.pem(), client_cert.pem(), client_key.serialize_pem())
}

/// Trust every CA in `ca_pems` (a CA bundle during a CA rotation).
pub fn client_tls_trusting(ca_pems: &[&str]) -> ClientConfig {
    client_tls(&ca_pems.concat(), None)
}

/// A root CA, an intermediate CA it signed, and a serving pair the intermediate signed for
/// [`SERVICE_NAME`], as PEM `(root_cert, chain (leaf then intermediate), leaf_key)`.
pub fn chained_pair() -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca = |name: &str| {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        params
    };
    let root_key = KeyPair::generate().unwrap();
    let root_params = ca("test root CA");
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::new(root_params, root_key);
    let intermediate_key = KeyPair::generate().unwrap();
    let intermediate_params = ca("test intermediate CA");
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &root_issuer)
        .unwrap();
    let intermediate_issuer = Issuer::new(intermediate_params, intermediate_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![SERVICE_NAME.to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &intermediate_issuer)
        .unwrap();
    (
        root.pem(),
        format!("{}{}", leaf.pem(), intermediate.pem()),
        leaf_key.serialize_pem(),
    )
}

/// The real `bgppeer-webhook serve` binary, started in a shell that first runs
/// `ulimit <ulimit>` (for example `-n 128`: soft and hard open-files limit), on ephemeral
/// localhost ports, with fresh certificates.
pub struct BinaryServer {
    pub child: std::process::Child,
    pub certs: DevCerts,
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    /// The JSON log lines before the start-up line.
    pub startup: Vec<String>,
    /// The JSON log lines after the start-up line.
    pub lines: std::sync::mpsc::Receiver<String>,
}

impl BinaryServer {
    pub fn start(ulimit: &str, extra_args: &[&str]) -> Self {
        use std::io::BufRead;
        let certs = generate_certs();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tls.crt"), &certs.tls_cert_pem).unwrap();
        std::fs::write(dir.path().join("tls.key"), &certs.tls_key_pem).unwrap();
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit {ulimit} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_bgppeer-webhook"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--metrics-listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--tls-cert-file")
            .arg(dir.path().join("tls.crt"))
            .arg("--tls-key-file")
            .arg(dir.path().join("tls.key"))
            .args(extra_args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut startup = Vec::new();
        let started: Value = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(10))
                .expect("the server did not start");
            let event: Value = serde_json::from_str(&line).unwrap();
            if event["message"] == "serving admission webhooks" {
                break event;
            }
            startup.push(line);
        };
        Self {
            child,
            certs,
            dir,
            addr: started["addr"].as_str().unwrap().parse().unwrap(),
            metrics_addr: started["metrics_addr"].as_str().unwrap().parse().unwrap(),
            startup,
            lines,
        }
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The head of a raw HTTP/1.1 `POST` of a JSON body of `length` bytes to `path`, for tests that
/// write requests byte by byte.
pub fn http1_post_head(path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}
