//! The notifier's use case: a record of the table's stream in, its change
//! event (if any) recorded in the events feed with the path that decides who
//! sees it, and handed back for publishing. The `notifier` function decodes
//! Lambda's event, calls [`record`] per record and publishes what it returns.

use crate::domain::events::ChangeEvent;
use crate::domain::{Tenant, Timestamp};
use crate::error::Result;
use crate::store::stream::StreamRecord;
use crate::store::Store;

/// The change event `record` stands for, if any.
pub fn change_event(record: &StreamRecord) -> Option<ChangeEvent> {
    record.decode()?.event()
}

/// Records the change event of `record` in the feed; the event to publish,
/// if it is one (see [`record_in_feed`]).
pub async fn record(store: &Store, record: &StreamRecord) -> Result<Option<ChangeEvent>> {
    let Some(recorded) = record.decode() else {
        return Ok(None);
    };
    let Some(change) = recorded.event() else {
        return Ok(None);
    };
    Ok(record_in_feed(store, &change, recorded.incarnation)
        .await?
        .then_some(change))
}

/// Records `change` in the feed with the path that decides who sees it (the
/// tenant's, looked up when the record does not carry it) and the moment that
/// path held; whether it is an event at all. The removal of a subtenant,
/// member or identity provider that went with its tenant is not: it is part
/// of `tenant.deleted` or `tenant.purged`. Records of one tenant's items
/// share its partition, so they reach the notifier in order: by the time such
/// a removal comes, the tenant's own removal has left its mark.
///
/// `incarnation`: the `createdAt` of the tenant the record's item belongs to,
/// when the item says. A change of an earlier tenant of the id, recorded
/// after a new tenant took it, keeps only its own id as its path, at its own
/// time: no later tenant's members see it.
#[tracing::instrument(skip(store, change), fields(event_id = %change.id, kind = %change.kind, tenant_id = %change.subject))]
pub async fn record_in_feed(store: &Store, change: &ChangeEvent, incarnation: Option<Timestamp>) -> Result<bool> {
    if change.kind.is_tenant_gone() {
        if let Some(incarnation) = change.data["tenant"]["createdAt"].as_str().and_then(Timestamp::parse) {
            store
                .record_tenant_gone(&change.subject, incarnation, change.time)
                .await?;
        }
    }
    let (path, path_at) = match &change.path {
        // The image's path, as it stood when the change was made.
        Some(path) => (path.clone(), change.time),
        None => {
            // Taken before the read: the path read held at this moment or later.
            let looked_up_at = Timestamp::now();
            let tenant = store.get_tenant(&change.subject).await?;
            if is_removal(change) {
                if let Some(born) = born(change) {
                    let gone = store.tenant_gone_incarnation(&change.subject, born).await?;
                    let of_the_live_tenant = tenant
                        .as_ref()
                        .is_some_and(|t| t.created_at <= born && gone.is_none_or(|g| t.created_at > g));
                    if gone.is_some() && !of_the_live_tenant {
                        return Ok(false);
                    }
                }
            }
            match tenant {
                Some(tenant) if is_of(change, incarnation, &tenant) => (tenant.path, looked_up_at),
                _ => (vec![change.subject.clone()], change.time),
            }
        }
    };
    store.record_change_event_landing(change, &path, path_at).await?;
    Ok(true)
}

/// Whether `change` is about the incarnation `tenant` of its subject: the
/// one its item names, else (subtenants) the one live when it was born.
fn is_of(change: &ChangeEvent, incarnation: Option<Timestamp>, tenant: &Tenant) -> bool {
    match incarnation {
        Some(at) => at == tenant.created_at,
        None => born(change).unwrap_or(change.time) >= tenant.created_at,
    }
}

/// Whether `change` removes something that lives under a tenant.
fn is_removal(change: &ChangeEvent) -> bool {
    change.kind.is_removal_under_tenant()
}

/// When the resource of `change` came to be (`createdAt`, or `addedAt` for a member).
fn born(change: &ChangeEvent) -> Option<Timestamp> {
    let resource = change.data.as_object()?.iter().find(|(name, _)| *name != "changes")?.1;
    resource["createdAt"]
        .as_str()
        .or(resource["addedAt"].as_str())
        .and_then(Timestamp::parse)
}
