//! The pure core of bgppeer-webhook: no I/O at all (no sockets, no files, no clocks, no kube
//! client). Bytes and values in, typed results out, so that every rule and decision is tested
//! without a server or a cluster, and the binary (`bgppeer-webhook`) is a thin shell around it.
//!
//! - [`field`]: Kubernetes-style field errors (`spec.peerIP: Invalid value: ...`), bounded.
//! - [`bgppeer`]: the typed BGPPeer ([`bgppeer::Peer`]), parsed once by validation, with every
//!   Calico rule (the R-numbers in comments point to `docs/calico-rules.md`), warnings and
//!   defaults; [`bgppeer::api`] names the API groups, kinds and limits once.
//! - [`admission`]: an AdmissionReview request and a read-only view of the cluster
//!   ([`admission::cluster::ClusterView`]) in, the decision out; the cluster rules over that
//!   view live here too.
//! - [`bgpconfig`]: the BGPConfiguration fields that decide sessions (mesh, default AS, listen
//!   port) and how Calico resolves them per node.
//! - [`explain`]: which nodes a typed peer applies to and which sessions they open, and the
//!   text, JSON and DOT renderings of that plan.
//!
//! Calico's selector language is its own crate, `calico-selector`.

#![forbid(unsafe_code)]

pub mod admission;
pub mod bgpconfig;
pub mod bgppeer;
pub mod explain;
pub mod field;
