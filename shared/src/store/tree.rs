//! The hierarchy's fan-out reads and writes: subtrees by id path, children,
//! and the per-descendant updates a move or a rename leaves to do. Each
//! update is conditional on what was read, so a repeated or concurrent run
//! changes nothing twice.

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

use super::attributes::{PARENT_ID, PARENT_NAME, VERSION};
use super::keys::{self, ListBucket};
use super::records::{key_item, number_value, string_value, tenant_from_item, Item};
use super::sdk::{classify, is_condition_failed};
use super::table::{GSI3, GSI5};
use super::Store;
use crate::domain::{Tenant, TenantId};
use crate::error::Result;

/// One page of tenants and the key to continue after, if any.
pub type TenantPage = (Vec<Tenant>, Option<Item>);

impl Store {
    /// Tenants whose id path starts with `path/` in the tree of `root`: the
    /// descendants of the tenant at `path`, shallow paths first within a branch.
    pub async fn descendants_page(&self, root: &TenantId, path: &str, start: Option<Item>) -> Result<TenantPage> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI5.name)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", GSI5.pk)
            .expression_attribute_names("#sk", GSI5.sk)
            .expression_attribute_values(":pk", string_value(keys::tree(root)))
            .expression_attribute_values(":prefix", string_value(format!("{path}/")))
            .set_exclusive_start_key(start);
        tenant_page(request).await
    }

    /// Every descendant of `tenant` (paged internally).
    pub async fn descendants(&self, tenant: &Tenant) -> Result<Vec<Tenant>> {
        let root = tenant.path.first().unwrap_or(&tenant.id);
        let path = tenant.path_string();
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let (page, next) = self.descendants_page(root, &path, start).await?;
            all.extend(page);
            match next {
                Some(key) => start = Some(key),
                None => return Ok(all),
            }
        }
    }

    /// The direct children of `parent` in one bucket, a page at a time.
    pub async fn children_page(
        &self,
        parent: &TenantId,
        bucket: ListBucket,
        start: Option<Item>,
    ) -> Result<TenantPage> {
        let request = self
            .query_partition(Some(&GSI3), keys::children(parent, bucket))
            .set_exclusive_start_key(start);
        tenant_page(request).await
    }

    /// Sets a child's `parentName` if it is still a child of `parent`.
    pub async fn rename_parent_of(&self, child: &Tenant, parent: &Tenant) -> Result<bool> {
        let request = self
            .bump_tenant(&child.id)
            .update_expression("SET #parentName = :name ADD #version :one")
            .condition_expression("#parentId = :parent")
            .expression_attribute_names("#parentName", PARENT_NAME)
            .expression_attribute_names("#parentId", PARENT_ID)
            .expression_attribute_values(":name", string_value(parent.name.as_str()))
            .expression_attribute_values(":parent", string_value(parent.id.as_str()));
        conditional(request).await
    }

    /// An `UpdateItem` of a tenant that also adds 1 to its version (`#version`,
    /// `:one`), so that writers holding what it was retry.
    fn bump_tenant(&self, id: &TenantId) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::tenant(id))))
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":one", number_value(1))
    }
}

/// Runs a `Query` of tenant items and reads its page.
async fn tenant_page(request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder) -> Result<TenantPage> {
    let output = request.send().await.map_err(classify)?;
    let tenants = output
        .items
        .unwrap_or_default()
        .into_iter()
        .map(tenant_from_item)
        .collect::<Result<_>>()?;
    Ok((tenants, output.last_evaluated_key))
}

/// Runs a conditional update: `false` when its condition did not hold.
async fn conditional(request: UpdateItemFluentBuilder) -> Result<bool> {
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failed(&e) => Ok(false),
        Err(e) => Err(classify(e)),
    }
}
