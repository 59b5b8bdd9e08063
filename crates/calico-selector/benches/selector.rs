//! Parsing and evaluating the four selectors of benches/selectors.json, and evaluating each
//! against 2,000 nodes' labels (the webhook's use: one selector, every Node of a cluster).
//!
//! Calico's own Go parser, measured on the reference machine, takes 1.10 / 3.68 / 4.15 / 42.0 µs
//! to parse them and 13.5 / 62.5 / 46.4 / 223 ns to evaluate them on its fastest path.
//! Evaluation is measured against the label containers the crate supports: `BTreeMap` (what
//! Kubernetes objects deserialise into), `HashMap`, and a slice of pairs.
//!
//! # Which micro-optimisations earn their keep (issue 10)
//!
//! Each was measured against the plain alternative built into the same binary, all variants
//! interleaved batch by batch (best of 300 batches of ~100 µs, three runs, the middle one shown;
//! criterion's sequential runs swung by up to 40 % on this shared 2-core machine, more than the
//! effects). ns per call; `nodes` is µs per 2,000 `BTreeMap` nodes.
//!
//! | selector    | container | compiled+cache+word (was) | tree walk | tree+cache | tree+word | compiled |
//! |-------------|-----------|-----:|-----:|-----:|-----:|-----:|
//! | short       | BTreeMap  | 8.7  | 6.8  | 8.2  | 6.6  | 7.7  |
//! | short       | nodes     | 30.7 | 26.7 | 28.2 | 26.6 | 28.0 |
//! | typical-60b | BTreeMap  | 34.1 | 36.9 | 41.6 | 35.7 | 42.6 |
//! | typical-60b | nodes     | 22.6 | 25.3 | 29.9 | 22.6 | 21.6 |
//! | negations   | BTreeMap  | 25.7 | 29.9 | 31.7 | 30.9 | 25.1 |
//! | negations   | nodes     | 213  | 217  | 221  | 216  | 212  |
//! | long-1k     | BTreeMap  | 205  | 207  | 169  | 188  | 270  |
//! | long-1k     | nodes     | 434  | 447  | 384  | 424  | 541  |
//!
//! - Compiled evaluator (a flat program of leaf tests and short-circuit jumps): removed. Against
//!   the recursive tree walk it wins on `negations` (-16 %), loses on `short` (+13 %),
//!   `typical-60b` (+15 % on one map, -15 % on 2,000 nodes) and `long-1k` (+30 %, +21 % on
//!   nodes), and compiling adds 10-15 % to every parse (short 72 vs 64 ns, typical 213 vs 194,
//!   long-1k 3.48 vs 3.04 µs), which the webhook pays on every admission request.
//! - Last-lookup cache (with the parser giving repeated label names one span so a repeat is two
//!   integer compares): removed. It pays only on `long-1k`, which tests `rack` and `role` 14
//!   times each (-18 %, -14 % on nodes); every other selector pays for the always-missing check
//!   (+2 % to +21 %; `typical-60b` on nodes 29.9 vs 25.3 µs), and sharing spans adds 3-13 % to
//!   every parse.
//! - Word-wise string equality (`same`: length check, then 4- or 8-byte loads instead of
//!   `memcmp`): removed. Measured again inside the tree walk, `same` vs `==` for `==`/`!=`
//!   values: short 6.3 vs 6.5 ns, typical 36.3 vs 34.9 ns (24.1 vs 24.4 µs on nodes), negations
//!   (no `==`) 31.9 vs 29.4 ns, long-1k 190 vs 192 ns (420 vs 436 µs on nodes): within ±4 %
//!   where it applies. As the slice-of-pairs lookup it cost 36 % (`short`: 6.0 vs 4.4 ns).
//! - Boxed `ParseError` (to keep `Result` one word wide): removed. Parsing with the error held
//!   inline was 9-19 % faster on all four selectors and on an error (builds compared
//!   alternately, best of 5 × 150 batches): short 55 vs 62 ns, typical 163 vs 193 ns, long-1k
//!   2.60 vs 2.87 µs.
//! - 256-entry table of label bytes: removed; against a `matches!` it was within ±3 %.
//! - Pre-sizing the parser's vectors from the input length: kept. Without it parsing is 5-22 %
//!   slower on three selectors (typical 177 vs 168 ns, negations 232 vs 190 ns, long-1k 3.16 vs
//!   2.64 µs); it costs 10 ns on `short` (52 vs 62 ns), whose unused lists it allocates.
//!
//! Net, the old code against the new (best of 5 runs of each build, alternating; ns, nodes in µs):
//!
//! | selector    | parse       | pairs       | BTreeMap    | HashMap     | 2,000 nodes |
//! |-------------|-------------|-------------|-------------|-------------|-------------|
//! | short       | 78 -> 58    | 6.8 -> 4.6  | 8.8 -> 6.0  | 17.7 -> 16.6 | 29.4 -> 25.0 |
//! | typical-60b | 233 -> 165  | 27.3 -> 28.3 | 32.4 -> 32.3 | 71.8 -> 56.0 | 24.3 -> 23.1 |
//! | negations   | 268 -> 191  | 22.4 -> 25.1 | 25.7 -> 26.8 | 48.3 -> 48.4 | 234 -> 234  |
//! | long-1k     | 3849 -> 2732 | 189 -> 187 | 210 -> 195  | 242 -> 346  | 447 -> 433  |
//!
//! Parsing, which the webhook does on every admission request, is 26-29 % faster. Evaluation
//! against `BTreeMap`s (Nodes' labels) is the same or faster everywhere except +4 % on
//! `negations`, and against 2,000 nodes -15 % to 0 %. The one loss is `long-1k` on std's SipHash
//! `HashMap` (+43 %), where the cache saved 13 of its 16 hashed lookups; no caller evaluates
//! against a `HashMap`. 256 lines of code fewer.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use calico_selector as selector;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    selector: String,
    labels: BTreeMap<String, String>,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/selectors.json");
    let text = std::fs::read_to_string(path).expect("benchmark fixture is readable");
    serde_json::from_str(&text).expect("benchmark fixture is valid")
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for case in cases() {
        group.bench_with_input(
            BenchmarkId::from_parameter(&case.name),
            &case.selector,
            |b, input| b.iter(|| selector::parse(black_box(input))),
        );
    }
    group.finish();
}

