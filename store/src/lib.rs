//! The installation's state. This issue provides the keys the build trusts.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod trust;
