//! End-to-end tests of the built `tessera` binary, compiled into one test binary.

mod util;
mod vendor;
mod verify;
