//! GET /v1/tenants: paging, sorting, filters, cursors.

use std::collections::BTreeMap;

use serde_json::json;
use shared::store::keys::{facets_of_kind, FacetKind};

use crate::helpers::{names, spawn_app, spawn_app_with_shards, token_for, Snapshot, TestApi, ADMIN_SCOPE};

/// Every name of a list in order, and how many pages it took.
async fn walk(api: &TestApi, query: &str) -> (Vec<String>, usize) {
    let pages = api.pages(query).await;
    (pages.iter().flat_map(names).collect(), pages.len())
}

async fn seed(api: &TestApi, count: usize) -> Vec<String> {
    let mut expected = Vec::new();
    for i in 0..count {
        let name = format!("Tenant {i:03}");
        api.create_tenant(json!({"name": name, "status": if i % 3 == 0 { "inactive" } else { "active" }}))
            .await;
        expected.push(name);
    }
    expected
}

#[tokio::test]
async fn pages_cover_every_tenant_once_in_name_order() {
    let api = spawn_app().await;
    let expected = seed(&api, 23).await;
    for limit in [1, 5, 7, 23, 25, 100] {
        let (seen, pages) = walk(&api, &format!("limit={limit}")).await;
        assert_eq!(seen, expected, "limit {limit}");
        assert_eq!(
            pages,
            expected.len().div_ceil(limit).max(1),
            "no trailing empty page at limit {limit}"
        );
    }
    let (desc, _) = walk(&api, "limit=4&sort=name%20desc").await;
    assert_eq!(desc, expected.iter().rev().cloned().collect::<Vec<_>>());
    let default = api.get("/v1/tenants").await.json();
    assert_eq!(default["items"].as_array().unwrap().len(), 23, "default limit is 25");
}

#[tokio::test]
async fn sharded_lists_merge_in_order_without_gaps() {
    let api = spawn_app_with_shards(3).await;
    let expected = seed(&api, 31).await;
    for limit in [1, 2, 10, 31] {
        let (seen, _) = walk(&api, &format!("limit={limit}")).await;
        assert_eq!(seen, expected, "limit {limit}");
    }
    let (by_created, _) = walk(&api, "limit=4&sort=createdAt").await;
    assert_eq!(by_created, expected, "created in name order");
    let (newest_first, _) = walk(&api, "limit=6&sort=createdAt%20desc").await;
    assert_eq!(newest_first, expected.iter().rev().cloned().collect::<Vec<_>>());
    // A filter that drops most items still pages correctly across shards.
    let (inactive, _) = walk(&api, "limit=2&status=inactive").await;
    let want: Vec<String> = expected
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(_, n)| n.clone())
        .collect();
    assert_eq!(inactive, want);
}

#[tokio::test]
async fn filters_by_name_prefix_case_insensitively_and_by_status() {
    let api = spawn_app().await;
    for name in ["Acme", "acme labs", "ACME West", "Globex", "Initech"] {
        api.create_tenant(json!({"name": name})).await;
    }
    api.create_tenant(json!({"name": "Acme Old", "status": "inactive"}))
        .await;
    assert_eq!(
        walk(&api, "name=acme").await.0,
        ["Acme", "acme labs", "Acme Old", "ACME West"]
    );
    assert_eq!(walk(&api, "name=ACME%20W").await.0, ["ACME West"]);
    assert_eq!(walk(&api, "name=acme&status=inactive").await.0, ["Acme Old"]);
    assert_eq!(
        walk(&api, "name=acme&sort=createdAt%20desc&limit=1").await.0,
        ["Acme Old", "ACME West", "acme labs", "Acme"]
    );
    assert_eq!(walk(&api, "status=active&limit=2").await.0.len(), 5);
    assert_eq!(walk(&api, "name=zzz").await.0, Vec::<String>::new());
}

