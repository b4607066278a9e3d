//! What kind of item an item is: [`EntityType`], the value of its
//! `entityType` attribute, and [`Record`], an item read back as the typed
//! value of its kind. A new kind of item is a new variant of both, so the
//! compiler lists every place that must handle it (the invariant checker,
//! the stream's decoding, …). The items' format is [`super::records`]'.

use super::attributes::{
    BODY, CONTENT, DOMAIN, ENTITY_TYPE, FINGERPRINT, IDENTITY_PROVIDER_ID, INCARNATION, PATH, PROVIDER_INCARNATION,
    PURGED_AT, STATUS, SUBTENANT_ID, TENANT_ID,
};
use super::records::{self, number_attr, string_attr, Item};
use super::table::TTL_ATTRIBUTE;
use crate::domain::audit::AuditEvent;
use crate::domain::deployment::{Deployment, Job};
use crate::domain::identity_provider::{GroupMapping, IdentityProvider};
use crate::domain::member::Member;
use crate::domain::subtenant::Subtenant;
use crate::domain::{Tenant, TenantId, Timestamp};
use crate::error::Error;

/// Declares [`EntityType`] from one list of kinds and their names: its
/// variants, [`EntityType::ALL`] and [`EntityType::as_str`] cannot disagree.
macro_rules! entity_types {
    ($($(#[$doc:meta])* $kind:ident = $name:literal,)*) => {
        /// Every kind of item the table holds, as its `entityType` names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EntityType {
            $($(#[$doc])* $kind,)*
        }

        impl EntityType {
            /// Every kind, in declaration order.
            pub const ALL: &'static [EntityType] = &[$(Self::$kind,)*];

            /// The `entityType` value items of this kind carry.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$kind => $name,)*
                }
            }
        }
    };
}

entity_types! {
    Tenant = "tenant",
    /// What stays of a purged tenant, under its id.
    Tombstone = "tombstone",
    /// The mark of a purged tenant under the name it held.
    PurgedName = "purgedName",
    /// The guard that holds a name key for one tenant.
    TenantName = "tenantName",
    Facet = "facet",
    Subtenant = "subtenant",
    /// The guard that holds a subtenant code within its tenant.
    SubtenantCode = "subtenantCode",
    IdentityProvider = "identityProvider",
    GroupMapping = "groupMapping",
    DomainClaim = "domainClaim",
    Member = "member",
    /// An audit event of a tenant's history.
    Event = "event",
    Deployment = "deployment",
    DeploymentContent = "deploymentContent",
    Job = "job",
    /// A unit of background work.
    Pending = "pending",
    /// The guard of a recorded change event.
    ChangeEventId = "changeEventId",
    /// A change event in the feed.
    ChangeEvent = "changeEvent",
    /// The mark of a day that has events in the feed.
    FeedDay = "feedDay",
    /// The mark of a gone tenant incarnation.
    TenantGone = "tenantGone",
    Idempotency = "idempotency",
}

impl EntityType {
    /// The kind an `entityType` value names, if any.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.as_str() == value)
    }

    /// The kind of `item`: [`DecodeError::Untyped`] without an `entityType`
    /// string (or with an empty one), [`DecodeError::Unknown`] for one no
    /// kind has.
    pub fn of(item: &Item) -> Result<Self, DecodeError> {
        let value = string_attr(item, ENTITY_TYPE)
            .filter(|value| !value.is_empty())
            .ok_or(DecodeError::Untyped)?;
        Self::parse(value).ok_or_else(|| DecodeError::Unknown(value.to_owned()))
    }
}

