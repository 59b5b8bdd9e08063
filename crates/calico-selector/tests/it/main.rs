//! The selector crate's integration tests, in one binary: the language's edge cases from the
//! specification, and properties over generated selectors. Calico's own vectors are unit tests
//! (src/calico_vectors.rs), as they use items only tests need.

mod language;
mod properties;
