//! The worst requests the apiserver can send, decided from raw bytes: time, peak memory and
//! response size for each.
//!
//! `cargo bench --bench worst_case` runs every case in a fresh child process (this binary run
//! again with `WORST_CASE=<case>`), so that one case's memory never counts against another's. The
//! child builds the request body, resets its peak-RSS mark (`/proc/self/clear_refs`), reads
//! `VmHWM` from `/proc/self/status`, decides the request several times, reads `VmHWM` again and
//! prints one result line; the parent prints the table. Arguments that name cases run only those.
//! Without `--bench` (as `cargo test --all-targets` runs it) each case runs once.
//!
//! The peak is the whole process's: the baseline (binary and allocator) plus the body plus
//! whatever deciding it needs. Linux only (it reads `/proc`).

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use bgppeer_core::admission::{self, Webhook};

/// The largest body the apiserver accepts for one write, and so the largest object it sends.
const OBJECT_BYTES: usize = 3 * 1024 * 1024;

/// One worst case: a name, what it is, which webhook decides it, and how to build its body.
struct Case {
    name: &'static str,
    what: &'static str,
    webhook: Webhook,
    body: fn() -> Vec<u8>,
}

const CASES: &[Case] = &[
    Case {
        name: "filters-invalid",
        what: "CREATE, spec.filters: 760,000 x \"A\" (every item invalid)",
        webhook: Webhook::Validate,
        body: || create(&spec_with_filters("A", 760_000), "{\"name\":\"p\"}"),
    },
    Case {
        name: "filters-valid",
        what: "CREATE, spec.filters: 760,000 x \"a\" (every item valid)",
        webhook: Webhook::Validate,
        body: || create(&spec_with_filters("a", 760_000), "{\"name\":\"p\"}"),
    },
    Case {
        name: "selector",
        what: "CREATE, spec.nodeSelector: one 3 MiB selector",
        webhook: Webhook::Validate,
        body: || {
            let selector = "a == 'b' && ".repeat(OBJECT_BYTES / 12);
            let spec = format!(
                "{{\"peerIP\":\"10.0.0.1\",\"asNumber\":64512,\"nodeSelector\":\"{selector}x == 'y'\"}}"
            );
            create(&spec, "{\"name\":\"p\"}")
        },
    },
    Case {
        name: "nesting",
        what: "CREATE, spec.x: JSON nested 100,000 deep",
        webhook: Webhook::Validate,
        body: || {
            let spec = format!(
                "{{\"peerIP\":\"10.0.0.1\",\"x\":{}{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            );
            create(&spec, "{\"name\":\"p\"}")
        },
    },
    Case {
        name: "label-value",
        what: "CREATE, metadata.labels: one 3 MiB label value",
        webhook: Webhook::Validate,
        body: || {
            let metadata = format!(
                "{{\"name\":\"p\",\"labels\":{{\"a\":\"{}\"}}}}",
                "v".repeat(OBJECT_BYTES)
            );
            create("{\"peerIP\":\"10.0.0.1\",\"asNumber\":64512}", &metadata)
        },
    },
    Case {
        name: "update",
        what: "UPDATE, old and new objects of 760,000 invalid filters each, labels changed",
        webhook: Webhook::Validate,
        body: update_body,
    },
    Case {
        name: "max-body",
        what: "CREATE, spec.filters: 1,834,900 x \"A\": a 7 MiB review, the default --max-body-bytes \
               (the apiserver never sends one object this large)",
        webhook: Webhook::Validate,
        body: || create(&spec_with_filters("A", 1_834_900), "{\"name\":\"p\"}"),
    },
    Case {
        name: "update-mutate",
        what: "the same UPDATE sent to /mutate",
        webhook: Webhook::Mutate,
        body: update_body,
    },
];

/// A spec whose `filters` holds `count` copies of `item`, built without an intermediate tree.
fn spec_with_filters(item: &str, count: usize) -> String {
    let mut spec = String::with_capacity(64 + count * (item.len() + 3));
    spec.push_str("{\"peerIP\":\"10.0.0.1\",\"asNumber\":64512,\"filters\":[");
    for i in 0..count {
        if i > 0 {
            spec.push(',');
        }
        spec.push('"');
        spec.push_str(item);
        spec.push('"');
    }
    spec.push_str("]}");
    spec
}

fn object(spec: &str, metadata: &str) -> String {
    format!(
        "{{\"apiVersion\":\"crd.projectcalico.org/v1\",\"kind\":\"BGPPeer\",\"metadata\":{metadata},\"spec\":{spec}}}"
    )
}

fn review(operation: &str, object: &str, old_object: &str) -> Vec<u8> {
    format!(
        "{{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{{\
         \"uid\":\"worst-case\",\"name\":\"p\",\"operation\":\"{operation}\",\"userInfo\":{{}},\
         \"kind\":{{\"group\":\"crd.projectcalico.org\",\"version\":\"v1\",\"kind\":\"BGPPeer\"}},\
         \"resource\":{{\"group\":\"crd.projectcalico.org\",\"version\":\"v1\",\"resource\":\"bgppeers\"}},\
         \"object\":{object},\"oldObject\":{old_object}}}}}"
    )
    .into_bytes()
}

fn create(spec: &str, metadata: &str) -> Vec<u8> {
    review("CREATE", &object(spec, metadata), "null")
}

fn update_body() -> Vec<u8> {
    let spec = spec_with_filters("A", 760_000);
    review(
        "UPDATE",
        &object(&spec, "{\"name\":\"p\",\"labels\":{\"env\":\"prod\"}}"),
        &object(&spec, "{\"name\":\"p\"}"),
    )
}

/// A `VmHWM`/`VmRSS`-style line of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Runs one case in this (child) process and prints its result line.
fn run_child(name: &str) {
    let Some(case) = CASES.iter().find(|case| case.name == name) else {
        eprintln!("unknown case {name:?}");
        std::process::exit(2);
    };
    let body = (case.body)();
    // Forget the peak of building the body: only the body itself stays, as in the server.
    let reset = fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmHWM:");
    let mut times = Vec::new();
    let mut response_bytes = 0;
    let mut outcome = String::new();
    let started = Instant::now();
    // `cargo test --all-targets` runs this without `--bench`: then each case runs once, as a check.
    let most_runs = if std::env::var_os("WORST_CASE_ONCE").is_some() {
        1
    } else {
        7
    };
    while times.is_empty()
        || (times.len() < most_runs && started.elapsed() < Duration::from_secs(3))
    {
        let start = Instant::now();
        let decided = admission::decode::request(std::hint::black_box(&body)).map(|request| {
            admission::decide(case.webhook, &request, &admission::NoCluster)
                .decided()
                .expect("without a cluster view every decision is final")
        });
        let (bytes, what) = match decided {
            Ok(decision) => {
                let allowed = decision.response.allowed;
                let code = decision.response.result.code;
                let bytes = decision.encode().map_or(0, |json| json.len());
                let what = if allowed {
                    "allowed".to_owned()
                } else {
                    format!("denied {code}")
                };
                (bytes, what)
            }
            Err(err) => (err.to_string().len(), "400".to_owned()),
        };
        times.push(start.elapsed());
        response_bytes = bytes;
        outcome = what;
    }
    let peak = status_kib("VmHWM:");
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "RESULT {} {} {:.1} {} {} {} {} {}",
        case.name,
        body.len(),
        median.as_secs_f64() * 1000.0,
        times.len(),
        before,
        peak,
        response_bytes,
        if reset {
            outcome
        } else {
            format!("{outcome} (peak not reset)")
        }
        .replace(' ', "_"),
    );
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn main() {
    if let Ok(name) = std::env::var("WORST_CASE") {
        run_child(&name);
        return;
    }
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let exe = std::env::current_exe().expect("the path of this benchmark binary");
    println!(
        "{:<15} {:>9} {:>10} {:>4} {:>11} {:>10} {:>10}  answer",
        "case", "body MiB", "median ms", "runs", "before MiB", "peak MiB", "resp bytes"
    );
    for case in CASES {
        if !wanted.is_empty() && !wanted.iter().any(|name| name == case.name) {
            continue;
        }
        let mut child = Command::new(&exe);
        child.env("WORST_CASE", case.name);
        if !benchmarking {
            child.env("WORST_CASE_ONCE", "1");
        }
        let output = child.output().expect("run the benchmark binary as a child");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let Some(line) = stdout.lines().find_map(|line| line.strip_prefix("RESULT ")) else {
            println!(
                "{:<15} failed: {} {}",
                case.name,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
            continue;
        };
        let fields: Vec<&str> = line.split(' ').collect();
        let [_, body, median, runs, before, peak, response, answer] = fields[..] else {
            println!("{:<15} unreadable result: {line}", case.name);
            continue;
        };
        let kib = |text: &str| text.parse::<u64>().unwrap_or(0);
        println!(
            "{:<15} {:>9} {:>10} {:>4} {:>11} {:>10} {:>10}  {}",
            case.name,
            format!("{:.2}", kib(body) as f64 / 1024.0 / 1024.0),
            median,
            runs,
            mib(kib(before)),
            mib(kib(peak)),
            response,
            answer.replace('_', " "),
        );
    }
    println!();
    for case in CASES {
        println!("{:<15} {}", case.name, case.what);
    }
}
