//! Deployments (metadata and bytes, two items under the tenant) and clone
//! jobs (one item each, in a partition of its own), with the conditional
//! writes that move a job through its states exactly once.

use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};

use super::attributes::{CONTENT, ERROR, FINISHED_AT, ID, INCARNATION, SOURCE_VERSION, STARTED_AT, STATUS, UPDATED_AT};
use super::keys;
use super::records::{self, key_item, number_value, string_attr, string_value, Item};
use super::sdk::{applied, classify, is_condition_failed};
use super::table::{GSI1, PK, SK, TTL_ATTRIBUTE};
use super::Store;
use crate::domain::deployment::{Configuration, Deployment, Job, JobStatus};
use crate::domain::{Tenant, Timestamp};
use crate::error::{Error, Result};

/// How long a finished job stays readable.
pub const FINISHED_JOB_DAYS: i64 = 30;

/// Whether an item belongs to this incarnation of the tenant (items of an
/// earlier tenant with the same id may wait for their deletion).
fn belongs(item: &Item, tenant: &Tenant) -> bool {
    string_attr(item, INCARNATION) == Some(tenant.created_at.to_string().as_str())
}

impl Store {
    /// One deployment's metadata (one `GetItem`).
    pub async fn get_deployment(&self, tenant: &Tenant, version: u64) -> Result<Option<Deployment>> {
        match self.get_consistent(&keys::deployment(&tenant.id, version)).await? {
            Some(item) if belongs(&item, tenant) => records::deployment_from_item(item).map(Some),
            _ => Ok(None),
        }
    }

    /// One deployment's bytes (one `GetItem`).
    pub async fn get_deployment_content(&self, tenant: &Tenant, version: u64) -> Result<Option<Vec<u8>>> {
        match self
            .get_consistent(&keys::deployment_content(&tenant.id, version))
            .await?
        {
            Some(mut item) if belongs(&item, tenant) => match item.remove(CONTENT) {
                Some(aws_sdk_dynamodb::types::AttributeValue::B(blob)) => Ok(Some(blob.into_inner())),
                _ => Err(Error::internal("a deployment content item without content")),
            },
            _ => Ok(None),
        }
    }

