//! Retire and restore: a tenant's moves out of and back into use.

use super::{Stamp, Status, Tenant};
use crate::{Code, Error};

impl Tenant {
    /// Retires the tenant: hidden from default lists, kept until purge.
    pub fn retired(&self, reason: Option<String>, change: &Stamp) -> Result<Self, Error> {
        if self.status == Status::Provisioning {
            self.ensure_changeable()?;
        }
        if self.status == Status::Retired {
            return Err(Error::Conflict(
                Code::AlreadyRetired,
                format!("tenant '{}' is already retired", self.id),
            ));
        }
        Ok(Self {
            status: Status::Retired,
            retired_at: Some(change.at),
            retired_by: Some(change.actor.clone()),
            retire_reason: reason,
            ..self.touched(change)
        })
    }

    /// Brings a retired tenant back as `active`.
    pub fn restored(&self, change: &Stamp) -> Result<Self, Error> {
        if self.status != Status::Retired {
            return Err(Error::Conflict(
                Code::NotRetired,
                format!("tenant '{}' is not retired", self.id),
            ));
        }
        if self.purge_started_at.is_some() {
            return Err(Error::Conflict(
                Code::BeingPurged,
                format!("tenant '{}' is being purged and cannot be restored", self.id),
            ));
        }
        Ok(Self {
            status: Status::Active,
            retired_at: None,
            retired_by: None,
            retire_reason: None,
            ..self.touched(change)
        })
    }
}