impl std::fmt::Display for EntityType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an item is no [`Record`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// No `entityType` string.
    #[error("item without entityType")]
    Untyped,
    /// An `entityType` no kind has.
    #[error("unknown entityType {0:?}")]
    Unknown(String),
    /// An item of a known kind whose attributes do not make its record.
    #[error("unreadable {0} item: {1}")]
    Unreadable(EntityType, #[source] Error),
}

impl DecodeError {
    /// As the store's error: an unreadable record's own (what its reader
    /// in `records` says), otherwise an internal one.
    pub fn into_error(self) -> Error {
        match self {
            Self::Unreadable(_, error) => error,
            other => Error::internal(other),
        }
    }
}

/// An item read back as what it is. Resources decode into their domain
/// types; guards and marks carry what their readers go by.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Tenant(Box<Tenant>),
    /// A purged tenant's tombstone: when it was purged, and its path (who
    /// may hear it is gone).
    Tombstone {
        purged_at: Option<String>,
        path: Vec<TenantId>,
    },
    /// The mark of a purged tenant under its name.
    PurgedName {
        tenant_id: TenantId,
        purged_at: Option<String>,
    },
    /// The guard of a name key.
    NameGuard {
        tenant_id: TenantId,
    },
    /// A facet of a tenant (the tenant whose partition it is in).
    Facet {
        tenant_id: Option<String>,
    },
    Subtenant(Box<Subtenant>),
    /// The guard of a subtenant code.
    SubtenantCode {
        subtenant_id: Option<String>,
    },
    IdentityProvider {
        provider: Box<IdentityProvider>,
        incarnation: Option<Timestamp>,
    },
    GroupMapping {
        mapping: Box<GroupMapping>,
        incarnation: Option<Timestamp>,
        provider_incarnation: Option<Timestamp>,
    },
    /// The claim of a login domain by one identity provider of one tenant.
    DomainClaim {
        domain: Option<String>,
        tenant_id: Option<String>,
        identity_provider_id: Option<String>,
        incarnation: Option<Timestamp>,
    },
    Member {
        member: Box<Member>,
        incarnation: Option<Timestamp>,
    },
    Event(Box<AuditEvent>),
    Deployment {
        deployment: Box<Deployment>,
        incarnation: Option<Timestamp>,
    },
    /// A deployment's bytes.
    DeploymentContent {
        tenant_id: Option<String>,
        bytes: Option<Vec<u8>>,
        incarnation: Option<Timestamp>,
    },
    Job(Box<Job>),
    /// Background work (its reader decodes what work it is).
    Pending,
    ChangeEventId,
    /// A change event in the feed (its reader, the feed, decodes it).
    ChangeEvent,
    FeedDay,
    TenantGone,
    /// A stored answer to a create: whether it is whole (fingerprint,
    /// status, answer and expiry).
    Idempotency {
        whole: bool,
    },
}

impl Record {
    /// `item` read as the record its `entityType` says it is.
    pub fn decode(item: &Item) -> Result<Self, DecodeError> {
        Self::from_item(item.clone())
    }

