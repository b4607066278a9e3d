//! Opaque list cursors, bound to their caller and their query.
//!
//! A cursor is a list position (JSON, padded with spaces to a multiple of
//! [`PAD`] bytes, so that its length says little about the names in it)
//! encrypted with XChaCha20-Poly1305 and base64url-encoded:
//!
//! ```text
//! version (1 byte) ‖ nonce (24 random bytes) ‖ ciphertext ‖ tag (16 bytes)
//! ```
//!
//! The associated data is the version, the caller's `sub` and the query's
//! scope (each length-prefixed), so a cursor opens only for the caller it
//! was handed to and the query it came from: a forged, edited or replayed
//! cursor answers 400 and never reaches the database. The client learns
//! nothing from it but its length.
//!
//! The key is derived from the cursor secret with HKDF-SHA256. During a
//! rotation a cursor sealed with the previous secret still opens (the
//! current key is tried first, then the previous one); cursors are always
//! sealed with the current key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::FieldError;

/// The format's version: the first byte, and part of the associated data.
const VERSION: u8 = 1;
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
/// Plaintexts are padded to a multiple of this many bytes.
const PAD: usize = 32;
/// Longest cursor accepted before any decoding. Real cursors are a few
/// hundred characters; the bound keeps URLs well within what gateways accept.
pub const MAX_CURSOR_CHARS: usize = 2048;
/// HKDF's salt and info: the key is for this use only.
const KDF_SALT: &[u8] = b"tenancy list cursors";
const KDF_INFO: &[u8] = b"xchacha20poly1305 v1";

/// The keys cursors are sealed and opened with: the current one, and the
/// previous one while a rotation is under way.
#[derive(Clone)]
pub struct CursorKeys {
    current: XChaCha20Poly1305,
    previous: Option<XChaCha20Poly1305>,
}

impl std::fmt::Debug for CursorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKeys(..)")
    }
}

fn cipher(secret: &[u8]) -> XChaCha20Poly1305 {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(KDF_SALT), secret)
        .expand(KDF_INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    XChaCha20Poly1305::new(&key.into())
}

/// The associated data: version, caller and scope, each length-prefixed so
/// that no two (caller, scope) pairs give the same bytes.
fn associated_data(subject: &str, scope: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(subject.len() + scope.len() + 17);
    aad.push(VERSION);
    for part in [subject, scope] {
        aad.extend((part.len() as u64).to_be_bytes());
        aad.extend(part.as_bytes());
    }
    aad
}

/// A fresh nonce: random. Should the OS refuse randomness (it does not on
/// Lambda), a nonce that is still unique: a hash of a process counter, the
/// time and the process id.
fn nonce() -> [u8; NONCE_BYTES] {
    let mut nonce = [0u8; NONCE_BYTES];
    if getrandom::fill(&mut nonce).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut hash = Sha256::new();
        hash.update(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_be_bytes());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        hash.update(now.as_nanos().to_be_bytes());
        hash.update(std::process::id().to_be_bytes());
        nonce.copy_from_slice(&hash.finalize()[..NONCE_BYTES]);
    }
    nonce
}

impl CursorKeys {
    /// Keys from the current secret alone.
    pub fn new(secret: &[u8]) -> Self {
        Self::with_previous(secret, None)
    }

    /// Keys from the current secret and, during a rotation, the previous one.
    pub fn with_previous(current: &[u8], previous: Option<&[u8]>) -> Self {
        Self {
            current: cipher(current),
            previous: previous.map(cipher),
        }
    }

    /// The cursors of one caller (bound to its `sub`).
    pub fn for_caller<'a>(&'a self, caller: &'a Caller) -> Cursors<'a> {
        self.for_subject(&caller.subject)
    }

    /// The cursors of the caller whose `sub` is `subject`.
    pub fn for_subject<'a>(&'a self, subject: &'a str) -> Cursors<'a> {
        Cursors { keys: self, subject }
    }
}

/// Seals and opens the cursors of one caller.
#[derive(Clone, Copy)]
pub struct Cursors<'a> {
    keys: &'a CursorKeys,
    subject: &'a str,
}

