//! Opaque, tamper-proof list cursors.
//!
//! A cursor is the list position as JSON, base64url-encoded, followed by an
//! HMAC-SHA256 tag over the position *and the query it belongs to*. A forged
//! or edited cursor, or one reused with other filters, fails the check and
//! answers 400; it can never reach the database.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;

use crate::FieldError;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the tag kept (128 bits).
const TAG_BYTES: usize = 16;
/// Longest cursor accepted before any decoding.
/// Real cursors are a few hundred characters; the bound keeps URLs well
/// within what gateways accept.
const MAX_CURSOR_CHARS: usize = 2048;

#[derive(Clone)]
pub struct CursorKey {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    pub fn new(secret: &[u8]) -> Self {
        Self { key: secret.to_vec() }
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(scope.as_bytes());
        mac.update(b"\n");
        mac.update(payload);
        mac
    }

    /// Seals `value` for the query described by `scope`.
    pub fn seal<T: Serialize>(&self, scope: &str, value: &T) -> String {
        let payload = serde_json::to_vec(value).expect("a position serialises to JSON");
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
        )
    }

    /// Opens a cursor sealed for the same `scope`.
    pub fn open<T: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<T, FieldError> {
        let invalid = || FieldError::new("cursor", "is not a valid cursor for this query; start again without it");
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(invalid());
        }
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if tag.len() != TAG_BYTES {
            return Err(invalid());
        }
        self.mac(scope, &payload)
            .verify_truncated_left(&tag)
            .map_err(|_| invalid())?;
        serde_json::from_slice(&payload).map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> CursorKey {
        CursorKey::new(b"0123456789abcdef")
    }

    #[test]
    fn round_trips_within_its_scope_only() {
        let c = key().seal("sort=name", &vec!["a".to_string(), "b".to_string()]);
        assert_eq!(key().open::<Vec<String>>("sort=name", &c).unwrap(), vec!["a", "b"]);
        assert!(key().open::<Vec<String>>("sort=createdAt", &c).is_err());
        assert!(CursorKey::new(b"another secret!!")
            .open::<Vec<String>>("sort=name", &c)
            .is_err());
    }

    proptest! {
        /// Changing any one character of a cursor makes it invalid.
        #[test]
        fn any_edit_is_detected(values in proptest::collection::vec("[a-z]{0,8}", 0..4), at in 0usize..1000, with in "[A-Za-z0-9_.-]") {
            let c = key().seal("q", &values);
            let at = at % c.len();
            let mut edited: Vec<char> = c.chars().collect();
            let replacement = with.chars().next().unwrap();
            prop_assume!(edited[at] != replacement);
            edited[at] = replacement;
            let edited: String = edited.into_iter().collect();
            prop_assert!(key().open::<Vec<String>>("q", &edited).is_err());
        }

        /// Arbitrary strings never open and never panic.
        #[test]
        fn garbage_never_opens(s in "\\PC{0,200}") {
            prop_assert!(key().open::<Vec<String>>("q", &s).is_err());
        }

        #[test]
        fn sealed_values_round_trip(values in proptest::collection::vec("\\PC{0,20}", 0..5)) {
            let c = key().seal("q", &values);
            prop_assert_eq!(key().open::<Vec<String>>("q", &c).unwrap(), values);
        }
    }
}
