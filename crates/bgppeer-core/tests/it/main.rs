//! The core crate's integration tests, in one binary: Calico's own BGPPeer vectors, every rule
//! through the public API, warnings, defaults, and hostile inputs decided within their bounds.

mod defaults;
mod fixtures;
mod robustness;
mod rules;
mod validate;
mod warnings;
