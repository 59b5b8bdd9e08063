//! The integration tests of the `bgppeer-webhook` crate, in one test binary (one link instead of
//! one per file): the real TLS server with a real HTTPS client, the real binary's subcommands,
//! and the Helm chart rendered by the real `helm`.
//!
//! - `support`: the server harness (certificates, ephemeral ports, clients, recorded requests).
//! - `binary`: runs the built `bgppeer-webhook` binary.

mod binary;
mod support;

mod audit;
mod chart;
mod check_cli;
mod cli_process;
mod cluster_api;
mod cluster_rules;
mod docs;
mod explain_cli;
mod explain_logic;
mod selector_cli;
mod selftest;
mod server_certs_cli;
mod server_decisions;
mod server_metrics;
mod server_protocol;
mod server_shutdown;
mod server_tls;
