//! Cross-function tests live in `api/` (one test binary). This library is
//! empty: the crate exists so `cargo test --workspace` builds and runs them.
