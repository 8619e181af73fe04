//! The permission matrix through the real HTTP API, on SQLite and on
//! PostgreSQL: a generated tree of folders and VMs, users in overlapping
//! groups, roles, and permissions with and without propagate. For every
//! (user, object) the expected privileges come from vSphere's rules as
//! written below (independently of the center's code); the center must
//! report the same through /api/effective, hide exactly the objects without
//! System.View from reads and listings, and allow exactly the changes the
//! expected privileges allow.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::center::{call, login, start, status};
use hierro_center::inventory::ObjectKind;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

const USERS: usize = 5;
const GROUPS: usize = 4;

#[derive(Debug, Clone)]
struct Perm {
    /// ("user" | "group", name)
    principal: (String, String),
    role: String,
    object: String,
    propagate: bool,
}

/// The world as generated: parents, memberships, role contents, permissions.
struct World {
    parent: BTreeMap<String, Option<String>>,
    groups_of: BTreeMap<String, BTreeSet<String>>,
    roles: BTreeMap<String, BTreeSet<String>>,
    perms: Vec<Perm>,
}

impl World {
    fn path(&self, object: &str) -> Vec<String> {
        let mut out = vec![object.to_string()];
        while let Some(Some(p)) = self.parent.get(out.last().unwrap()) {
            out.push(p.clone());
        }
        out
    }

