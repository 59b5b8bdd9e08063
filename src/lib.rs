//! bgppeer-webhook: a Kubernetes admission webhook that validates and defaults Calico `BGPPeer`
//! resources.
//!
//! This crate is the shell around a pure core: the typed BGPPeer, Calico's rules, the admission
//! decision and explain's planning live in the `bgppeer-core` crate (no I/O), and Calico's
//! selector language in `calico-selector`. Everything here does I/O or drives it:
//!
//! - [`cluster`]: the index behind the core's `ClusterView`, kept current by kube-runtime watches, and
//!   the live lookup that confirms a missing filter (network I/O to the API server).
//! - [`server`]: the HTTPS server the kube-apiserver calls (the only module that listens).
//! - [`cmd`]: the command-line subcommands (reading files and stdin, printing).

pub mod audit;
pub mod certs;
pub mod cluster;
pub mod cmd;
pub mod kubeconfig;
pub mod manifests;
pub(crate) mod plain;
pub(crate) mod report;
pub(crate) mod selftest;
pub mod server;
