//! The business's decisions as pure functions over facts: no sled, no files,
//! no clock reads. The gate reads the facts inside its transaction, asks a
//! rule, and writes what the rule decided; these functions can be tested (and
//! property-tested) without a store.

pub mod check;
pub mod clock;
pub mod costs;
pub mod import;
pub mod names;
pub mod permit;
pub mod purchase;
pub mod seats;
pub mod usage;
