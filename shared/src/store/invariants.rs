//! The table's invariants, checked over a whole scan: what every write keeps
//! true, so a fault test (or an operator after an incident) can prove that
//! nothing was left half-done.
//!
//! - every tenant has its name guard, and every guard its tenant;
//! - a tenant's index keys and facet items are exactly those the store
//!   writes for it (no stale list entry, no missing facet);
//! - a tenant's parent exists, its path is its parent's path plus itself,
//!   no chain of parents loops, and `childCount` counts its children;
//! - whatever lives under a tenant (subtenants, members, identity providers,
//!   group mappings, deployments, history) has a live tenant of the same
//!   incarnation, and so has a login domain's claim;
//! - every subtenant holds its code guard, and every code guard a subtenant;
//! - idempotency records are whole (fingerprint, status, answer, expiry).
//!
//! A scan, never on a request path: `make check-table` and the tests.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::records::{self, string_attr, Item, ENTITY_TYPE, INCARNATION, NAME_KEY, TENANT_ID};
use super::table::{INDEXES, PK, SK, TTL_ATTRIBUTE};
use super::{keys, Store};
use crate::domain::{SubtenantCode, Tenant, TenantId};
use crate::error::Result;
use crate::store::sdk::classify;

/// One broken invariant: the item it was found on, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// `PK / SK` of the item.
    pub item: String,
    pub problem: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.item, self.problem)
    }
}

impl Store {
    /// Every item of the table, by a paged, strongly consistent `Scan`.
    pub async fn scan_all(&self) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }

    /// Scans the table and lists every broken invariant (none: all is well).
    pub async fn check_invariants(&self) -> Result<Vec<Violation>> {
        Ok(check(&self.scan_all().await?, self.list_shards))
    }
}

fn id_of(item: &Item) -> String {
    format!(
        "{} / {}",
        string_attr(item, PK).unwrap_or("?"),
        string_attr(item, SK).unwrap_or("?")
    )
}

/// Collects violations, one per (item, problem).
#[derive(Default)]
struct Report(BTreeSet<Violation>);

impl Report {
    fn add(&mut self, item: &Item, problem: impl Into<String>) {
        self.0.insert(Violation {
            item: id_of(item),
            problem: problem.into(),
        });
    }
}

/// The invariants over `items` (a whole table), for a table of `list_shards`.
pub fn check(items: &[Item], list_shards: u16) -> Vec<Violation> {
    let mut report = Report::default();
    let by_key: HashMap<(&str, &str), &Item> = items
        .iter()
        .filter_map(|i| Some(((string_attr(i, PK)?, string_attr(i, SK)?), i)))
        .collect();
    let mut tenants: HashMap<String, Tenant> = HashMap::new();
    for item in items.iter().filter(|i| string_attr(i, ENTITY_TYPE) == Some("tenant")) {
        match records::tenant_from_item(item.clone()) {
            Ok(tenant) => {
                tenants.insert(tenant.id.as_str().to_owned(), tenant);
            }
            Err(e) => report.add(item, format!("tenant item does not decode: {e}")),
        }
    }
    for item in items {
        let kind = string_attr(item, ENTITY_TYPE).unwrap_or("");
        match kind {
            "tenant" => {
                if let Some(tenant) = string_attr(item, "id").and_then(|id| tenants.get(id)) {
                    check_tenant(&mut report, item, tenant, &tenants, &by_key, list_shards);
                }
            }
            "tenantName" => check_name_guard(&mut report, item, &tenants),
            "facet" if tenant_under(item, &tenants).is_none() => {
                report.add(item, "facet of a tenant that does not exist");
            }
            "subtenantCode" => check_code_guard(&mut report, item, &by_key),
            "domainClaim" => check_domain_claim(&mut report, item, &tenants, &by_key),
            "idempotency" => {
                let whole = ["fingerprint", "body"].iter().all(|a| string_attr(item, a).is_some())
                    && records::number_attr(item, "status").is_some()
                    && records::number_attr(item, TTL_ATTRIBUTE).is_some();
                if !whole {
                    report.add(item, "idempotency record without fingerprint, status, answer or expiry");
                }
            }
            "tombstone" | "job" | "pending" => {}
            "" => report.add(item, "item without entityType"),
            _ => {}
        }
        if matches!(
            kind,
            "subtenant" | "member" | "identityProvider" | "groupMapping" | "deployment" | "deploymentContent" | "event"
        ) {
            check_owned(&mut report, item, kind, &tenants, &by_key);
        }
    }
    report.0.into_iter().collect()
}

/// The tenant whose partition `item` is in, if it is a live tenant.
fn tenant_under<'a>(item: &Item, tenants: &'a HashMap<String, Tenant>) -> Option<&'a Tenant> {
    string_attr(item, PK)
        .and_then(keys::tenant_id_of)
        .and_then(|id| tenants.get(id))
}

