//! The keys this build trusts.
//!
//! Production roots are compiled in from `keys/*.pub` rather than read from a
//! file at run time, so that trust cannot be changed by swapping a file. The
//! demo root is trusted only by demo stores, and its secret key ships with the
//! binary so that `tessera demo` can sign demo licences: a licence signed by it
//! is worth nothing outside a store marked DEMO.

use licfile::{KeyError, PublicKey, Roots, SecretKey};

/// The vendor's production root (its secret key is held offline by the vendor).
const PRODUCTION_ROOT_PEM: &str = include_str!("../../keys/root.pub");

/// The demo root's public key.
const DEMO_ROOT_PEM: &str = include_str!("../../keys/demo/demo.pub");

/// The demo root's secret key. Clearly not a secret: it signs demo licences only.
const DEMO_SECRET_PEM: &str = include_str!("../../keys/demo/demo.key");

/// The name production licences show as their issuer.
pub const PRODUCTION_ROOT_NAME: &str = "Tessera vendor root";

/// The name demo licences show as their issuer.
pub const DEMO_ROOT_NAME: &str = "Tessera DEMO root";

/// The roots every store trusts.
pub fn production_roots() -> Roots {
    let mut roots = Roots::new();
    // Compiled in and checked by this crate's tests, so a parse failure is a
    // broken build, not bad input; an empty root set then trusts nothing.
    if let Ok(key) = PublicKey::from_pem(PRODUCTION_ROOT_PEM) {
        roots.add(PRODUCTION_ROOT_NAME, key);
    }
    roots
}

/// The demo root's public key.
pub fn demo_root() -> Result<PublicKey, KeyError> {
    PublicKey::from_pem(DEMO_ROOT_PEM)
}

/// The demo root's secret key, for signing demo licences.
pub fn demo_secret() -> Result<SecretKey, KeyError> {
    SecretKey::from_pem(DEMO_SECRET_PEM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_keys_parse_and_agree() {
        assert_eq!(production_roots().iter().count(), 1);
        let demo_pub = demo_root().unwrap();
        assert_eq!(demo_secret().unwrap().public(), &demo_pub);
        assert!(
            production_roots().find(demo_pub.id()).is_none(),
            "the demo root must not be a production root"
        );
    }
}
