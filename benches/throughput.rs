//! End-to-end throughput of `/validate` over TLS with keep-alive, against a bare server on the
//! same stack, in one run (`make throughput`; settings in the README, "Throughput").
//!
//! For each round, and each server in turn (the bare server first, then the release binary's
//! `serve`, then any `THROUGHPUT_OTHER` binaries), this:
//!
//! 1. starts the server as a child process on loopback, with development certificates made by
//!    the release binary's `certs` in a temporary directory, and waits until it accepts;
//! 2. warms it up, and checks that its answer to the request is the recorded one, byte for byte;
//! 3. **peak**: `THROUGHPUT_CONNECTIONS` HTTP/1.1 keep-alive TLS connections send the recorded
//!    review back to back (closed loop) for `THROUGHPUT_SECONDS` or `THROUGHPUT_MAX_REQUESTS`,
//!    whichever ends first;
//! 4. **half**: the same connections send at a fixed rate, half of the bare server's peak in
//!    this round (the same offered load for every server), bounded likewise; latency is counted
//!    from when a request was due, so a server that falls behind shows it in p99;
//! 5. reads the server's CPU time (utime + stime of `/proc/PID/stat`) before and after each
//!    phase, divides it by the requests answered, and stops the server by its PID (SIGTERM,
//!    SIGKILL if it has not exited within a few seconds).
//!
//! Everything is bounded: ports are on 127.0.0.1 only, every phase ends by time and by count, a
//! server that does not start within 20 s fails the run, and a failing run still stops its
//! children (a drop guard kills them by PID).

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

/// The request path of a bare AdmissionReview file: the apiserver's default `?timeout=10s`.
const DEFAULT_PATH: &str = "/validate?timeout=10s";

/// How long a server gets to start accepting.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a server gets to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long each server is warmed up before it is measured.
const WARM_UP: Duration = Duration::from_secs(1);

fn main() {
    // `cargo test --all-targets` runs bench binaries too, without `--bench`: only check that it
    // starts there; the measurement is for `cargo bench` (`make throughput`).
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("throughput: not measuring (run by cargo test); use make throughput");
        return;
    }
    if let Err(message) = run() {
        eprintln!("throughput: {message}");
        std::process::exit(1);
    }
}

/// The settings, from the environment.
struct Settings {
    seconds: Duration,
    max_requests: u64,
    connections: usize,
    rounds: usize,
    request: PathBuf,
    answer: PathBuf,
    webhook: PathBuf,
    bare: PathBuf,
    /// More webhook binaries to measure, with extra `serve` arguments: `THROUGHPUT_OTHER`,
    /// comma-separated `NAME=PATH[ ARG...]`.
    others: Vec<(String, PathBuf, Vec<String>)>,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("{name}={value:?} is not a valid value")),
        Err(_) => Ok(default),
    }
}

impl Settings {
    fn from_env() -> Result<Self, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let fixture = "002-create-v1-valid.validate.json";
        let request: PathBuf = env_or(
            "THROUGHPUT_REQUEST",
            root.join("tests/fixtures/admission").join(fixture),
        )?;
        let answer_default = root
            .join("tests/fixtures/admission-answers")
            .join(request.file_name().unwrap_or_default());
        let others = match std::env::var("THROUGHPUT_OTHER") {
            Ok(list) => list
                .split(',')
                .filter(|item| !item.is_empty())
                .map(|item| match item.split_once('=') {
                    Some((name, command)) => {
                        let mut words = command.split_whitespace();
                        let path = PathBuf::from(words.next().unwrap_or_default());
                        let args = words.map(str::to_owned).collect();
                        Ok((name.to_owned(), path, args))
                    }
                    None => Err(format!(
                        "THROUGHPUT_OTHER: {item:?} is not NAME=PATH[ ARG...]"
                    )),
                })
                .collect::<Result<_, _>>()?,
            Err(_) => Vec::new(),
        };
        let seconds: f64 = env_or("THROUGHPUT_SECONDS", 5.0)?;
        if !(0.1..=600.0).contains(&seconds) {
            return Err("THROUGHPUT_SECONDS must be between 0.1 and 600".into());
        }
        let settings = Self {
            seconds: Duration::from_secs_f64(seconds),
            max_requests: env_or("THROUGHPUT_MAX_REQUESTS", 500_000)?.clamp(1, 10_000_000),
            connections: env_or("THROUGHPUT_CONNECTIONS", 8)?.clamp(1, 256),
            rounds: env_or("THROUGHPUT_ROUNDS", 2)?.clamp(1, 20),
            request,
            answer: env_or("THROUGHPUT_ANSWER", answer_default)?,
            webhook: env_or(
                "THROUGHPUT_WEBHOOK",
                root.join("target/release/bgppeer-webhook"),
            )?,
            bare: env_or(
                "THROUGHPUT_BARE",
                root.join("target/release/examples/bare_server"),
            )?,
            others,
        };
        for path in [&settings.webhook, &settings.bare]
            .into_iter()
            .chain(settings.others.iter().map(|(_, path, _)| path))
        {
            if !path.is_file() {
                return Err(format!(
                    "{} does not exist: build it first (make throughput does, then runs this)",
                    path.display()
                ));
            }
        }
        Ok(settings)
    }
}

