//! End-to-end tests of the built `tessera` binary, compiled into one test binary.

mod activation;
mod airgap;
mod billing;
mod clock;
mod console;
mod crash;
mod disk;
mod lease;
mod ledger;
mod metrics;
mod serve;
mod site;
mod tls;
mod util;
mod vendor;
mod verify;
