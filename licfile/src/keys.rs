//! ed25519 keys: generation, PEM forms that `openssl pkey` reads, and key ids.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::constants::KEY_ID_LEN;
use crate::error::KeyError;
use crate::values::RawPublicKey;

/// The first 8 bytes of SHA-256 over a raw public key: names the key in envelopes and messages.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl KeyId {
    /// The id of a raw 32-byte public key.
    pub fn of(raw: &[u8; 32]) -> Self {
        let digest = Sha256::digest(raw);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || format!("{s:?} is not a key id (16 hex digits)");
        if s.len() != 2 * KEY_ID_LEN || !s.is_ascii() {
            return Err(bad());
        }
        let mut id = [0u8; KEY_ID_LEN];
        for (i, b) in id.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(KeyId(id))
    }
}

/// A public key that verifies signatures. Weak keys cannot be constructed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.id)
    }
}

impl PublicKey {
    /// From the raw 32 bytes; refuses points that are not on the curve and weak keys.
    pub fn from_raw(raw: &[u8; 32]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_bytes(raw)
            .map_err(|_| KeyError::BadPublicKey("not a point on the curve".into()))?;
        Self::from_verifying(key)
    }

    fn from_verifying(key: VerifyingKey) -> Result<Self, KeyError> {
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(PublicKey {
            id: KeyId::of(key.as_bytes()),
            key,
        })
    }

    /// From SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_public_key_pem(pem.trim())
            .map_err(|e| KeyError::BadPublicKey(e.to_string()))?;
        Self::from_verifying(key)
    }

    /// As SPKI PEM.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The raw 32 bytes.
    pub fn raw(&self) -> RawPublicKey {
        RawPublicKey(self.key.to_bytes())
    }

    pub(crate) fn verifying(&self) -> &VerifyingKey {
        &self.key
    }
}

/// A secret signing key. Never printed: `Debug` shows only the key id.
#[derive(Clone)]
pub struct SecretKey {
    key: SigningKey,
    public: PublicKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.public.id)
    }
}

impl SecretKey {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Self::from_seed(&seed)
    }

    /// The key whose 32-byte seed this is (for tests and reproducible fixtures).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let key = SigningKey::from_bytes(seed);
        let public = PublicKey::from_verifying(key.verifying_key())?;
        Ok(SecretKey { key, public })
    }

    /// From PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = SigningKey::from_pkcs8_pem(pem.trim())
            .map_err(|e| KeyError::BadSecretKey(e.to_string()))?;
        let public = PublicKey::from_verifying(key.verifying_key())?;
        Ok(SecretKey { key, public })
    }

    /// As PKCS#8 PEM. The string holds the secret: write it to a 0600 file and drop it.
    ///
    /// Written as PKCS#8 v1 (seed only): OpenSSL 3.0, which many sites run,
    /// refuses the v2 form that also carries the public key.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        let bytes = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        bytes
            .to_pkcs8_pem(LineEnding::LF)
            .map(|z| z.to_string())
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn signing(&self) -> &SigningKey {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_and_ids_match() {
        let sk = SecretKey::from_seed(&[7u8; 32]).unwrap();
        let pem = sk.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SecretKey::from_pem(&pem).unwrap();
        assert_eq!(back.public(), sk.public());
        let pub_pem = sk.public().to_pem().unwrap();
        assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(
            PublicKey::from_pem(&pub_pem).unwrap().id(),
            sk.public().id()
        );
        assert_eq!(
            sk.public().id().to_string().parse::<KeyId>().unwrap(),
            sk.public().id()
        );
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point: small order, would accept forged signatures.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_raw(&identity), Err(KeyError::WeakKey));
    }

    #[test]
    fn garbage_pem_is_refused_with_a_message() {
        let err = PublicKey::from_pem("hello").unwrap_err().to_string();
        assert!(err.contains("SPKI PEM"), "{err}");
        let err =
            SecretKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .unwrap_err()
                .to_string();
        assert!(err.contains("PKCS#8"), "{err}");
    }
}
