//! Configuration deployments and clone jobs (Socotra's): a tenant's
//! configuration is deployed in numbered versions, and can be cloned into a
//! new test or production tenant by an asynchronous job.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::input::Presence;
use super::input::{text, ObjectReader};
use super::tenant::{limits, Environment, Placement};
use super::zip::{self, Rejected, ZipFile};
use super::{TenantId, TenantName, Timestamp};
use crate::FieldError;

/// Largest configuration, in bytes, as uploaded (zip) or as sent (JSON).
pub const MAX_CONFIGURATION_BYTES: usize = 256 * 1024;

/// Most bytes a zip's entry names may add up to (they are stored in the
/// version's metadata item, which DynamoDB caps at 400 KB).
pub const MAX_LISTED_NAME_BYTES: usize = 64 * 1024;

/// How a configuration was uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Zip,
}

impl Format {
    /// The media type it is uploaded and downloaded as.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Zip => "application/zip",
        }
    }
}

/// What validation made of a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentResult {
    /// `valid`, or `validWithWarnings` when entries were rejected.
    pub status: String,
    /// A zip's files (none for JSON).
    pub files: Vec<ZipFile>,
    /// A zip's entries left out, with the reason (absolute paths, `..`, …).
    pub rejected: Vec<Rejected>,
    /// A JSON configuration's top-level keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

/// Why a configuration cannot be deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigurationError {
    /// Over [`MAX_CONFIGURATION_BYTES`] (the size is given).
    TooLarge(usize),
    /// Not a JSON object, or not a zip this API accepts (the reason is given).
    Invalid(String),
    /// A zip that declares it unpacks to too much, or at too high a ratio
    /// (each reason is given): see [`zip::MAX_UNCOMPRESSED_BYTES`], [`zip::MAX_RATIO`].
    ExpandsTooMuch(Vec<String>),
}

impl ConfigurationError {
    pub fn message(&self) -> String {
        match self {
            Self::TooLarge(size) => {
                format!("the configuration has {size} bytes; the limit is {MAX_CONFIGURATION_BYTES} bytes (256 KiB)")
            }
            Self::Invalid(reason) => reason.clone(),
            Self::ExpandsTooMuch(reasons) => reasons.join("; "),
        }
    }
}

/// A validated configuration, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    pub format: Format,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`: equal bytes, equal configuration.
    pub sha256: String,
    pub result: DeploymentResult,
}

impl Configuration {
    /// A JSON object, kept byte for byte as sent.
    pub fn json(bytes: Vec<u8>) -> Result<Self, ConfigurationError> {
        check_size(&bytes)?;
        let keys = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => map.keys().cloned().collect(),
            Ok(other) => {
                return Err(ConfigurationError::Invalid(format!(
                    "the configuration must be a JSON object, not {}",
                    super::input::kind_of(&other)
                )))
            }
            Err(e) => {
                return Err(ConfigurationError::Invalid(format!(
                    "the configuration is not valid JSON: {e}"
                )))
            }
        };
        let result = DeploymentResult {
            status: "valid".into(),
            files: Vec::new(),
            rejected: Vec::new(),
            keys: Some(keys),
        };
        Ok(Self::new(Format::Json, bytes, result))
    }

    /// The inline `configuration` of a create: an object, stored as compact JSON.
    pub fn from_object(object: &Map<String, Value>) -> Result<Self, ConfigurationError> {
        let bytes = serde_json::to_vec(object).map_err(|e| ConfigurationError::Invalid(e.to_string()))?;
        Self::json(bytes)
    }

    /// A zip archive, listed from its central directory.
    pub fn zip(bytes: Vec<u8>) -> Result<Self, ConfigurationError> {
        check_size(&bytes)?;
        let listing = zip::list(&bytes).map_err(ConfigurationError::Invalid)?;
        if !listing.expansion.is_empty() {
            return Err(ConfigurationError::ExpandsTooMuch(listing.expansion));
        }
        // The listing is stored with the version (one item, ≤ 400 KB).
        let names: usize = listing.files.iter().map(|f| f.path.len()).sum::<usize>()
            + listing.rejected.iter().map(|r| r.path.len()).sum::<usize>();
        if names > MAX_LISTED_NAME_BYTES {
            return Err(ConfigurationError::Invalid(format!(
                "the zip's entry names add up to {names} bytes; the limit is {MAX_LISTED_NAME_BYTES}"
            )));
        }
        if listing.files.is_empty() {
            return Err(ConfigurationError::Invalid(match listing.rejected.len() {
                0 => "the zip holds no files".into(),
                n => format!("the zip holds no usable file ({n} entries rejected)"),
            }));
        }
        let result = DeploymentResult {
            status: if listing.rejected.is_empty() {
                "valid"
            } else {
                "validWithWarnings"
            }
            .into(),
            files: listing.files,
            rejected: listing.rejected,
            keys: None,
        };
        Ok(Self::new(Format::Zip, bytes, result))
    }

    fn new(format: Format, bytes: Vec<u8>, result: DeploymentResult) -> Self {
        Self {
            format,
            sha256: sha256_hex(&bytes),
            bytes,
            result,
        }
    }
}

