//! The selector crate's integration tests, in one binary: Calico's own vectors, the language's
//! edge cases from the specification, and properties over generated selectors.

mod calico_vectors;
mod language;
mod properties;