#[tokio::test]
async fn cursors_are_tamper_proof_and_bound_to_their_query() {
    let api = spawn_app().await;
    seed(&api, 5).await;
    let first = api.get("/v1/tenants?limit=2").await.json();
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();

    let ok = api.get(&format!("/v1/tenants?limit=3&cursor={cursor}")).await;
    assert_eq!(
        names(&ok.json()),
        ["Tenant 002", "Tenant 003", "Tenant 004"],
        "the page size may change between pages"
    );

    let other_query = api
        .get(&format!("/v1/tenants?limit=2&sort=name%20desc&cursor={cursor}"))
        .await;
    assert_eq!(other_query.problem(400)["errors"][0]["field"], "cursor");

    // One character changed in the position or in the tag (cursors are
    // opaque: see security_cursors.rs for what they hide).
    let edited = |at: usize| {
        let mut chars: Vec<char> = cursor.chars().collect();
        chars[at] = if chars[at] == 'e' { 'f' } else { 'e' };
        chars.into_iter().collect::<String>()
    };
    for forged in [
        edited(cursor.len() / 2),
        edited(cursor.len() - 2),
        "x".repeat(9000),
        "%00".into(),
    ] {
        api.get(&format!("/v1/tenants?cursor={forged}")).await.problem(400);
    }
}

/// The names of the first page of `query`, whether it has a next cursor,
/// and what it cost.
async fn first_page(api: &TestApi, query: &str) -> (Vec<String>, bool, BTreeMap<String, u64>) {
    api.take_requests();
    let reply = api.get(&format!("/v1/tenants?{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", String::from_utf8_lossy(&reply.body));
    let page = reply.json();
    (names(&page), !page["nextCursor"].is_null(), api.take_requests())
}

/// Creates tenant `t-<i>` named `name` (ids sort in creation order, so
/// two created in one millisecond still sort as created).
async fn numbered(api: &TestApi, i: usize, name: &str, parent: Option<&str>) {
    api.create_tenant(json!({"tenantId": format!("t-{i:04}"), "name": name, "parentId": parent}))
        .await;
}

/// The few hundred tenants of issue 18, item 5, with matches of `acme`
/// spread among them (and near misses: `Acm`, `Ac Me`, `Acne`): the
/// matches' names in creation order. Built through the API by the first
/// test that asks, and restored into the others' tables.
async fn acme_among_hundreds(api: &TestApi) -> Vec<&'static str> {
    static BUILT: tokio::sync::OnceCell<Snapshot> = tokio::sync::OnceCell::const_new();
    // The snapshot's list entries are those of one list shard.
    assert_eq!(
        api.app().store.list_shards(),
        1,
        "restored into a table of one list shard"
    );
    let mut built_here = false;
    let built = BUILT
        .get_or_init(|| async {
            built_here = true;
            let special: BTreeMap<usize, &str> = BTreeMap::from([
                (17, "Acme One"),
                (60, "Acm"),
                (95, "ACME two"),
                (140, "Ac Me"),
                (188, "acme  Three"),
                (230, "Acne"),
                (271, "Acmeville"),
            ]);
            for i in 0..300 {
                let name = special
                    .get(&i)
                    .map_or_else(|| format!("Tenant {i:03}"), |n| n.to_string());
                numbered(api, i, &name, None).await;
            }
            api.snapshot().await
        })
        .await;
    if !built_here {
        api.restore(built).await;
    }
    vec!["Acme One", "ACME two", "acme  Three", "Acmeville"]
}