    /// A page of deployments, newest first, older than `before` if given:
    /// one `Query` (metadata only). The next page starts below the last version.
    pub async fn list_deployments(
        &self,
        tenant: &Tenant,
        limit: usize,
        before: Option<u64>,
    ) -> Result<(Vec<Deployment>, Option<u64>)> {
        let high = match before {
            Some(0) => return Ok((Vec::new(), None)),
            Some(v) => keys::deployment(&tenant.id, v - 1).sk,
            None => keys::deployment(&tenant.id, u64::MAX / 10).sk,
        };
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :low AND :high")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", string_value(keys::tenant(&tenant.id).pk))
            .expression_attribute_values(":low", string_value(keys::deployment(&tenant.id, 0).sk))
            .expression_attribute_values(":high", string_value(high))
            .scan_index_forward(false)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(classify)?;
        let mut found: Vec<Deployment> = output
            .items
            .unwrap_or_default()
            .into_iter()
            .filter(|item| belongs(item, tenant))
            .map(records::deployment_from_item)
            .collect::<Result<_>>()?;
        let more = found.len() > limit;
        found.truncate(limit);
        let next = found.last().filter(|_| more).map(|d| d.version);
        Ok((found, next))
    }

    /// The two new items of a deployment (metadata and bytes), each written
    /// only if its key is free, or held by an earlier tenant with the same id
    /// whose deletion has not reached it yet: a version is never written twice.
    pub fn deployment_actions(
        &self,
        deployment: &Deployment,
        configuration: &Configuration,
        incarnation: Timestamp,
    ) -> Result<Vec<TransactWriteItem>> {
        let content = records::deployment_content_item(deployment, &configuration.bytes, incarnation);
        Ok(vec![
            self.put_new_in(records::deployment_item(deployment, incarnation)?, incarnation)?,
            self.put_new_in(content, incarnation)?,
        ])
    }

    fn put_new_in(&self, item: Item, incarnation: Timestamp) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #incarnation <> :incarnation")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#incarnation", INCARNATION)
            .expression_attribute_values(":incarnation", string_value(incarnation.to_string()))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A job (one strongly consistent `GetItem`).
    pub async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        self.get_consistent(&keys::job(id))
            .await?
            .map(records::job_from_item)
            .transpose()
    }

    /// A new job, written with the change that queues it.
    pub fn job_action(&self, job: &Job) -> Result<TransactWriteItem> {
        self.put_new(records::job_item(job)?)
    }

    /// Moves a queued (or interrupted running) job to `running`. `None`:
    /// the job is finished already, or does not exist.
    pub async fn start_job(&self, id: &str, at: Timestamp) -> Result<Option<Job>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::job(id))))
            .update_expression("SET #status = :running, #updatedAt = :at, #startedAt = if_not_exists(#startedAt, :at)")
            .condition_expression("#status IN (:queued, :running)")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#updatedAt", UPDATED_AT)
            .expression_attribute_names("#startedAt", STARTED_AT)
            .expression_attribute_values(":running", string_value(JobStatus::Running.as_str()))
            .expression_attribute_values(":queued", string_value(JobStatus::Queued.as_str()))
            .expression_attribute_values(":at", string_value(at.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes.map(records::job_from_item).transpose(),
            Err(e) if is_condition_failed(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    /// Records why a running job is failing, before its new tenant is
    /// removed: a retry after a crash fails it for the same reason.
    pub async fn note_job_error(&self, id: &str, error: &str) -> Result<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::job(id))))
            .update_expression("SET #error = if_not_exists(#error, :error)")
            .condition_expression("#status = :running")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#error", ERROR)
            .expression_attribute_values(":running", string_value(JobStatus::Running.as_str()))
            .expression_attribute_values(":error", string_value(error))
            .send()
            .await;
        applied(result)
    }

    /// The action that ends a running job (`succeeded` or `failed`); it
    /// fails if the job is no longer running, so a job ends once.
    pub fn finish_job_action(
        &self,
        id: &str,
        status: JobStatus,
        source_version: Option<u64>,
        at: Timestamp,
    ) -> Result<TransactWriteItem> {
        // A job that a run has decided to fail (it noted the error) cannot succeed.
        let condition = match status {
            JobStatus::Succeeded => "#status = :running AND attribute_not_exists(#error)",
            _ => "#status = :running",
        };
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::job(id))))
            .condition_expression(condition)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#updatedAt", UPDATED_AT)
            .expression_attribute_names("#finishedAt", FINISHED_AT)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":running", string_value(JobStatus::Running.as_str()))
            .expression_attribute_values(":status", string_value(status.as_str()))
            .expression_attribute_values(":at", string_value(at.to_string()))
            .expression_attribute_values(
                ":expires",
                number_value(at.plus(time::Duration::days(FINISHED_JOB_DAYS)).unix_seconds()),
            );
        if status == JobStatus::Succeeded {
            update = update.expression_attribute_names("#error", ERROR);
        }
        update = update
            .expression_attribute_names("#activePk", GSI1.pk)
            .expression_attribute_names("#activeSk", GSI1.sk);
        let mut set = "SET #status = :status, #updatedAt = :at, #finishedAt = :at, #expires = :expires".to_owned();
        if let Some(version) = source_version {
            set.push_str(", #sourceVersion = :version");
            update = update
                .expression_attribute_names("#sourceVersion", SOURCE_VERSION)
                .expression_attribute_values(":version", number_value(version));
        }
        // A finished job leaves the list of unfinished ones.
        set.push_str(" REMOVE #activePk, #activeSk");
        let update = update.update_expression(set).build().map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Ends a running job on its own; `false`: it was not running.
    pub async fn finish_job(&self, id: &str, status: JobStatus, at: Timestamp) -> Result<bool> {
        match self
            .transact_actions(vec![self.finish_job_action(id, status, None, at)?])
            .await?
        {
            Ok(()) => Ok(true),
            Err(_) => Ok(false),
        }
    }

    /// Unfinished jobs created before `before`, oldest first, at most
    /// `limit` (one `Query` of GSI1's `JOBS#active` partition).
    pub async fn unfinished_jobs(&self, before: Timestamp, limit: usize) -> Result<Vec<String>> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1.name)
            .key_condition_expression("#pk = :pk AND #sk < :before")
            .expression_attribute_names("#pk", GSI1.pk)
            .expression_attribute_names("#sk", GSI1.sk)
            .expression_attribute_values(":pk", string_value(keys::ACTIVE_JOBS))
            .expression_attribute_values(":before", string_value(before.to_string()))
            .limit(limit as i32)
            .send()
            .await
            .map_err(classify)?;
        Ok(output
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| string_attr(item, ID).map(str::to_owned))
            .collect())
    }

    /// Deletes a job item (the purge of the tenant it made).
    pub async fn delete_job(&self, id: &str) -> Result<()> {
        self.batch_delete(vec![key_item(&keys::job(id))]).await
    }
}