/// Which program a server runs.
#[derive(Clone)]
enum Program {
    Bare(PathBuf),
    /// The binary and extra `serve` arguments.
    Webhook(PathBuf, Vec<String>),
}

/// A measured server.
struct Target {
    name: String,
    program: Program,
}

fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;
    let (path, body) = request(&settings.request)?;
    let answer = std::fs::read(&settings.answer)
        .map_err(|err| format!("{}: {err}", settings.answer.display()))?;
    let dir = tempfile::tempdir().map_err(|err| format!("cannot make a temp dir: {err}"))?;
    let certs = dir.path().join("certs");
    let status = Command::new(&settings.webhook)
        .arg("certs")
        .arg("--out")
        .arg(&certs)
        .stdout(Stdio::null())
        .status()
        .map_err(|err| format!("cannot run {} certs: {err}", settings.webhook.display()))?;
    if !status.success() {
        return Err(format!("{} certs failed", settings.webhook.display()));
    }
    let connector = connector(&certs.join("ca.crt"))?;
    let ticks = clock_ticks();

    let mut targets = vec![
        Target {
            name: "bare".into(),
            program: Program::Bare(settings.bare.clone()),
        },
        Target {
            name: "validate".into(),
            program: Program::Webhook(settings.webhook.clone(), Vec::new()),
        },
    ];
    targets.extend(settings.others.iter().map(|(name, path, args)| Target {
        name: name.clone(),
        program: Program::Webhook(path.clone(), args.clone()),
    }));

    println!(
        "throughput: {} over TLS (HTTP/1.1 keep-alive), {} connections, {:?} or {} requests per \
         phase, {} round(s), CPU clock {ticks} ticks/s",
        settings.request.display(),
        settings.connections,
        settings.seconds,
        settings.max_requests,
        settings.rounds
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))?;
    let mut rows: Vec<Row> = Vec::new();
    for round in 1..=settings.rounds {
        // Every server of the round runs (idle unless measured) until the round ends, so that
        // the half-load phase can offer all of them the same rate.
        let mut servers = Vec::new();
        for target in &targets {
            let log = dir.path().join(format!("{}-{round}.log", target.name));
            let server = Server::start(&target.program, &certs, &settings.answer, &log)?;
            let load = Load {
                addr: server.addr,
                connector: connector.clone(),
                path: path.clone(),
                body: body.clone(),
                connections: settings.connections,
                seconds: settings.seconds,
                max_requests: settings.max_requests,
            };
            servers.push((target, server, load));
        }
        let measured = runtime.block_on(async {
            let mut measured = Vec::new();
            for (target, server, load) in &servers {
                let first = load.one().await?;
                if first != answer {
                    return Err(format!(
                        "{}: the answer differs from {}:\n{}",
                        target.name,
                        settings.answer.display(),
                        String::from_utf8_lossy(&first)
                    ));
                }
                load.closed(WARM_UP).await;
                let before = server.cpu_ticks()?;
                let peak = load.closed(settings.seconds).await;
                let after = server.cpu_ticks()?;
                let row = Row::new(target, round, "peak", &peak, after - before, ticks);
                println!("{}", row.line());
                measured.push((row, peak.rate()));
            }
            // Half of the lowest peak: a load every server can carry.
            let rate = measured
                .iter()
                .map(|(_, rate)| *rate)
                .fold(f64::INFINITY, f64::min)
                / 2.0;
            let mut rows: Vec<Row> = measured.into_iter().map(|(row, _)| row).collect();
            for (target, server, load) in &servers {
                let before = server.cpu_ticks()?;
                let half = load.open(rate).await;
                let after = server.cpu_ticks()?;
                let row = Row::new(target, round, "half", &half, after - before, ticks);
                println!("{} (offered {rate:.0} req/s)", row.line());
                rows.push(row);
            }
            Ok::<_, String>(rows)
        });
        for (_, server, _) in servers {
            server.stop();
        }
        rows.extend(measured?);
    }
    print_table(&rows, &targets);
    Ok(())
}