/// Issue 18, item 5: `name=acme&sort=createdAt asc` on a few hundred
/// tenants answered an empty page with a cursor. Now the first page holds
/// every match, in creation order either way, for one `Query` and one
/// `BatchGetItem`; prefixes of 1 to 3 characters are partitions of their
/// own, a longer one is filtered in its first 3's.
#[tokio::test]
async fn a_name_prefix_sorted_by_creation_finds_its_matches_on_the_first_page() {
    let api = spawn_app().await;
    let acme = acme_among_hundreds(&api).await;
    let one_of_each = BTreeMap::from([("BatchGetItem".to_owned(), 1), ("Query".to_owned(), 1)]);
    let newest_first: Vec<&str> = acme.iter().rev().copied().collect();
    for (query, expected) in [
        ("name=acme&sort=createdAt%20asc", acme.clone()),
        ("name=ACME&sort=createdAt%20desc", newest_first),
        ("name=acm&sort=createdAt", [&["Acme One", "Acm"], &acme[1..]].concat()),
        (
            "name=ac&sort=createdAt",
            vec![
                "Acme One",
                "Acm",
                "ACME two",
                "Ac Me",
                "acme  Three",
                "Acne",
                "Acmeville",
            ],
        ),
        ("name=acme%20t&sort=createdAt", vec!["ACME two", "acme  Three"]),
        (
            "name=%EF%BC%A1CME%20%20T&sort=createdAt",
            vec!["ACME two", "acme  Three"],
        ),
        ("name=acmev&sort=createdAt%20desc", vec!["Acmeville"]),
        ("name=acmz&sort=createdAt", vec![]),
    ] {
        let (seen, more, cost) = first_page(&api, query).await;
        assert_eq!(
            (&seen, more),
            (&expected.iter().map(|n| n.to_string()).collect(), false),
            "{query}"
        );
        let expected_cost = if expected.is_empty() {
            BTreeMap::from([("Query".to_owned(), 1)])
        } else {
            one_of_each.clone()
        };
        assert_eq!(cost, expected_cost, "{query}");
        // One at a time: every page full, in the same order, nothing twice.
        let pages = api.pages(&format!("{query}&limit=1")).await;
        let walked: Vec<String> = pages.iter().flat_map(names).collect();
        assert_eq!(walked, expected, "{query}, one a page");
        let sizes: Vec<usize> = pages.iter().map(|p| names(p).len()).collect();
        assert!(sizes[..sizes.len() - 1].iter().all(|&n| n == 1), "{query}: {sizes:?}");
        let total = api
            .get(&format!("/v1/tenants?{query}&includeTotal=true&limit=1"))
            .await
            .json();
        assert_eq!(total["total"], expected.len(), "{query}");
    }
    // A one-character prefix among hundreds: full pages, from the first.
    let (t, more, cost) = first_page(&api, "name=t&sort=createdAt%20desc&limit=25").await;
    let want: Vec<String> = (275..300).rev().map(|i| format!("Tenant {i:03}")).collect();
    assert_eq!((t, more, cost), (want, true, one_of_each.clone()));
    assert_eq!(api.all_names("name=t&sort=createdAt&limit=100").await.len(), 293);
}