fn check_tenant(
    report: &mut Report,
    item: &Item,
    tenant: &Tenant,
    tenants: &HashMap<String, Tenant>,
    by_key: &HashMap<(&str, &str), &Item>,
    list_shards: u16,
) {
    // Index keys: exactly what the store writes for this value.
    if let Ok(expected) = records::tenant_item(tenant, list_shards) {
        for index in INDEXES {
            for attribute in [index.pk, index.sk] {
                if string_attr(item, attribute) != string_attr(&expected, attribute) {
                    report.add(
                        item,
                        format!(
                            "{attribute} is {:?}, the store writes {:?}",
                            string_attr(item, attribute),
                            string_attr(&expected, attribute)
                        ),
                    );
                }
            }
        }
        if string_attr(item, NAME_KEY) != string_attr(&expected, NAME_KEY) {
            report.add(item, "nameKey does not match the name");
        }
    }
    // Name guard.
    let guard = keys::tenant_name(&tenant.name.key());
    match by_key.get(&(guard.pk.as_str(), guard.sk.as_str())) {
        Some(g) if string_attr(g, TENANT_ID) == Some(tenant.id.as_str()) => {}
        Some(_) => report.add(item, "its name guard holds the name for another tenant"),
        None => report.add(item, "no name guard holds its name"),
    }
    // Facets: the set the store writes, no more and no less.
    let expected: HashMap<String, Item> = records::facet_items(tenant)
        .into_iter()
        .map(|(key, facet)| (key.sk, facet))
        .collect();
    let pk = keys::tenant(&tenant.id).pk;
    for (sk, facet) in &expected {
        match by_key.get(&(pk.as_str(), sk.as_str())) {
            None => report.add(item, format!("facet {sk} is missing")),
            Some(stored) => {
                let index = |i: &Item| {
                    (
                        string_attr(i, "GSI6PK").map(str::to_owned),
                        string_attr(i, "GSI6SK").map(str::to_owned),
                    )
                };
                if index(stored) != index(facet) {
                    report.add(stored, "facet is listed under a stale value or name");
                }
            }
        }
    }
    for ((stored_pk, sk), stored) in by_key.iter() {
        if *stored_pk == pk && sk.starts_with(keys::FACET_SK_PREFIX) && !expected.contains_key(*sk) {
            report.add(stored, "facet the tenant no longer has");
        }
    }
    // Hierarchy: parent, path, cycles, child count.
    let mut expected_path = Vec::new();
    if let Some(parent_id) = &tenant.parent_id {
        match tenants.get(parent_id.as_str()) {
            Some(parent) => expected_path.extend(parent.path.iter().cloned()),
            None => report.add(item, format!("its parent {parent_id} does not exist")),
        }
    }
    expected_path.push(tenant.id.clone());
    if tenant
        .parent_id
        .as_ref()
        .is_none_or(|p| tenants.contains_key(p.as_str()))
        && tenant.path != expected_path
    {
        report.add(
            item,
            format!("path {} disagrees with its parent's", tenant.path_string()),
        );
    }
    if in_a_cycle(&tenant.id, tenants) {
        report.add(item, "its chain of parents loops");
    }
    let children = tenants
        .values()
        .filter(|t| t.parent_id.as_ref() == Some(&tenant.id))
        .count();
    if children != tenant.child_count as usize {
        report.add(
            item,
            format!("childCount is {}, it has {children} children", tenant.child_count),
        );
    }
}

fn in_a_cycle(start: &TenantId, tenants: &HashMap<String, Tenant>) -> bool {
    let mut seen = HashSet::new();
    let mut at = tenants.get(start.as_str());
    while let Some(tenant) = at {
        if !seen.insert(tenant.id.as_str()) {
            return true;
        }
        at = tenant.parent_id.as_ref().and_then(|p| tenants.get(p.as_str()));
    }
    false
}

fn check_name_guard(report: &mut Report, item: &Item, tenants: &HashMap<String, Tenant>) {
    let Some(tenant) = string_attr(item, TENANT_ID).and_then(|id| tenants.get(id)) else {
        report.add(item, "name guard of a tenant that does not exist");
        return;
    };
    if keys::tenant_name(&tenant.name.key()).pk != string_attr(item, PK).unwrap_or("") {
        report.add(
            item,
            format!("name guard of {} holds a name it no longer has", tenant.id),
        );
    }
}

