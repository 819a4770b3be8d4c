//! One interface to the store for the CLI, the console and the licensed
//! product, whether the store is opened directly or owned by `tessera serve`.
//!
//! An [`Api`] carries typed requests ([`crate::gate::Request`]) to the gate
//! and brings back their replies; the typed calls (`api.check("alice")`,
//! `api.add_user(new)`) come from [`crate::gate::ApiExt`], made from the one
//! table of operations. [`Local`] works on an open [`Store`] as a given login
//! user; the service's client ([`crate::client::Remote`]) sends the same
//! requests over the socket, where the caller is whoever the kernel says
//! connected.

use crate::Store;
use crate::error::Result;
use crate::gate::{Reply, Request};

/// Everything a client can ask of the store: one typed request at a time.
pub trait Api: Send + Sync {
    /// Who the calls are made as.
    fn operator(&self) -> String;
    /// Whether this goes through `tessera serve`.
    fn is_remote(&self) -> bool;
    /// Carries out one request.
    fn execute(&self, request: Request) -> Result<Reply>;
}

/// The store opened directly, used as `operator`.
pub struct Local<S: std::ops::Deref<Target = Store> + Send + Sync> {
    /// The store.
    pub store: S,
    /// The login user the calls are made as.
    pub operator: String,
}

impl<S: std::ops::Deref<Target = Store> + Send + Sync> Api for Local<S> {
    fn operator(&self) -> String {
        self.operator.clone()
    }
    fn is_remote(&self) -> bool {
        false
    }
    fn execute(&self, request: Request) -> Result<Reply> {
        self.store.execute(&self.operator, request)
    }
}
