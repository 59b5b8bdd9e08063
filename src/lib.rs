//! bgppeer-webhook: a Kubernetes admission webhook that validates and defaults Calico `BGPPeer`
//! resources.
//!
//! The crate is a pure core wrapped in a thin shell:
//!
//! - [`calico_selector`] (its own crate): Calico's label-selector language.
//! - [`field`]: Kubernetes-style field errors (`spec.peerIP: Invalid value: ...`).
//! - [`bgppeer`]: the BGPPeer resource model, every Calico validation rule, warnings and defaults.
//! - [`admission`]: an AdmissionReview request and a read-only view of the cluster in, the
//!   decision out (pure: the cluster rules are here too, over the `ClusterView` trait).
//! - [`cluster`]: the cluster index behind that view, kept current by kube-runtime watches, and
//!   the live lookup that confirms a missing filter (network I/O to the API server).
//! - [`server`]: the HTTPS server the kube-apiserver calls (the only module that listens).
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