    /// vSphere's rules: the nearest object (from this one up) with a
    /// permission for the user or one of its groups (set there, or set
    /// higher with propagate) decides alone; there the user's own
    /// permission wins over its groups', group roles add up, and No access
    /// among the deciding permissions denies everything.
    fn expected(&self, user: &str, object: &str) -> BTreeSet<String> {
        let groups = &self.groups_of[user];
        for (depth, node) in self.path(object).iter().enumerate() {
            let applicable: Vec<&Perm> = self
                .perms
                .iter()
                .filter(|p| &p.object == node && (depth == 0 || p.propagate))
                .filter(|p| match p.principal.0.as_str() {
                    "user" => p.principal.1 == user,
                    _ => groups.contains(&p.principal.1),
                })
                .collect();
            if applicable.is_empty() {
                continue;
            }
            let deciding: Vec<&Perm> = match applicable.iter().find(|p| p.principal.0 == "user") {
                Some(own) => vec![own],
                None => applicable,
            };
            if deciding.iter().any(|p| p.role == "no-access") {
                return BTreeSet::new();
            }
            return deciding
                .iter()
                .flat_map(|p| self.roles[&p.role].iter().cloned())
                .collect();
        }
        BTreeSet::new()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn permission_matrix_over_http_on_sqlite_and_postgresql() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pg_server = std::env::var("HIERRO_TEST_POSTGRES")
        .expect("HIERRO_TEST_POSTGRES is not set: scripts/test.sh starts PostgreSQL");
    let pg_url = hierro_center::db::Db::create_database(&pg_server, "hierro_center_matrix")
        .await
        .unwrap();
    let mut seen = BTreeMap::new();
    for (seed, database) in [(7u64, None), (8, Some(pg_url))] {
        for (verdict, n) in matrix(seed, database).await {
            *seen.entry(verdict).or_insert(0) += n;
        }
    }
    // The generated worlds lead to every verdict, so none goes untested.
    for verdict in [
        "read 200",
        "read 404",
        "create 200",
        "create 403",
        "create 404",
    ] {
        assert!(
            seen.get(verdict).copied().unwrap_or(0) > 0,
            "no {verdict:?} in {seen:?}"
        );
    }
    let _ = hierro_center::db::Db::drop_database(&pg_server, "hierro_center_matrix").await;
}

/// Checks one generated world; returns how often each verdict came up.
async fn matrix(seed: u64, database: Option<String>) -> BTreeMap<String, usize> {
    let mut verdicts = BTreeMap::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let center = start(database.clone()).await;
    let admin = login(&center, "administrator", "admin password").await;
    let post = |path: &'static str, body: Value| call(&admin, Method::POST, path, body);

    // The tree: a datacenter, folders up to three deep, VMs anywhere. VMs
    // come from hosts, so the generated ones are written to the store.
    let mut parent: BTreeMap<String, Option<String>> = BTreeMap::new();
    parent.insert("root".into(), None);
    let dc = post(
        "/api/inventory",
        json!({"kind": "datacenter", "name": "DC", "parent": "root"}),
    )
    .await
    .unwrap();
    let dc = dc["id"].as_str().unwrap().to_string();
    parent.insert(dc.clone(), Some("root".into()));
    let mut folders = vec![dc.clone()];
    for i in 0..6 {
        let under = folders.choose(&mut rng).unwrap().clone();
        let f = post(
            "/api/inventory",
            json!({"kind": "folder", "name": format!("f{i}"), "parent": under}),
        )
        .await
        .unwrap();
        let id = f["id"].as_str().unwrap().to_string();
        parent.insert(id.clone(), Some(under));
        if parent.len() < 9 {
            folders.push(id);
        }
    }
    let db = hierro_center::db::Db::open(&center.database_url())
        .await
        .unwrap();
    for i in 0..8 {
        let under = folders.choose(&mut rng).unwrap().clone();
        let vm = hierro_center::inventory::create(
            &db,
            ObjectKind::Vm,
            &format!("vm{i}"),
            &under,
            json!({}),
        )
        .await
        .unwrap();
        parent.insert(vm.id, Some(under));
    }
    db.pool.close().await;

    // Users in overlapping groups.
    let users: Vec<String> = (0..USERS).map(|i| format!("u{i}")).collect();
    let groups: Vec<String> = (0..GROUPS).map(|i| format!("g{i}")).collect();
    for g in &groups {
        post("/api/groups", json!({"name": g})).await.unwrap();
    }
    let mut groups_of = BTreeMap::new();
    for u in &users {
        post(
            "/api/users",
            json!({"name": u, "password": format!("{u} password")}),
        )
        .await
        .unwrap();
        let mut mine = BTreeSet::new();
        for g in &groups {
            if rng.random_bool(0.45) {
                call(
                    &admin,
                    Method::POST,
                    &format!("/api/groups/{g}/members/{u}"),
                    Value::Null,
                )
                .await
                .unwrap();
                mine.insert(g.clone());
            }
        }
        groups_of.insert(u.clone(), mine);
    }

    // Two custom roles; the system roles; what each holds, as the center says.
    let catalogue = [
        "Folder.Create",
        "Folder.Rename",
        "VirtualMachine.Interact.PowerOn",
        "VirtualMachine.Inventory.Move",
        "Authorization.ModifyPermissions",
    ];
    for name in ["Operator", "Organizer"] {
        // An organizer always may make folders; the rest is chance.
        let privileges: Vec<&str> = catalogue
            .iter()
            .copied()
            .filter(|p| (name == "Organizer" && *p == "Folder.Create") || rng.random_bool(0.5))
            .collect();
        post(
            "/api/roles",
            json!({"name": name, "privileges": privileges}),
        )
        .await
        .unwrap();
    }
    let mut roles = BTreeMap::new();
    for r in call(&admin, Method::GET, "/api/roles", Value::Null)
        .await
        .unwrap()
        .as_array()
        .unwrap()
    {
        let privileges = r["privileges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        roles.insert(r["id"].as_str().unwrap().to_string(), privileges);
    }
    let role_ids: Vec<String> = roles.keys().cloned().collect();

    // Permissions, with and without propagate (the administrator's own at
    // the root stays). One per principal and object: a second replaces.
    let objects: Vec<String> = parent.keys().cloned().collect();
    let mut perms: BTreeMap<(String, String, String), Perm> = BTreeMap::new();
    for _ in 0..16 {
        let principal = if rng.random_bool(0.5) {
            ("user".to_string(), users.choose(&mut rng).unwrap().clone())
        } else {
            (
                "group".to_string(),
                groups.choose(&mut rng).unwrap().clone(),
            )
        };
        let p = Perm {
            principal: principal.clone(),
            role: role_ids.choose(&mut rng).unwrap().clone(),
            object: objects.choose(&mut rng).unwrap().clone(),
            propagate: rng.random_bool(0.6),
        };
        post(
            "/api/permissions",
            json!({"principal": {principal.0.clone(): principal.1.clone()}, "role": p.role, "object": p.object, "propagate": p.propagate}),
        )
        .await
        .unwrap();
        perms.insert((principal.0, principal.1, p.object.clone()), p);
    }
    let world = World {
        parent,
        groups_of,
        roles,
        perms: perms.into_values().collect(),
    };

    for u in &users {
        let client = login(&center, u, &format!("{u} password")).await;
        let mut visible = BTreeSet::new();
        for o in &objects {
            let want = world.expected(u, o);
            // What the center computes for the user.
            let got = call(
                &admin,
                Method::GET,
                &format!("/api/effective?object={o}&principal=user:{u}"),
                Value::Null,
            )
            .await
            .unwrap();
            let got: BTreeSet<String> = got["privileges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, want, "seed {seed}: {u} on {o}");
            // What the user meets: hidden without System.View.
            let read = status(
                call(
                    &client,
                    Method::GET,
                    &format!("/api/inventory/{o}"),
                    Value::Null,
                )
                .await,
            );
            let sees = want.contains("System.View");
            // (The root always exists: refused, not hidden.)
            let hidden = if o == "root" { 403 } else { 404 };
            assert_eq!(
                read,
                if sees { 200 } else { hidden },
                "seed {seed}: {u} reads {o}"
            );
            *verdicts.entry(format!("read {read}")).or_insert(0) += 1;
            if sees && o != "root" {
                visible.insert(o.clone());
            }
        }
        // Listings show exactly the visible objects.
        let listed: BTreeSet<String> = call(&client, Method::GET, "/api/inventory", Value::Null)
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .filter(|id| id != "root")
            .collect();
        assert_eq!(listed, visible, "seed {seed}: {u}'s listing");
    }
    // Changes (after all the listings, which they would change): a folder
    // made in each folder, where Folder.Create holds.
    for u in &users {
        let client = login(&center, u, &format!("{u} password")).await;
        for f in folders.iter().filter(|f| **f != dc) {
            let want = world.expected(u, f);
            let made = status(
                call(
                    &client,
                    Method::POST,
                    "/api/inventory",
                    json!({"kind": "folder", "name": format!("by-{u}"), "parent": f}),
                )
                .await,
            );
            let expected = if !want.contains("System.View") {
                404
            } else if want.contains("Folder.Create") {
                200
            } else {
                403
            };
            assert_eq!(made, expected, "seed {seed}: {u} makes a folder in {f}");
            *verdicts.entry(format!("create {made}")).or_insert(0) += 1;
        }
    }
    verdicts
}