/// Items owned by a tenant: a live tenant of the same incarnation.
fn check_owned(
    report: &mut Report,
    item: &Item,
    kind: &str,
    tenants: &HashMap<String, Tenant>,
    by_key: &HashMap<(&str, &str), &Item>,
) {
    let Some(tenant) = tenant_under(item, tenants) else {
        report.add(item, format!("{kind} of a tenant that does not exist"));
        return;
    };
    let incarnation = tenant.created_at.to_string();
    let recorded = match kind {
        "event" => string_attr(item, SK)
            .and_then(|sk| sk.strip_prefix(keys::EVENT_SK_PREFIX))
            .and_then(|rest| rest.rsplit_once('#'))
            .map(|(at, _)| at),
        _ => string_attr(item, INCARNATION),
    };
    if recorded.is_some_and(|at| at != incarnation) {
        report.add(item, format!("{kind} of an earlier tenant with the id {}", tenant.id));
    }
    if kind == "subtenant" {
        let guard = string_attr(item, "code")
            .and_then(|code| SubtenantCode::parse(code).ok())
            .map(|code| keys::subtenant_code(&tenant.id, &code));
        let held = guard.and_then(|key| by_key.get(&(key.pk.as_str(), key.sk.as_str())).copied());
        match held {
            Some(g) if string_attr(g, "subtenantId") == string_attr(item, "id") => {}
            Some(_) => report.add(item, "its code guard holds the code for another subtenant"),
            None => report.add(item, "no code guard holds its code"),
        }
    }
}

fn check_code_guard(report: &mut Report, item: &Item, by_key: &HashMap<(&str, &str), &Item>) {
    let tenant_id = string_attr(item, PK)
        .and_then(keys::tenant_id_of)
        .and_then(|id| TenantId::parse(id).ok());
    let id = string_attr(item, "subtenantId").unwrap_or("");
    let subtenant = tenant_id.map(|tenant_id| keys::subtenant(&tenant_id, id));
    match subtenant.and_then(|key| by_key.get(&(key.pk.as_str(), key.sk.as_str())).copied()) {
        Some(subtenant) => {
            let code = string_attr(subtenant, "code").unwrap_or("");
            let held = string_attr(item, SK).and_then(|sk| sk.split_once('#')).map(|(_, c)| c);
            if !held.is_some_and(|c| c.eq_ignore_ascii_case(code)) {
                report.add(item, "code guard of a subtenant that has another code");
            }
        }
        None => report.add(item, "code guard of a subtenant that does not exist"),
    }
}