    /// [`Record::decode`], taking the item.
    pub fn from_item(item: Item) -> Result<Self, DecodeError> {
        let kind = EntityType::of(&item)?;
        let unreadable = |error: Error| DecodeError::Unreadable(kind, error);
        let text = |name: &str| string_attr(&item, name).map(str::to_owned);
        let time = |name: &str| string_attr(&item, name).and_then(Timestamp::parse);
        let tenant_id = || {
            string_attr(&item, TENANT_ID)
                .and_then(|id| TenantId::parse(id).ok())
                .ok_or_else(|| unreadable(Error::internal(format!("{kind} item without a tenant id"))))
        };
        Ok(match kind {
            EntityType::Tenant => Self::Tenant(Box::new(records::tenant_from_item(item).map_err(unreadable)?)),
            EntityType::Tombstone => Self::Tombstone {
                purged_at: text(PURGED_AT),
                path: match item.get(PATH) {
                    Some(aws_sdk_dynamodb::types::AttributeValue::L(ids)) => ids
                        .iter()
                        .filter_map(|v| v.as_s().ok())
                        .filter_map(|id| TenantId::parse(id).ok())
                        .collect(),
                    _ => Vec::new(),
                },
            },
            EntityType::PurgedName => Self::PurgedName {
                tenant_id: tenant_id()?,
                purged_at: text(PURGED_AT),
            },
            EntityType::TenantName => Self::NameGuard {
                tenant_id: tenant_id()?,
            },
            EntityType::Facet => Self::Facet {
                tenant_id: text(TENANT_ID),
            },
            EntityType::Subtenant => Self::Subtenant(Box::new(records::subtenant_from_item(item).map_err(unreadable)?)),
            EntityType::SubtenantCode => Self::SubtenantCode {
                subtenant_id: text(SUBTENANT_ID),
            },
            EntityType::IdentityProvider => {
                let incarnation = time(INCARNATION);
                Self::IdentityProvider {
                    provider: Box::new(records::identity_provider_from_item(item).map_err(unreadable)?),
                    incarnation,
                }
            }
            EntityType::GroupMapping => {
                let (incarnation, provider_incarnation) = (time(INCARNATION), time(PROVIDER_INCARNATION));
                Self::GroupMapping {
                    mapping: Box::new(records::group_mapping_from_item(item).map_err(unreadable)?),
                    incarnation,
                    provider_incarnation,
                }
            }
            EntityType::DomainClaim => Self::DomainClaim {
                domain: text(DOMAIN),
                tenant_id: text(TENANT_ID),
                identity_provider_id: text(IDENTITY_PROVIDER_ID),
                incarnation: time(INCARNATION),
            },
            EntityType::Member => {
                let incarnation = time(INCARNATION);
                Self::Member {
                    member: Box::new(records::member_from_item(item).map_err(unreadable)?),
                    incarnation,
                }
            }
            EntityType::Event => Self::Event(Box::new(records::event_from_item(item).map_err(unreadable)?)),
            EntityType::Deployment => {
                let incarnation = time(INCARNATION);
                Self::Deployment {
                    deployment: Box::new(records::deployment_from_item(item).map_err(unreadable)?),
                    incarnation,
                }
            }
            EntityType::DeploymentContent => Self::DeploymentContent {
                tenant_id: text(TENANT_ID),
                bytes: item
                    .get(CONTENT)
                    .and_then(|v| v.as_b().ok())
                    .map(|b| b.as_ref().to_vec()),
                incarnation: time(INCARNATION),
            },
            EntityType::Job => Self::Job(Box::new(records::job_from_item(item).map_err(unreadable)?)),
            EntityType::Pending => Self::Pending,
            EntityType::ChangeEventId => Self::ChangeEventId,
            EntityType::ChangeEvent => Self::ChangeEvent,
            EntityType::FeedDay => Self::FeedDay,
            EntityType::TenantGone => Self::TenantGone,
            EntityType::Idempotency => Self::Idempotency {
                whole: [FINGERPRINT, BODY].iter().all(|a| string_attr(&item, a).is_some())
                    && number_attr(&item, STATUS).is_some()
                    && number_attr(&item, TTL_ATTRIBUTE).is_some(),
            },
        })
    }