fn check_size(bytes: &[u8]) -> Result<(), ConfigurationError> {
    if bytes.len() > MAX_CONFIGURATION_BYTES {
        return Err(ConfigurationError::TooLarge(bytes.len()));
    }
    Ok(())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a cloned configuration came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClonedFrom {
    pub tenant_id: TenantId,
    pub version: u64,
}

/// One deployed version of a tenant's configuration (its bytes are stored
/// beside it and read only for a download).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub tenant_id: TenantId,
    pub version: u64,
    pub format: Format,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub result: DeploymentResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloned_from: Option<ClonedFrom>,
}

impl Deployment {
    pub fn of(
        tenant_id: &TenantId,
        version: u64,
        configuration: &Configuration,
        at: Timestamp,
        by: &str,
        cloned_from: Option<ClonedFrom>,
    ) -> Self {
        Self {
            tenant_id: tenant_id.clone(),
            version,
            format: configuration.format,
            content_type: configuration.format.content_type().into(),
            size: configuration.bytes.len() as u64,
            sha256: configuration.sha256.clone(),
            created_at: at,
            created_by: by.to_owned(),
            result: configuration.result.clone(),
            cloned_from,
        }
    }
}

/// What a clone makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobKind {
    CloneTest,
    CloneProduction,
}

impl JobKind {
    pub fn of(environment: Environment) -> Self {
        match environment {
            Environment::Test => Self::CloneTest,
            Environment::Production => Self::CloneProduction,
        }
    }
}

/// A job's state: `queued` → `running` → `succeeded` | `failed`, each step a
/// conditional write, so a job is done once however often it is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// An asynchronous clone of a tenant's configuration into a new tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub source_tenant_id: TenantId,
    pub target_tenant_id: TenantId,
    /// The `createdAt` of the source and the new tenant: ids can be taken
    /// again, and a job only ever works on the tenants it was queued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_created_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_created_at: Option<Timestamp>,
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The source's configuration version that was copied (none: it had none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<u64>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
}

impl Job {
    /// A job cloning `source` (created at `source_created_at`) into `target`,
    /// a new tenant created now.
    pub fn queued(
        kind: JobKind,
        (source, source_created_at): (&TenantId, Timestamp),
        target: &TenantId,
        at: Timestamp,
        by: &str,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            kind,
            source_tenant_id: source.clone(),
            target_tenant_id: target.clone(),
            source_created_at: Some(source_created_at),
            target_created_at: Some(at),
            status: JobStatus::Queued,
            error: None,
            source_version: None,
            created_at: at,
            created_by: by.to_owned(),
            updated_at: at,
            started_at: None,
            finished_at: None,
        }
    }
}