fn check_domain_claim(
    report: &mut Report,
    item: &Item,
    tenants: &HashMap<String, Tenant>,
    by_key: &HashMap<(&str, &str), &Item>,
) {
    let tenant = string_attr(item, TENANT_ID).and_then(|id| tenants.get(id));
    let Some(tenant) = tenant else {
        report.add(item, "domain claim of a tenant that does not exist");
        return;
    };
    let idp = string_attr(item, "identityProviderId").unwrap_or("");
    let key = keys::identity_provider(&tenant.id, idp);
    match by_key.get(&(key.pk.as_str(), key.sk.as_str())) {
        None => report.add(item, "domain claim of an identity provider that does not exist"),
        Some(provider) => {
            let domain = string_attr(item, "domain").unwrap_or("");
            let claimed = provider
                .get("domains")
                .and_then(|d| d.as_l().ok())
                .is_some_and(|l| l.iter().any(|v| v.as_s().is_ok_and(|s| s == domain)));
            if !claimed {
                report.add(item, "domain claim its identity provider does not list");
            }
        }
    }
    if string_attr(item, INCARNATION).is_some_and(|at| at != tenant.created_at.to_string()) {
        report.add(item, "domain claim of an earlier tenant with the same id");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tenant::{Change, InputMode};
    use crate::domain::{TenantInput, Timestamp};
    use crate::store::records::s;

    fn tenant(id: &str, parent: Option<&Tenant>, tags: &[&str]) -> Tenant {
        let body = serde_json::json!({"tenantId": id, "name": format!("Name {id}"), "tags": tags});
        let input = TenantInput::parse(body.as_object().unwrap(), InputMode::Create).unwrap();
        let change = Change {
            actor: "test".into(),
            at: Timestamp::now(),
        };
        Tenant::create(input, TenantId::parse(id).unwrap(), &change).placed(parent)
    }

    /// What the store writes for `tenants`: items, guards, facets.
    fn table(tenants: &[&Tenant]) -> Vec<Item> {
        let mut items = Vec::new();
        for t in tenants {
            items.push(records::tenant_item(t, 1).unwrap());
            items.push(records::name_guard_item(&t.name.key(), &t.id));
            items.extend(records::facet_items(t).into_iter().map(|(_, item)| item));
        }
        items
    }

    fn problems(items: &[Item]) -> Vec<String> {
        check(items, 1).into_iter().map(|v| v.to_string()).collect()
    }

    fn family() -> (Tenant, Tenant) {
        let mut parent = tenant("parent", None, &["gold"]);
        parent.child_count = 1;
        let child = tenant("child", Some(&parent), &["silver"]);
        (parent, child)
    }

    #[test]
    fn what_the_store_writes_keeps_every_invariant() {
        let (parent, child) = family();
        assert_eq!(problems(&table(&[&parent, &child])), Vec::<String>::new());
    }

    #[test]
    fn a_missing_guard_a_stray_facet_and_a_stale_index_are_found() {
        let (parent, child) = family();
        let mut items = table(&[&parent, &child]);
        items.retain(|i| string_attr(i, PK) != Some("TENANTNAME#name child"));
        let mut stray = records::facet_items(&tenant("parent", None, &["gold", "extra"]))
            .pop()
            .unwrap()
            .1;
        stray.insert(SK.into(), s("FACET#tag#07"));
        items.push(stray);
        let parent_item = items
            .iter_mut()
            .find(|i| string_attr(i, PK) == Some("TENANT#parent"))
            .unwrap();
        parent_item.insert("GSI1PK".into(), s("TENANTS#inactive#0"));
        let found = problems(&items);
        assert!(
            found.iter().any(|p| p.contains("TENANT#child / TENANT: no name guard")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("FACET#tag#07: facet the tenant no longer has")),
            "{found:?}"
        );
        assert!(found.iter().any(|p| p.contains("GSI1PK is")), "{found:?}");
    }

    #[test]
    fn hierarchy_faults_are_found() {
        let (mut parent, child) = family();
        parent.child_count = 3;
        let mut moved = child.clone();
        moved.path = vec![TenantId::parse("elsewhere").unwrap(), child.id.clone()];
        let found = problems(&table(&[&parent, &moved]));
        assert!(
            found.iter().any(|p| p.contains("childCount is 3, it has 1 children")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains("disagrees with its parent's")),
            "{found:?}"
        );

        let mut a = tenant("alpha", None, &[]);
        let mut b = tenant("beta", Some(&a), &[]);
        a.parent_id = Some(b.id.clone());
        (a.child_count, b.child_count) = (1, 1);
        let found = problems(&table(&[&a, &b]));
        assert!(found.iter().any(|p| p.contains("loops")), "{found:?}");
    }

    #[test]
    fn items_of_a_missing_tenant_or_an_earlier_incarnation_are_found() {
        let (parent, child) = family();
        let mut items = table(&[&parent, &child]);
        let orphan = records::facet_items(&tenant("gone", None, &["x"])).pop().unwrap().1;
        items.push(orphan);
        items.push(records::name_guard_item("name gone", &TenantId::parse("gone").unwrap()));
        let member = crate::domain::member::Member {
            tenant_id: parent.id.clone(),
            user_id: crate::domain::UserId::parse("u1").unwrap(),
            role: crate::auth::TenantRole::Viewer,
            added_at: parent.created_at,
            added_by: "test".into(),
        };
        let earlier = parent.created_at.plus(time::Duration::days(-1));
        items.push(records::member_item(&member, earlier).unwrap());
        let found = problems(&items);
        assert!(
            found
                .iter()
                .any(|p| p.contains("facet of a tenant that does not exist")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("name guard of a tenant that does not exist")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains("member of an earlier tenant")),
            "{found:?}"
        );
    }

    #[test]
    fn a_subtenant_and_its_code_guard_answer_for_each_other() {
        let (parent, child) = family();
        let mut items = table(&[&parent, &child]);
        let input = crate::domain::subtenant::SubtenantInput {
            name: crate::domain::TenantName::parse("Sales").unwrap(),
            code: None,
            description: None,
            reseller_id: None,
        };
        let code = SubtenantCode::parse("sales").unwrap();
        let change = Change {
            actor: "test".into(),
            at: Timestamp::now(),
        };
        let sales = crate::domain::subtenant::Subtenant::create(parent.id.clone(), input, code.clone(), &change);
        items.push(records::subtenant_item(&sales).unwrap());
        assert_eq!(
            problems(&items),
            vec!["TENANT#parent / ".to_owned() + &format!("SUBTENANT#{}: no code guard holds its code", sales.id)]
        );
        items.push(records::subtenant_code_item(&parent.id, &code, &sales.id));
        assert_eq!(problems(&items), Vec::<String>::new());
        items.push(records::subtenant_code_item(
            &parent.id,
            &SubtenantCode::parse("stale").unwrap(),
            &sales.id,
        ));
        let found = problems(&items);
        assert!(
            found
                .iter()
                .any(|p| p.contains("SUBCODE#stale: code guard of a subtenant that has another code")),
            "{found:?}"
        );
    }
}
