//! Stored answers of idempotent creates.

use super::attributes::{BODY, FINGERPRINT, STATUS};
use super::keys::Key;
use super::records::{number_attr, string_attr};
use super::table::TTL_ATTRIBUTE;
use super::Store;
use crate::domain::Timestamp;
use crate::error::Result;

/// The first answer to a request made with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// SHA-256 of the request it answered.
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
}

impl Store {
    /// The stored answer under `key`, unless it has expired (DynamoDB's TTL
    /// removes items late; an expired record is ignored all the same).
    pub async fn stored_answer(&self, key: &Key, now: Timestamp) -> Result<Option<StoredAnswer>> {
        let Some(item) = self.get_consistent(key).await? else {
            return Ok(None);
        };
        if number_attr(&item, TTL_ATTRIBUTE).is_none_or(|expires| expires < now.unix_seconds()) {
            return Ok(None);
        }
        Ok(Some(StoredAnswer {
            fingerprint: string_attr(&item, FINGERPRINT).unwrap_or_default().to_owned(),
            status: number_attr(&item, STATUS).unwrap_or(201) as u16,
            body: string_attr(&item, BODY).unwrap_or_default().to_owned(),
        }))
    }
}