fn evaluate(c: &mut Criterion) {
    let mut group = c.benchmark_group("matches");
    for case in cases() {
        let sel = selector::parse(&case.selector).expect("benchmark selectors are valid");
        let hash_map: HashMap<String, String> = case.labels.clone().into_iter().collect();
        group.bench_with_input(
            BenchmarkId::new("btree_map", &case.name),
            &case.labels,
            |b, labels| b.iter(|| sel.matches(black_box(labels))),
        );
        group.bench_with_input(
            BenchmarkId::new("hash_map", &case.name),
            &hash_map,
            |b, labels| b.iter(|| sel.matches(black_box(labels))),
        );
        let pairs: Vec<(&str, &str)> = case
            .labels
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        group.bench_with_input(
            BenchmarkId::new("pairs", &case.name),
            pairs.as_slice(),
            |b, labels| b.iter(|| sel.matches(black_box(labels))),
        );
    }
    group.finish();
}

/// The webhook's use: one selector, parsed once, evaluated against every Node's labels (a
/// `BTreeMap`, as Kubernetes objects deserialise) to count the nodes it matches.
fn evaluate_cluster(c: &mut Criterion) {
    let nodes = cluster_nodes(CLUSTER_NODES);
    let mut group = c.benchmark_group("matches_nodes");
    for case in cases() {
        let sel = selector::parse(&case.selector).expect("benchmark selectors are valid");
        group.bench_with_input(
            BenchmarkId::new(format!("{CLUSTER_NODES}"), &case.name),
            &nodes,
            |b, nodes| {
                b.iter(|| {
                    black_box(nodes)
                        .iter()
                        .filter(|labels| sel.matches(*labels))
                        .count()
                })
            },
        );
    }
    group.finish();
}

/// How many nodes [`evaluate_cluster`] evaluates against.
const CLUSTER_NODES: usize = 2000;

/// `count` nodes' labels as a cluster's Node objects carry them: the well-known Kubernetes
/// labels plus the ones the benchmark selectors test (rack, role, zone, bgp, tier,
/// route-reflector, drain-NN), spread so that each selector matches some nodes and not others.
fn cluster_nodes(count: usize) -> Vec<BTreeMap<String, String>> {
    let roles = ["tor", "spine", "leaf", "compute"];
    let zones = ["a", "b", "c", "d"];
    (0..count)
        .map(|i| {
            let rack = format!("rack-{:02}", i % 16);
            let zone = zones[i % zones.len()];
            let mut labels = BTreeMap::from([
                ("beta.kubernetes.io/arch".to_owned(), "amd64".to_owned()),
                ("beta.kubernetes.io/os".to_owned(), "linux".to_owned()),
                ("kubernetes.io/arch".to_owned(), "amd64".to_owned()),
                ("kubernetes.io/hostname".to_owned(), format!("node-{i:05}")),
                ("kubernetes.io/os".to_owned(), "linux".to_owned()),
                (
                    "node.kubernetes.io/instance-type".to_owned(),
                    "m5.2xlarge".to_owned(),
                ),
                (
                    "topology.kubernetes.io/region".to_owned(),
                    "eu-west-1".to_owned(),
                ),
                (
                    "topology.kubernetes.io/zone".to_owned(),
                    format!("eu-west-1{zone}"),
                ),
                ("node-role.kubernetes.io/worker".to_owned(), String::new()),
                ("rack".to_owned(), rack),
                ("role".to_owned(), roles[i % roles.len()].to_owned()),
                ("zone".to_owned(), zone.to_owned()),
                (
                    "tier".to_owned(),
                    if i % 3 == 0 { "edge-1" } else { "core" }.to_owned(),
                ),
            ]);
            if i % 2 == 0 {
                labels.insert("bgp".to_owned(), String::new());
            }
            if i % 50 == 0 {
                labels.insert("route-reflector".to_owned(), "true".to_owned());
            }
            if i % 7 == 0 {
                labels.insert(format!("drain-{:02}", i % 16), "true".to_owned());
            }
            labels
        })
        .collect()
}

criterion_group!(benches, parse, evaluate, evaluate_cluster);
criterion_main!(benches);