/// Renames, retirement and moves keep each tenant under the prefixes of
/// the name it has, in the lists of admins and of members alike.
#[tokio::test]
async fn renames_retirement_and_moves_keep_name_prefixes_right() {
    let api = spawn_app().await;
    let acme = acme_among_hundreds(&api).await;
    let by_created = "name=acme&sort=createdAt";
    assert_eq!(api.all_names(by_created).await, acme);
    // Into the prefix, out of it, and out of the longer prefix only.
    for (id, name) in [
        ("t-0100", "Acme Hundred"),
        ("t-0017", "Zeta One"),
        ("t-0095", "Acmx Two"),
    ] {
        let reply = api
            .patch(&format!("/v1/tenants/{id}"), &json!({"name": name}), &[])
            .await;
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    }
    assert_eq!(
        api.all_names(by_created).await,
        ["Acme Hundred", "acme  Three", "Acmeville"]
    );
    assert_eq!(
        api.all_names("name=acm&sort=createdAt%20desc").await,
        ["Acmeville", "acme  Three", "Acme Hundred", "Acmx Two", "Acm"]
    );
    assert_eq!(api.all_names("name=z&sort=createdAt").await, ["Zeta One"]);
    // Retired: in the retired tenants' prefixes, not the live ones'.
    let retire = api.post("/v1/tenants/t-0188/retire", &json!({"reason": "test"})).await;
    assert_eq!(retire.status, 200);
    assert_eq!(api.all_names(by_created).await, ["Acme Hundred", "Acmeville"]);
    assert_eq!(
        api.all_names(&format!("{by_created}&status=retired")).await,
        ["acme  Three"]
    );
    // A member of a parent sees the matches within it, moved in or out.
    let reply = api
        .send_json("PUT", "/v1/tenants/t-0200/members/mia", &json!({"role": "viewer"}), &[])
        .await;
    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    let auth = format!("Bearer {}", token_for("mia", &[], ADMIN_SCOPE));
    let as_mia = |query: String| {
        let auth = auth.clone();
        let api = &api;
        async move {
            let reply = api
                .call(
                    "GET",
                    &format!("/v1/tenants?{query}"),
                    None,
                    &[("authorization", auth.as_str())],
                )
                .await;
            assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
            names(&reply.json())
        }
    };
    assert_eq!(as_mia(by_created.to_owned()).await, Vec::<String>::new());
    for id in ["t-0271", "t-0100"] {
        let reply = api
            .patch(&format!("/v1/tenants/{id}"), &json!({"parentId": "t-0200"}), &[])
            .await;
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    }
    assert_eq!(
        as_mia(format!("{by_created}%20desc")).await,
        ["Acmeville", "Acme Hundred"]
    );
    let reply = api.patch("/v1/tenants/t-0271", &json!({"parentId": null}), &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(as_mia(by_created.to_owned()).await, ["Acme Hundred"]);
    assert_eq!(
        api.all_names(by_created).await,
        ["Acme Hundred", "Acmeville"],
        "an admin's list is the same wherever they are"
    );
}

/// A member's `name` + `createdAt` list reads its own subtrees' prefix
/// partitions only: others' tenants of the same name, created in between
/// and in great number, change neither its pages nor what they cost.
#[tokio::test]
async fn a_members_name_prefix_by_creation_reads_only_its_subtrees() {
    let api = spawn_app().await;
    let mut own = Vec::new();
    api.create_tenant(json!({"tenantId": "home", "name": "Home"})).await;
    api.create_tenant(json!({"tenantId": "others", "name": "Others"})).await;
    for i in 0..6 {
        let (id, name) = (format!("mine-{i}"), format!("Acme Mine {i}"));
        api.create_tenant(json!({"tenantId": id, "name": name, "parentId": "home"}))
            .await;
        own.push(name);
        let theirs =
            json!({"tenantId": format!("theirs-{i}"), "name": format!("Acme Theirs {i}"), "parentId": "others"});
        api.create_tenant(theirs).await;
    }
    let reply = api
        .send_json("PUT", "/v1/tenants/home/members/mia", &json!({"role": "viewer"}), &[])
        .await;
    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    let auth = format!("Bearer {}", token_for("mia", &[], ADMIN_SCOPE));
    let walk = |query: &'static str| {
        let (api, auth) = (&api, auth.clone());
        async move {
            let mut pages = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let path = match &cursor {
                    Some(c) => format!("/v1/tenants?{query}&cursor={c}"),
                    None => format!("/v1/tenants?{query}"),
                };
                api.take_requests();
                let reply = api.call("GET", &path, None, &[("authorization", auth.as_str())]).await;
                assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
                let page = reply.json();
                cursor = page["nextCursor"].as_str().map(str::to_owned);
                pages.push((names(&page), api.take_requests()));
                if cursor.is_none() {
                    return pages;
                }
            }
        }
    };
    let queries = [
        "name=acme&sort=createdAt&limit=2",
        "name=acme%20m&sort=createdAt%20desc&limit=4",
        "name=ac&sort=createdAt&limit=25",
    ];
    let mut before = Vec::new();
    for query in queries {
        let pages = walk(query).await;
        let seen: Vec<String> = pages.iter().flat_map(|(n, _)| n.clone()).collect();
        let mut want = own.clone();
        if query.contains("desc") {
            want.reverse();
        }
        assert_eq!(seen, want, "{query}");
        before.push(pages);
    }
    for i in 6..60 {
        let theirs =
            json!({"tenantId": format!("theirs-{i}"), "name": format!("Acme Theirs {i}"), "parentId": "others"});
        api.create_tenant(theirs).await;
    }
    for (query, before) in queries.iter().zip(&before) {
        let after = walk(query).await;
        let pages = |p: &[(Vec<String>, BTreeMap<String, u64>)]| p.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            pages(&after),
            pages(before),
            "{query}: others' tenants changed her pages"
        );
        // Each page: one Query of her subtree's partition, one BatchGetItem
        // of its tenants, one of their ancestors' statuses (printed, not
        // asserted: see security_cursors.rs on run-to-run variation).
        for (_, cost) in &after {
            assert!(cost.values().all(|n| *n <= 4), "{query}: {cost:?}");
        }
        println!(
            "| mia | {query} | per page {:?} |",
            after.iter().map(|(_, c)| c).collect::<Vec<_>>()
        );
    }
}

