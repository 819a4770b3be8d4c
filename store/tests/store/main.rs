//! The integration tests of `store`, compiled into one test binary
//! (`cargo test -p store --test store`; a module's tests alone with a filter,
//! e.g. `-- rules::`).

mod common;
mod features;
mod invariants;
mod issuers;
mod metrics;
mod modules;
mod purchases;
mod rules;
mod schema;
mod search;