/// A job id as a path segment: what [`Job::queued`] makes (a UUID).
pub fn parse_job_id(s: &str) -> Result<String, String> {
    uuid::Uuid::parse_str(s)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| "must be a job id (a UUID)".into())
}

/// The body of `POST /v1/tenants/{id}/clone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneInput {
    /// The new tenant's id, if the client chooses it (as on create).
    pub tenant_id: Option<TenantId>,
    pub environment: Environment,
    pub name: TenantName,
    pub description: Option<String>,
    /// Where the clone goes: `Keep` (no `parentId`) is beside its source,
    /// under the source's parent; `null` is the top level.
    pub placement: Placement,
}

impl CloneInput {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut r = ObjectReader::new(body, "");
        let environment = r.required("environment", |v| match v.as_str() {
            Some("test") => Ok(Environment::Test),
            Some("production") => Ok(Environment::Production),
            _ => super::input::reject("must be one of: test, production"),
        });
        let name = r.required("name", |v| {
            super::input::as_str(v).and_then(|s| TenantName::parse(s).or_else(super::input::reject))
        });
        let description = r.optional("description", |v| text(v, 0, limits::DESCRIPTION, true));
        let tenant_id = r.optional("tenantId", |v| {
            super::input::as_str(v).and_then(|s| TenantId::parse(s).or_else(super::input::reject))
        });
        let placement = match r.nullable("parentId", |v| {
            super::input::as_str(v).and_then(|s| TenantId::parse(s).or_else(super::input::reject))
        }) {
            Presence::Absent => Placement::Keep,
            Presence::Null => Placement::TopLevel,
            Presence::Value(parent) => Placement::Under(parent),
        };
        let errors = r.finish();
        match (environment, name) {
            (Some(environment), Some(name)) if errors.is_empty() => Ok(Self {
                tenant_id,
                environment,
                name,
                description,
                placement,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_json_configuration_is_an_object_within_the_limit() {
        let c = Configuration::json(br#"{"b": 1, "a": {"x": true}}"#.to_vec()).unwrap();
        assert_eq!(c.result.keys, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(c.sha256.len(), 64);
        assert!(
            matches!(Configuration::json(b"[1]".to_vec()), Err(ConfigurationError::Invalid(m)) if m.contains("an array"))
        );
        assert!(matches!(
            Configuration::json(b"{".to_vec()),
            Err(ConfigurationError::Invalid(_))
        ));
        let big = format!(r#"{{"k": "{}"}}"#, "x".repeat(MAX_CONFIGURATION_BYTES));
        let err = Configuration::json(big.into_bytes()).unwrap_err();
        assert!(matches!(err, ConfigurationError::TooLarge(_)));
        assert!(err.message().contains("262144 bytes (256 KiB)"));
    }

    #[test]
    fn equal_bytes_hash_equal() {
        let a = Configuration::json(b"{\"a\":1}".to_vec()).unwrap();
        let b = Configuration::from_object(json!({"a": 1}).as_object().unwrap()).unwrap();
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(
            a.sha256,
            "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
        );
    }

    #[test]
    fn a_clone_body_lists_every_error() {
        let errors = CloneInput::parse(json!({"environment": "staging", "extra": 1}).as_object().unwrap()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["environment", "name", "extra"]);
        let ok = CloneInput::parse(
            json!({"environment": "test", "name": "Copy", "description": "d"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!((ok.environment, ok.name.as_str()), (Environment::Test, "Copy"));
    }

    #[test]
    fn job_ids_are_uuids() {
        let job = Job::queued(
            JobKind::CloneTest,
            (&TenantId::parse("a1").unwrap(), Timestamp::now()),
            &TenantId::parse("b1").unwrap(),
            Timestamp::now(),
            "u",
        );
        assert_eq!(parse_job_id(&job.id).unwrap(), job.id);
        assert!(parse_job_id("job-1").is_err());
        assert_eq!(serde_json::to_value(job.kind).unwrap(), "cloneTest");
    }
}
