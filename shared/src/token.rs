//! A secret token that callers must present (`DAPR_API_TOKEN`, a webhook
//! `token`), kept as its SHA-256 digest.
//!
//! Comparing the presented bytes with the token directly leaks its length:
//! a slice comparison returns at once when the lengths differ, so a guess
//! of the right length takes longer than any other. Two 32-byte digests are
//! compared instead, in constant time, so the work depends only on what the
//! caller presented (which it knows), never on the token.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The token a caller must present.
#[derive(Clone)]
pub struct SecretToken {
    digest: [u8; 32],
}

impl SecretToken {
    pub fn new(secret: &[u8]) -> Self {
        Self { digest: Sha256::digest(secret).into() }
    }

    /// Whether `presented` is the token.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented).into();
        self.digest.ct_eq(&presented).into()
    }
}

/// Never shows the token, nor its digest.
impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_itself_matches() {
        let token = SecretToken::new(b"s3cret");
        assert!(token.matches(b"s3cret"));
        for wrong in [&b""[..], b"s3cre", b"s3cret ", b"s3cret\0", b"S3cret", b"s3cretX"] {
            assert!(!token.matches(wrong), "{wrong:?}");
        }
        assert_eq!(format!("{token:?}"), "SecretToken(..)");
    }
}
