//! What a tenant change must write, decided without I/O: pure functions of
//! the current and next state, unit-tested here.

use crate::domain::tenant::limits::MAX_DEPTH;
use crate::domain::Tenant;
use crate::error::{Code, Error, Result};

/// A tenant may sit at most [`MAX_DEPTH`] levels down.
pub(super) fn check_depth(depth: u32) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Conflict(
            Code::TooDeep,
            format!(
                "the hierarchy is at most {} levels deep; this would put a tenant at depth {depth}",
                MAX_DEPTH + 1
            ),
        ));
    }
    Ok(())
}

/// A change that changes nothing is not written: no new version, no write.
pub(super) fn same_fields(current: &Tenant, next: &Tenant) -> bool {
    let unstamped = Tenant {
        version: current.version,
        updated_at: current.updated_at,
        updated_by: current.updated_by.clone(),
        ..next.clone()
    };
    unstamped == *current
}