    /// The kind of item this record is.
    pub fn entity_type(&self) -> EntityType {
        match self {
            Self::Tenant(_) => EntityType::Tenant,
            Self::Tombstone { .. } => EntityType::Tombstone,
            Self::PurgedName { .. } => EntityType::PurgedName,
            Self::NameGuard { .. } => EntityType::TenantName,
            Self::Facet { .. } => EntityType::Facet,
            Self::Subtenant(_) => EntityType::Subtenant,
            Self::SubtenantCode { .. } => EntityType::SubtenantCode,
            Self::IdentityProvider { .. } => EntityType::IdentityProvider,
            Self::GroupMapping { .. } => EntityType::GroupMapping,
            Self::DomainClaim { .. } => EntityType::DomainClaim,
            Self::Member { .. } => EntityType::Member,
            Self::Event(_) => EntityType::Event,
            Self::Deployment { .. } => EntityType::Deployment,
            Self::DeploymentContent { .. } => EntityType::DeploymentContent,
            Self::Job(_) => EntityType::Job,
            Self::Pending => EntityType::Pending,
            Self::ChangeEventId => EntityType::ChangeEventId,
            Self::ChangeEvent => EntityType::ChangeEvent,
            Self::FeedDay => EntityType::FeedDay,
            Self::TenantGone => EntityType::TenantGone,
            Self::Idempotency { .. } => EntityType::Idempotency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deployment::{Configuration, JobKind};
    use crate::domain::identity_provider::{IdpId, IdpKind};
    use crate::domain::subtenant::SubtenantInput;
    use crate::domain::tenant::{InputMode, Stamp};
    use crate::domain::{DomainName, SubtenantCode, TenantInput, TenantName, UserId};
    use crate::store::keys;

    #[test]
    fn every_entity_type_round_trips_through_its_name() {
        let mut names = std::collections::HashSet::new();
        for &kind in EntityType::ALL {
            assert_eq!(EntityType::parse(kind.as_str()), Some(kind));
            assert!(names.insert(kind.as_str()), "{kind} named twice");
        }
        assert_eq!(EntityType::parse("Tenant"), None);
        assert_eq!(EntityType::parse(""), None);
    }

    #[test]
    fn an_item_without_a_known_entity_type_is_no_record() {
        let mut item = records::key_item(&keys::tenant(&TenantId::parse("acme").unwrap()));
        assert!(matches!(Record::decode(&item), Err(DecodeError::Untyped)));
        item.insert(ENTITY_TYPE.into(), records::number_value(1));
        assert!(matches!(Record::decode(&item), Err(DecodeError::Untyped)));
        item.insert(ENTITY_TYPE.into(), records::string_value(""));
        assert!(matches!(Record::decode(&item), Err(DecodeError::Untyped)));
        item.insert(ENTITY_TYPE.into(), records::string_value("gadget"));
        assert!(matches!(Record::decode(&item), Err(DecodeError::Unknown(kind)) if kind == "gadget"));
        item.insert(ENTITY_TYPE.into(), records::string_value("tenant"));
        let Err(DecodeError::Unreadable(EntityType::Tenant, _)) = Record::decode(&item) else {
            panic!("a tenant item without a tenant's fields is unreadable");
        };
    }

    /// Each builder of `records` makes an item that decodes into the record
    /// of its kind, with what was built into it; every kind is built.
    #[test]
    fn each_record_kind_decodes_from_the_item_its_builder_makes() {
        let at = Timestamp::parse("2026-11-30T10:00:00Z").unwrap();
        let incarnation = Timestamp::parse("2026-11-01T08:00:00Z").unwrap();
        let later = Timestamp::parse("2026-12-30T10:00:00Z").unwrap();
        let change = Stamp {
            actor: "alice".into(),
            at,
        };
        let body = serde_json::json!({"tenantId": "acme", "name": "Acme", "tags": ["gold"]});
        let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
        let tenant = Tenant::create(input, TenantId::parse("acme").unwrap(), &change);
        let retired = tenant.retired(None, &change).unwrap();
        let code = SubtenantCode::parse("sales").unwrap();
        let subtenant_input = SubtenantInput {
            name: TenantName::parse("Sales").unwrap(),
            code: None,
            description: None,
            reseller_id: None,
        };
        let subtenant = Subtenant::create(tenant.id.clone(), subtenant_input, code.clone(), &change);
        let provider = IdentityProvider {
            id: IdpId::parse("okta").unwrap(),
            tenant_id: tenant.id.clone(),
            kind: IdpKind::Oidc,
            issuer: Some("https://acme.okta.com".into()),
            client_id: Some("client".into()),
            scopes: Vec::new(),
            metadata_url: None,
            metadata_xml: None,
            entity_id: None,
            enabled: true,
            domains: vec![DomainName::parse("acme.com").unwrap()],
            created_at: at,
            created_by: "alice".into(),
            updated_at: at,
            updated_by: "alice".into(),
            version: 1,
        };
        let mapping = GroupMapping {
            tenant_id: tenant.id.clone(),
            identity_provider_id: provider.id.clone(),
            from: "engineers".into(),
            to: "group:engineering".into(),
            updated_at: at,
            updated_by: "alice".into(),
        };
        let member = Member {
            tenant_id: tenant.id.clone(),
            user_id: UserId::parse("bob").unwrap(),
            role: crate::auth::TenantRole::Viewer,
            added_at: at,
            added_by: "alice".into(),
        };
        let event = AuditEvent::of(None, &tenant);
        let configuration = Configuration::json(br#"{"a": 1}"#.to_vec()).unwrap();
        let deployment = Deployment::of(&tenant.id, 1, &configuration, at, "alice", None);
        let job = Job::queued(
            JobKind::CloneTest,
            (&tenant.id, incarnation),
            &TenantId::parse("acme-test").unwrap(),
            at,
            "alice",
        );
        let domain = DomainName::parse("acme.com").unwrap();
        let decode = |item: Item| Record::from_item(item).unwrap();

        let mut seen = std::collections::BTreeSet::new();
        let mut check = |item: Item, expected: Record| {
            assert_eq!(EntityType::of(&item).unwrap(), expected.entity_type());
            seen.insert(expected.entity_type());
            assert_eq!(decode(item), expected);
        };
        check(
            records::tenant_item(&tenant, 4).unwrap(),
            Record::Tenant(Box::new(tenant.clone())),
        );
        check(
            records::tombstone_item(&retired, at, later),
            Record::Tombstone {
                purged_at: Some(at.to_string()),
                path: vec![tenant.id.clone()],
            },
        );
        check(
            records::purged_name_item(&retired, at, later),
            Record::PurgedName {
                tenant_id: tenant.id.clone(),
                purged_at: Some(at.to_string()),
            },
        );
        check(
            records::name_guard_item(&tenant.name.key(), &tenant.id),
            Record::NameGuard {
                tenant_id: tenant.id.clone(),
            },
        );
        for (_, facet) in records::facet_items(&tenant, 4) {
            check(
                facet,
                Record::Facet {
                    tenant_id: Some("acme".into()),
                },
            );
        }
        check(
            records::subtenant_item(&subtenant).unwrap(),
            Record::Subtenant(Box::new(subtenant.clone())),
        );
        check(
            records::subtenant_code_item(&tenant.id, &code, &subtenant.id),
            Record::SubtenantCode {
                subtenant_id: Some(subtenant.id.clone()),
            },
        );
        check(
            records::identity_provider_item(&provider, incarnation).unwrap(),
            Record::IdentityProvider {
                provider: Box::new(provider.clone()),
                incarnation: Some(incarnation),
            },
        );
        check(
            records::group_mapping_item(&mapping, incarnation, &provider).unwrap(),
            Record::GroupMapping {
                mapping: Box::new(mapping.clone()),
                incarnation: Some(incarnation),
                provider_incarnation: Some(provider.created_at),
            },
        );
        check(
            records::domain_claim_item(&domain, &provider, incarnation),
            Record::DomainClaim {
                domain: Some("acme.com".into()),
                tenant_id: Some("acme".into()),
                identity_provider_id: Some("okta".into()),
                incarnation: Some(incarnation),
            },
        );
        check(
            records::member_item(&member, incarnation).unwrap(),
            Record::Member {
                member: Box::new(member.clone()),
                incarnation: Some(incarnation),
            },
        );
        check(
            records::event_item(&event, incarnation).unwrap(),
            Record::Event(Box::new(event.clone())),
        );
        check(
            records::deployment_item(&deployment, incarnation).unwrap(),
            Record::Deployment {
                deployment: Box::new(deployment.clone()),
                incarnation: Some(incarnation),
            },
        );
        check(
            records::deployment_content_item(&deployment, b"{\"a\": 1}", incarnation),
            Record::DeploymentContent {
                tenant_id: Some("acme".into()),
                bytes: Some(b"{\"a\": 1}".to_vec()),
                incarnation: Some(incarnation),
            },
        );
        check(records::job_item(&job).unwrap(), Record::Job(Box::new(job.clone())));
        check(
            records::pending_item("w1", at, &serde_json::json!({"kind": "work"})).unwrap(),
            Record::Pending,
        );
        check(records::change_event_guard_item("e1", later), Record::ChangeEventId);
        check(
            records::feed_event_item(
                &keys::feed_event(at, "e1"),
                "tenant.updated",
                &tenant.id,
                std::slice::from_ref(&tenant.id),
                &serde_json::json!({}),
                later,
            ),
            Record::ChangeEvent,
        );
        check(records::feed_day_item("2026-11-30", later), Record::FeedDay);
        check(
            records::tenant_gone_item(&tenant.id, incarnation, later),
            Record::TenantGone,
        );
        let key = keys::tenant(&tenant.id);
        check(
            records::idempotency_item(&key, "fingerprint", 201, "{}", later),
            Record::Idempotency { whole: true },
        );
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), EntityType::ALL.to_vec());
    }
}