/// The path (with query) and body to send: a recorded request of `tests/fixtures/admission`
/// (`path`, `query` and `review`, sent compact as the apiserver does), or a bare AdmissionReview
/// sent to [`DEFAULT_PATH`].
fn request(file: &Path) -> Result<(String, Bytes), String> {
    let text = std::fs::read(file).map_err(|err| format!("{}: {err}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|err| format!("{}: {err}", file.display()))?;
    let Some(review) = value.get("review") else {
        return Ok((DEFAULT_PATH.to_owned(), Bytes::from(text)));
    };
    let path = value["path"].as_str().unwrap_or("/validate");
    let path = match value["query"].as_str() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let body = serde_json::to_vec(review).map_err(|err| err.to_string())?;
    Ok((path, Bytes::from(body)))
}

/// A TLS client trusting only the development CA, speaking HTTP/1.1.
fn connector(ca: &Path) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|err| format!("{ca:?}: {err}"))? {
        let cert = cert.map_err(|err| format!("{ca:?}: {err}"))?;
        roots.add(cert).map_err(|err| format!("{ca:?}: {err}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| err.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 if that cannot be run).
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|ticks| *ticks > 0)
        .unwrap_or(100)
}

/// A free port on 127.0.0.1 (bound and released; the server binds it right after).
fn free_port() -> Result<SocketAddr, String> {
    let listener = StdListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|err| format!("cannot find a free port: {err}"))?;
    listener.local_addr().map_err(|err| err.to_string())
}

/// A server child process, stopped (by its PID) when dropped.
struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(program: &Program, certs: &Path, answer: &Path, log: &Path) -> Result<Self, String> {
        let addr = free_port()?;
        let metrics = free_port()?;
        let cert = certs.join("tls.crt");
        let key = certs.join("tls.key");
        let mut command = match program {
            Program::Bare(path) => {
                let mut command = Command::new(path);
                command
                    .arg(addr.to_string())
                    .arg(metrics.to_string())
                    .arg(&cert)
                    .arg(&key)
                    .arg(answer);
                command
            }
            Program::Webhook(path, args) => {
                let mut command = Command::new(path);
                command
                    .arg("serve")
                    .arg("--listen")
                    .arg(addr.to_string())
                    .arg("--metrics-listen")
                    .arg(metrics.to_string())
                    .arg("--tls-cert-file")
                    .arg(&cert)
                    .arg("--tls-key-file")
                    .arg(&key)
                    .arg("--shutdown-delay")
                    .arg("0s")
                    .arg("--drain-timeout")
                    .arg("1s")
                    .args(args);
                command
            }
        };
        let output = File::create(log).map_err(|err| format!("{log:?}: {err}"))?;
        let errors = output.try_clone().map_err(|err| err.to_string())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .map_err(|err| format!("cannot start {:?}: {err}", command.get_program()))?;
        let mut server = Server {
            child: Some(child),
            addr,
            log: log.to_owned(),
        };
        server.wait_until_accepting()?;
        Ok(server)
    }

    fn wait_until_accepting(&mut self) -> Result<(), String> {
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("the server exited ({status}): {}", self.log_tail()));
            }
            if std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok()
            {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(format!("the server did not start: {}", self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(2000);
        text.get(start..).unwrap_or_default().to_owned()
    }

    /// utime + stime of the server process (every thread), in clock ticks.
    fn cpu_ticks(&self) -> Result<u64, String> {
        let pid = self.child.as_ref().map(Child::id).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_err(|err| format!("/proc/{pid}/stat: {err}"))?;
        // The fields after the command name, which is in parentheses and may contain spaces:
        // state is field 3, utime 14 and stime 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let field = |index: usize| -> Result<u64, String> {
            fields
                .get(index)
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| format!("/proc/{pid}/stat: no field {}", index + 3))
        };
        Ok(field(11)? + field(12)?)
    }

    /// Stops the server: SIGTERM to its PID, SIGKILL if it has not exited in time.
    fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = i32::try_from(child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = std::time::Instant::now() + STOP_TIMEOUT;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What one phase measured.
struct Outcome {
    /// Latencies of the answered requests, in microseconds.
    latencies: Vec<u32>,
    /// Requests that failed (transport error or a status other than 200).
    errors: u64,
    elapsed: Duration,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `percent` percentile latency in microseconds.
    fn percentile(&self, sorted: &[u32], percent: usize) -> u32 {
        if sorted.is_empty() {
            return 0;
        }
        let index = (sorted.len() * percent / 100).min(sorted.len() - 1);
        sorted[index]
    }
}

/// The load one server gets.
struct Load {
    addr: SocketAddr,
    connector: TlsConnector,
    path: String,
    body: Bytes,
    connections: usize,
    seconds: Duration,
    max_requests: u64,
}

type Sender = SendRequest<Full<Bytes>>;

impl Load {
    async fn connect(&self) -> Result<Sender, String> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|err| err.to_string())?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::IpAddress(Ipv4Addr::LOCALHOST.into());
        let tls = self
            .connector
            .connect(name, tcp)
            .await
            .map_err(|err| err.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|err| err.to_string())?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Sends the review once; the answer's body.
    async fn send(&self, sender: &mut Sender) -> Result<Bytes, String> {
        sender.ready().await.map_err(|err| err.to_string())?;
        let request = hyper::Request::post(self.path.as_str())
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .body(Full::new(self.body.clone()))
            .map_err(|err| err.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|err| err.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|err| err.to_string())?
            .to_bytes();
        if status != hyper::StatusCode::OK {
            return Err(format!(
                "status {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(body)
    }

    async fn one(&self) -> Result<Vec<u8>, String> {
        let mut sender = self.connect().await?;
        Ok(self.send(&mut sender).await?.to_vec())
    }

    /// Every connection sends back to back until `seconds` or the request count is reached.
    async fn closed(&self, seconds: Duration) -> Outcome {
        self.drive(seconds, None).await
    }

    /// Requests are due at `rate` per second, spread over the connections.
    async fn open(&self, rate: f64) -> Outcome {
        self.drive(self.seconds, Some(rate.max(1.0))).await
    }

    async fn drive(&self, seconds: Duration, rate: Option<f64>) -> Outcome {
        let started = Instant::now();
        let end = started + seconds;
        let tickets = AtomicU64::new(0);
        let tasks = (0..self.connections).map(|_| self.connection(started, end, rate, &tickets));
        let results = futures::future::join_all(tasks).await;
        let elapsed = started.elapsed();
        let mut latencies = Vec::new();
        let mut errors = 0;
        for (mut part, failed) in results {
            latencies.append(&mut part);
            errors += failed;
        }
        Outcome {
            latencies,
            errors,
            elapsed,
        }
    }

    /// One connection's share of a phase: its latencies and its error count.
    async fn connection(
        &self,
        started: Instant,
        end: Instant,
        rate: Option<f64>,
        tickets: &AtomicU64,
    ) -> (Vec<u32>, u64) {
        let mut latencies = Vec::new();
        let mut errors = 0;
        let mut sender = None;
        loop {
            let ticket = tickets.fetch_add(1, Ordering::Relaxed);
            if ticket >= self.max_requests || Instant::now() >= end {
                break;
            }
            let sent = match rate {
                None => Instant::now(),
                Some(rate) => {
                    let due = started + Duration::from_secs_f64(ticket as f64 / rate);
                    if due >= end {
                        break;
                    }
                    // On time: count from when the request goes out. Behind (every connection
                    // was busy): count from when it was due, so that queueing shows.
                    if due > Instant::now() {
                        tokio::time::sleep_until(due).await;
                        Instant::now()
                    } else {
                        due
                    }
                }
            };
            if sender.is_none() {
                match self.connect().await {
                    Ok(connected) => sender = Some(connected),
                    Err(_) => {
                        errors += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                }
            }
            let Some(current) = sender.as_mut() else {
                continue;
            };
            match self.send(current).await {
                Ok(_) => {
                    let micros = sent.elapsed().as_micros();
                    latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                }
                Err(_) => {
                    errors += 1;
                    sender = None;
                }
            }
        }
        (latencies, errors)
    }
}

/// One line of the results.
struct Row {
    target: String,
    round: usize,
    phase: &'static str,
    requests: usize,
    errors: u64,
    rate: f64,
    p50: u32,
    p99: u32,
    cpu_us: f64,
}

impl Row {
    fn new(
        target: &Target,
        round: usize,
        phase: &'static str,
        outcome: &Outcome,
        ticks: u64,
        per_second: u64,
    ) -> Self {
        let mut sorted = outcome.latencies.clone();
        sorted.sort_unstable();
        let requests = sorted.len();
        let cpu_seconds = ticks as f64 / per_second as f64;
        Row {
            target: target.name.clone(),
            round,
            phase,
            requests,
            errors: outcome.errors,
            rate: outcome.rate(),
            p50: outcome.percentile(&sorted, 50),
            p99: outcome.percentile(&sorted, 99),
            cpu_us: cpu_seconds * 1e6 / (requests.max(1) as f64),
        }
    }

    fn line(&self) -> String {
        format!(
            "round {} {:<10} {:<5} {:>8} req {:>4} err {:>9.0} req/s  p50 {:>6} us  p99 {:>6} us  CPU {:>6.1} us/req",
            self.round,
            self.target,
            self.phase,
            self.requests,
            self.errors,
            self.rate,
            self.p50,
            self.p99,
            self.cpu_us
        )
    }
}

/// The median of each server's rows per phase, with its ratio to the bare server's.
fn print_table(rows: &[Row], targets: &[Target]) {
    let median = |values: &mut Vec<f64>| -> f64 {
        values.sort_by(f64::total_cmp);
        match values.len() {
            0 => 0.0,
            n if n % 2 == 1 => values[n / 2],
            n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        }
    };
    let summary = |name: &str, phase: &str| {
        let of: Vec<&Row> = rows
            .iter()
            .filter(|row| row.target == name && row.phase == phase)
            .collect();
        let pick = |get: fn(&Row) -> f64| median(&mut of.iter().map(|row| get(row)).collect());
        (
            of.iter().map(|row| row.requests).sum::<usize>(),
            of.iter().map(|row| row.errors).sum::<u64>(),
            pick(|row| row.rate),
            pick(|row| f64::from(row.p50)),
            pick(|row| f64::from(row.p99)),
            pick(|row| row.cpu_us),
        )
    };
    println!();
    println!("medians over the rounds (ratio: to the bare server in the same phase)");
    println!(
        "| server | phase | requests | errors | req/s | p50 us | p99 us | CPU us/req | CPU ratio | p99 ratio |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for phase in ["peak", "half"] {
        let (_, _, _, _, bare_p99, bare_cpu) = summary("bare", phase);
        for target in targets {
            let (requests, errors, rate, p50, p99, cpu) = summary(&target.name, phase);
            println!(
                "| {} | {phase} | {requests} | {errors} | {rate:.0} | {p50:.0} | {p99:.0} | {cpu:.1} | {:.2} | {:.2} |",
                target.name,
                cpu / bare_cpu.max(1e-9),
                p99 / bare_p99.max(1e-9),
            );
        }
    }
}
