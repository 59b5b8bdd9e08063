//! Parsing and evaluating the four selectors of benches/selectors.json.
//!
//! Calico's own Go parser, measured on the reference machine, takes 1.10 / 3.68 / 4.15 / 42.0 µs
//! to parse them and 13.5 / 62.5 / 46.4 / 223 ns to evaluate them on its fastest path.
//! Evaluation is measured against the label containers the crate supports: `BTreeMap` (what
//! Kubernetes objects deserialise into), `HashMap`, and a slice of pairs (the fastest path).

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

criterion_group!(benches, parse, evaluate);
criterion_main!(benches);