impl Cursors<'_> {
    /// Seals `value` for the query described by `scope`.
    pub fn seal<T: Serialize>(&self, scope: &str, value: &T) -> String {
        let mut plaintext = serde_json::to_vec(value).expect("a position serialises to JSON");
        plaintext.resize(plaintext.len().div_ceil(PAD).max(1) * PAD, b' ');
        let nonce = nonce();
        let aad = associated_data(self.subject, scope);
        let sealed = self
            .keys
            .current
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .expect("encryption of a small buffer cannot fail");
        let mut bytes = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        bytes.push(VERSION);
        bytes.extend(nonce);
        bytes.extend(sealed);
        let cursor = URL_SAFE_NO_PAD.encode(bytes);
        if cursor.len() > MAX_CURSOR_CHARS {
            tracing::warn!(chars = cursor.len(), "a cursor longer than any request may carry back");
        }
        cursor
    }

    /// Opens a cursor sealed for this caller and the same `scope`, with the
    /// current key or else the previous one.
    pub fn open<T: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<T, FieldError> {
        let invalid = || FieldError::new("cursor", "is not a valid cursor for this query; start again without it");
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        if bytes.len() < 1 + NONCE_BYTES + TAG_BYTES || bytes[0] != VERSION {
            return Err(invalid());
        }
        let (nonce, sealed) = bytes[1..].split_at(NONCE_BYTES);
        let aad = associated_data(self.subject, scope);
        let payload = || Payload { msg: sealed, aad: &aad };
        let nonce = XNonce::from_slice(nonce);
        let plaintext = std::iter::once(&self.keys.current)
            .chain(&self.keys.previous)
            .find_map(|key| key.decrypt(nonce, payload()).ok())
            .ok_or_else(invalid)?;
        serde_json::from_slice(&plaintext).map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"0123456789abcdef";

    fn keys() -> CursorKeys {
        CursorKeys::new(SECRET)
    }

    fn values() -> Vec<String> {
        vec!["acme-corp".to_string(), "TENANT#acme-corp".to_string()]
    }

    #[test]
    fn round_trips_for_its_caller_and_scope_only() {
        let keys = keys();
        let alice = keys.for_subject("alice");
        let c = alice.seal("sort=name", &values());
        assert_eq!(alice.open::<Vec<String>>("sort=name", &c).unwrap(), values());
        assert!(alice.open::<Vec<String>>("sort=createdAt", &c).is_err());
        assert!(keys.for_subject("bob").open::<Vec<String>>("sort=name", &c).is_err());
        assert!(keys.for_subject("").open::<Vec<String>>("sort=name", &c).is_err());
        // The length prefixes keep the caller and the scope apart.
        let split = keys.for_subject("alicesort=");
        assert!(split.open::<Vec<String>>("name", &c).is_err());
        assert!(CursorKeys::new(b"another secret!!")
            .for_subject("alice")
            .open::<Vec<String>>("sort=name", &c)
            .is_err());
    }

    #[test]
    fn a_cursor_shows_nothing_of_its_position() {
        let alice = keys();
        let alice = alice.for_subject("alice");
        let (a, b) = (alice.seal("q", &values()), alice.seal("q", &values()));
        assert_ne!(a, b, "a fresh nonce each time");
        let bytes = URL_SAFE_NO_PAD.decode(&a).unwrap();
        for text in ["acme", "TENANT", "alice"] {
            assert!(!a.contains(text));
            assert!(!bytes.windows(text.len()).any(|w| w == text.as_bytes()));
        }
        // Names of 1 to 32 bytes give cursors of one length.
        let lengths: std::collections::BTreeSet<usize> =
            (1..=20).map(|n| alice.seal("q", &vec!["x".repeat(n)]).len()).collect();
        assert_eq!(lengths.len(), 1, "{lengths:?}");
    }

    /// Issue 17, item 13: during a rotation a cursor sealed with the old
    /// secret opens while the old secret is the previous one, and not once
    /// it is gone; new cursors are sealed with the new secret.
    #[test]
    fn rotation_accepts_the_previous_secret_only_while_it_is_configured() {
        let old_secret = b"the-old-cursor-secret".as_slice();
        let new_secret = b"the-new-cursor-secret".as_slice();
        let before = CursorKeys::new(old_secret);
        let old = before.for_subject("alice").seal("q", &values());

        let rotating = CursorKeys::with_previous(new_secret, Some(old_secret));
        let during = rotating.for_subject("alice");
        assert_eq!(during.open::<Vec<String>>("q", &old).unwrap(), values());
        let fresh = during.seal("q", &values());
        assert!(
            before.for_subject("alice").open::<Vec<String>>("q", &fresh).is_err(),
            "sealed with the new secret"
        );
        assert_eq!(
            CursorKeys::new(new_secret)
                .for_subject("alice")
                .open::<Vec<String>>("q", &fresh)
                .unwrap(),
            values()
        );
        // The previous key still binds the caller and the query.
        assert!(during.open::<Vec<String>>("other", &old).is_err());
        assert!(rotating.for_subject("bob").open::<Vec<String>>("q", &old).is_err());

        let after = CursorKeys::new(new_secret);
        assert!(after.for_subject("alice").open::<Vec<String>>("q", &old).is_err());
        let unrelated = CursorKeys::with_previous(new_secret, Some(b"yet-another-secret!!"));
        assert!(unrelated.for_subject("alice").open::<Vec<String>>("q", &old).is_err());
    }

    #[test]
    fn long_cursors_are_refused_before_decoding() {
        let keys = keys();
        let alice = keys.for_subject("alice");
        let c = alice.seal("q", &vec!["a".repeat(MAX_CURSOR_CHARS)]);
        assert!(c.len() > MAX_CURSOR_CHARS);
        assert!(alice.open::<Vec<String>>("q", &c).is_err());
    }

    proptest! {
        /// Changing any one character of a cursor makes it invalid.
        #[test]
        fn any_edit_is_detected(values in proptest::collection::vec("[a-z]{0,8}", 0..4), at in 0usize..1000, with in "[A-Za-z0-9_-]") {
            let keys = keys();
            let alice = keys.for_subject("alice");
            let c = alice.seal("q", &values);
            let at = at % c.len();
            let mut edited: Vec<char> = c.chars().collect();
            let replacement = with.chars().next().unwrap();
            prop_assume!(edited[at] != replacement);
            edited[at] = replacement;
            let edited: String = edited.into_iter().collect();
            prop_assert!(alice.open::<Vec<String>>("q", &edited).is_err());
        }

        /// Cutting a cursor short or adding to it makes it invalid.
        #[test]
        fn truncated_or_extended_cursors_fail(cut in 1usize..200, extra in "[A-Za-z0-9_-]{1,8}") {
            let keys = keys();
            let alice = keys.for_subject("alice");
            let c = alice.seal("q", &values());
            let cut = cut.min(c.len());
            prop_assert!(alice.open::<Vec<String>>("q", &c[..c.len() - cut]).is_err());
            let extended = format!("{c}{extra}");
            prop_assert!(alice.open::<Vec<String>>("q", &extended).is_err());
        }

        /// Arbitrary strings never open and never panic.
        #[test]
        fn garbage_never_opens(s in "\\PC{0,200}") {
            prop_assert!(keys().for_subject("alice").open::<Vec<String>>("q", &s).is_err());
        }

        /// Well-formed but unsealed bytes never open either.
        #[test]
        fn random_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = bytes;
            if let Some(first) = bytes.first_mut() {
                *first = VERSION;
            }
            let c = URL_SAFE_NO_PAD.encode(bytes);
            prop_assert!(keys().for_subject("alice").open::<Vec<String>>("q", &c).is_err());
        }

        #[test]
        fn sealed_values_round_trip(values in proptest::collection::vec("\\PC{0,20}", 0..5), subject in "\\PC{0,30}") {
            let keys = keys();
            let cursors = keys.for_subject(&subject);
            let c = cursors.seal("q", &values);
            prop_assert!(c.len() <= MAX_CURSOR_CHARS);
            prop_assert_eq!(cursors.open::<Vec<String>>("q", &c).unwrap(), values);
        }
    }
}
