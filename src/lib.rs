//! bgppeer-webhook: a Kubernetes admission webhook that validates and defaults Calico `BGPPeer`
//! resources.
//!
//! The crate is a pure core wrapped in a thin shell:
//!
//! - [`calico_selector`] (its own crate): Calico's label-selector language.
//! - [`field`]: Kubernetes-style field errors (`spec.peerIP: Invalid value: ...`).
//! - [`bgppeer`]: the BGPPeer resource model, every Calico validation rule, warnings and defaults.
//! - [`admission`]: AdmissionReview request in, AdmissionResponse out (pure).
//! - [`cluster`]: cluster-aware checks (filters, password Secrets, nodes, duplicates).
//! - [`server`]: the HTTPS server the kube-apiserver calls (the only module with sockets).
//! - [`cmd`]: the command-line subcommands.

pub mod admission;
pub mod bgppeer;
pub mod certs;
pub mod cluster;
pub mod cmd;
pub mod explain;
pub mod field;
pub mod manifests;
pub mod selftest;
pub mod server;
