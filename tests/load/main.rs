//! The heavy tests: large data sets and long walks. A test binary of their
//! own, so they run after the functional tests (cargo runs test binaries one
//! at a time) with a DynamoDB Local to themselves.

#[path = "../api/helpers.rs"]
#[allow(dead_code)] // shared with the api binary, which uses all of it
mod helpers;

mod cleanup;
mod paging;
mod scale;
mod subtenants;