/// Lists over several shards merge each shard's prefix partition in order.
#[tokio::test]
async fn sharded_name_prefixes_merge_in_creation_order() {
    let api = spawn_app_with_shards(3).await;
    let mut acme = Vec::new();
    for i in 0..40 {
        let name = if i % 3 == 1 {
            format!("Acme {i:02}")
        } else {
            format!("Other {i:02}")
        };
        numbered(&api, i, &name, None).await;
        if i % 3 == 1 {
            acme.push(name);
        }
    }
    for limit in [1, 4, 25] {
        let seen = api.all_names(&format!("name=acme&sort=createdAt&limit={limit}")).await;
        assert_eq!(seen, acme, "limit {limit}");
        let seen = api
            .all_names(&format!("name=ac&sort=createdAt%20desc&limit={limit}"))
            .await;
        assert_eq!(seen, acme.iter().rev().cloned().collect::<Vec<_>>(), "limit {limit}");
    }
}

/// Tenants written before name prefixes were indexed (no name facet,
/// subtree facets without their prefix keys) are reported by the
/// invariant checker and put right by `migrate_name_prefixes`, safely
/// twice; until then their lists miss them, afterwards they do not.
#[tokio::test]
async fn old_facets_are_reported_and_given_their_name_prefixes() {
    let api = spawn_app().await;
    api.create_tenant(json!({"tenantId": "root", "name": "Acme Root"}))
        .await;
    for i in 0..3 {
        numbered(&api, i, &format!("Acme {i}"), Some("root")).await;
    }
    let store = &api.app().store;
    let prefix_attributes: Vec<&str> = shared::store::records::name_prefix_attributes().collect();
    let (names_sk, within_sk) = (facets_of_kind(FacetKind::Name), facets_of_kind(FacetKind::Within));
    for item in api.scan().await {
        let key = TestApi::key_of(&item);
        if key.sk.starts_with(&names_sk) {
            api.delete_item(&key).await;
        } else if key.sk.starts_with(&within_sk) {
            api.remove_attributes(&key, &prefix_attributes).await;
        }
    }
    let found: Vec<String> = store
        .check_invariants()
        .await
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(
        found.iter().filter(|f| f.contains("FACET#NAME#00 is missing")).count(),
        4,
        "{found:?}"
    );
    // root: its own subtree facet; each child: root's and its own.
    assert_eq!(
        found
            .iter()
            .filter(|f| f.contains("facet without its name prefix keys"))
            .count(),
        7,
        "{found:?}"
    );
    assert!(found.iter().all(|f| f.contains("--migrate-prefixes")), "{found:?}");
    assert_eq!(api.all_names("name=acme&sort=createdAt").await, Vec::<String>::new());

    let moved = store.migrate_name_prefixes().await.unwrap();
    assert_eq!((moved.migrated.len(), moved.left), (4, vec![]));
    assert_eq!(store.check_invariants().await.unwrap(), vec![]);
    assert_eq!(
        api.all_names("name=acme&sort=createdAt").await,
        ["Acme Root", "Acme 0", "Acme 1", "Acme 2"]
    );
    let auth = format!("Bearer {}", token_for("mia", &[], ADMIN_SCOPE));
    let reply = api
        .send_json("PUT", "/v1/tenants/root/members/mia", &json!({"role": "viewer"}), &[])
        .await;
    assert_eq!(reply.status, 201);
    let reply = api
        .call(
            "GET",
            "/v1/tenants?name=acme%20&sort=createdAt%20desc",
            None,
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_eq!(names(&reply.json()), ["Acme 2", "Acme 1", "Acme 0", "Acme Root"]);
    let again = store.migrate_name_prefixes().await.unwrap();
    assert_eq!((again.migrated, again.left), (vec![], vec![]));
}
