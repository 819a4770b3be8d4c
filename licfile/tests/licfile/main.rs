//! The integration tests of `licfile`, compiled into one test binary
//! (`cargo test -p licfile --test licfile`; a module's tests alone with a
//! filter, e.g. `-- golden::`). The data they check against are beside this
//! directory: `tests/golden/` and `tests/vectors/`.

mod bitflip;
mod common;
mod conformance;
mod golden;
mod invoice;
mod lease;
mod python;
mod roundtrip;
