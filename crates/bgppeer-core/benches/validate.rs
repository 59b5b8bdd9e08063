//! Validation cost of a typical BGPPeer with two selectors (target: at most 5 µs per call),
//! plus the defaults computation the mutating webhook runs on the same object.

use std::hint::black_box;

use bgppeer_core::bgppeer::{self, ApiGroup};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn typical_peer() -> serde_json::Value {
    json!({
        "apiVersion": "crd.projectcalico.org/v1",
        "kind": "BGPPeer",
        "metadata": {
            "name": "rack1-tor",
            "labels": {"app.kubernetes.io/managed-by": "argocd", "rack": "r1"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
        },
        "spec": {
            "nodeSelector": "rack == 'r1' && has(bgp)",
            "peerSelector": "role in {'tor', 'spine'} && !has(maintenance)",
            "keepaliveTime": "30s",
            "filters": ["export-only"],
            "sourceAddress": "UseNodeIP"
        }
    })
}

fn bench(c: &mut Criterion) {
    let peer = typical_peer();
    let report = bgppeer::validate(ApiGroup::CrdV1, &peer);
    assert!(
        report.is_valid(),
        "the benchmark object must be valid: {}",
        report.errors
    );

    c.bench_function("validate typical peer with two selectors", |b| {
        b.iter(|| bgppeer::validate(ApiGroup::CrdV1, black_box(&peer)))
    });
    c.bench_function("defaults typical peer", |b| {
        b.iter(|| bgppeer::defaults(ApiGroup::CrdV1, black_box(&peer)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
