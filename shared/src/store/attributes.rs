//! The names of the items' attributes: the one place the store spells them.
//! The keys' attributes (`PK`, `SK`, the indexes' and the TTL's) belong to
//! the table's definition, in [`super::table`]. Records written with
//! `serde_dynamo` take their field names from the domain's types (camelCase);
//! the names below are those the store reads, writes or conditions on by
//! name.

/// What kind of item an item is (see [`super::entity::EntityType`]).
pub const ENTITY_TYPE: &str = "entityType";
/// A tenant's name key (a facet's too, where name prefixes are filtered on it).
pub const NAME_KEY: &str = "nameKey";
pub const TENANT_ID: &str = "tenantId";
/// The `createdAt` of the tenant an item belongs to (memberships, identity
/// providers, group mappings, domain claims, deployments).
pub const INCARNATION: &str = "tenantCreatedAt";
/// The `createdAt` of the identity provider a group mapping belongs to.
pub const PROVIDER_INCARNATION: &str = "providerCreatedAt";
/// The `createdAt` of the tenant a clone job creates.
pub const TARGET_CREATED_AT: &str = "targetCreatedAt";
/// The attribute that holds a deployment's bytes.
pub const CONTENT: &str = "content";

// Fields of the records, named where the store conditions or updates on them.
pub const ID: &str = "id";
pub const NAME: &str = "name";
pub const VERSION: &str = "version";
pub const STATUS: &str = "status";
pub const PATH: &str = "path";
pub const PARENT_ID: &str = "parentId";
pub const PARENT_NAME: &str = "parentName";
pub const RESELLER_ID: &str = "resellerId";
pub const CHILD_COUNT: &str = "childCount";
pub const SUBTENANT_COUNT: &str = "subtenantCount";
pub const CREATED_AT: &str = "createdAt";
pub const UPDATED_AT: &str = "updatedAt";
pub const RETIRED_AT: &str = "retiredAt";
/// When a purge of the tenant began (its mark, while it runs).
pub const PURGE_STARTED_AT: &str = "purgeStartedAt";
/// When a tenant was purged (its tombstone, its name's mark).
pub const PURGED_AT: &str = "purgedAt";
/// The subtenant a code guard holds its code for.
pub const SUBTENANT_ID: &str = "subtenantId";
pub const CODE: &str = "code";
/// The domain a domain claim claims.
pub const DOMAIN: &str = "domain";
/// The login domains an identity provider lists.
pub const DOMAINS: &str = "domains";
pub const IDENTITY_PROVIDER_ID: &str = "identityProviderId";
/// A group mapping's target.
pub const TO: &str = "to";
// A clone job's progress.
pub const STARTED_AT: &str = "startedAt";
pub const FINISHED_AT: &str = "finishedAt";
pub const ERROR: &str = "error";
pub const SOURCE_VERSION: &str = "sourceVersion";
// An idempotency record: the request's fingerprint, the answer's status and body.
pub const FINGERPRINT: &str = "fingerprint";
pub const BODY: &str = "body";
// A change event in the feed: its type, subject and CloudEvent.
pub const TYPE: &str = "type";
pub const SUBJECT: &str = "subject";
pub const EVENT: &str = "event";
/// When a feed item's `path` held.
pub const PATH_AT: &str = "pathAt";

#[cfg(test)]
mod tests {
    use super::*;

    /// The names are the items' format: deployed tables hold items written
    /// with them, so a name is never changed here, only added.
    #[test]
    fn the_names_are_those_the_tables_hold() {
        let names = [
            (ENTITY_TYPE, "entityType"),
            (NAME_KEY, "nameKey"),
            (TENANT_ID, "tenantId"),
            (INCARNATION, "tenantCreatedAt"),
            (PROVIDER_INCARNATION, "providerCreatedAt"),
            (TARGET_CREATED_AT, "targetCreatedAt"),
            (CONTENT, "content"),
            (ID, "id"),
            (NAME, "name"),
            (VERSION, "version"),
            (STATUS, "status"),
            (PATH, "path"),
            (PARENT_ID, "parentId"),
            (PARENT_NAME, "parentName"),
            (RESELLER_ID, "resellerId"),
            (CHILD_COUNT, "childCount"),
            (SUBTENANT_COUNT, "subtenantCount"),
            (CREATED_AT, "createdAt"),
            (UPDATED_AT, "updatedAt"),
            (RETIRED_AT, "retiredAt"),
            (PURGE_STARTED_AT, "purgeStartedAt"),
            (PURGED_AT, "purgedAt"),
            (SUBTENANT_ID, "subtenantId"),
            (CODE, "code"),
            (DOMAIN, "domain"),
            (DOMAINS, "domains"),
            (IDENTITY_PROVIDER_ID, "identityProviderId"),
            (TO, "to"),
            (STARTED_AT, "startedAt"),
            (FINISHED_AT, "finishedAt"),
            (ERROR, "error"),
            (SOURCE_VERSION, "sourceVersion"),
            (FINGERPRINT, "fingerprint"),
            (BODY, "body"),
            (TYPE, "type"),
            (SUBJECT, "subject"),
            (EVENT, "event"),
            (PATH_AT, "pathAt"),
        ];
        for (constant, name) in names {
            assert_eq!(constant, name);
        }
        let distinct: std::collections::HashSet<&str> = names.iter().map(|(c, _)| *c).collect();
        assert_eq!(distinct.len(), names.len(), "two attributes share a name");
    }
}
