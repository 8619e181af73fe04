//! The center's REST API on SQLite and on PostgreSQL, as real processes:
//! users, groups, roles and permissions set through the API, and the
//! verdicts of the authorization rules seen through HTTP (403, hidden
//! objects, filtered listings, explanations).

use crate::common::center::{call, create, login, start, status};
use hierro_client::{Client, Trust};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn permissions_through_the_api_on_sqlite_and_postgresql() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let databases = crate::common::center::databases("hierro_api").await;
    for (which, database) in databases.list.clone() {
        let center = start(database).await;
        let admin = login(&center, "administrator", "admin password").await;
        let anon = Client::new(&center.url, Trust::Thumbprint(center.thumbprint.clone())).unwrap();
        assert_eq!(
            status(call(&anon, Method::GET, "/api/inventory", Value::Null).await),
            401,
            "{which}"
        );
        let health = call(&anon, Method::GET, "/api/health", Value::Null)
            .await
            .unwrap();
        assert_eq!(health["database"], which);

        // The tree: DC / Prod / Sub, and DC / Secret.
        let mk = |kind: &str, name: &str, parent: &str| json!({"kind": kind, "name": name, "parent": parent});
        let dc = create(&admin, "datacenter", "DC", "root").await;
        let prod = create(&admin, "folder", "Prod", &dc).await;
        let sub = create(&admin, "folder", "Sub", &prod).await;
        let secret = create(&admin, "folder", "Secret", &dc).await;
        // Bad input: 400 naming the field, 409 on a taken name.
        let e = call(
            &admin,
            Method::POST,
            "/api/inventory",
            json!({"kind": "folder", "name": "X"}),
        )
        .await
        .unwrap_err();
        assert!(
            e.status().unwrap().as_u16() == 400 && e.to_string().contains("parent"),
            "{which}: {e}"
        );
        assert_eq!(
            status(
                call(
                    &admin,
                    Method::POST,
                    "/api/inventory",
                    mk("folder", "Prod", &dc)
                )
                .await
            ),
            409
        );

        // People: alice is in ops; bob is in nothing.
        for (u, p) in [("alice", "alice password"), ("bob", "bob password")] {
            call(
                &admin,
                Method::POST,
                "/api/users",
                json!({"name": u, "password": p}),
            )
            .await
            .unwrap();
        }
        call(&admin, Method::POST, "/api/groups", json!({"name": "ops"}))
            .await
            .unwrap();
        call(
            &admin,
            Method::POST,
            "/api/groups/ops/members/alice",
            Value::Null,
        )
        .await
        .unwrap();
        let role = call(&admin, Method::POST, "/api/roles", json!({"name": "Folder admin", "privileges": ["Folder.Create", "Folder.Delete", "Folder.Rename"]}))
            .await
            .unwrap();
        let folder_admin = role["id"].as_str().unwrap().to_string();
        let e = call(
            &admin,
            Method::POST,
            "/api/roles",
            json!({"name": "Bad", "privileges": ["Folder.Fly"]}),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("Folder.Fly"), "{which}: {e}");
        let set = |p: Value| {
            let admin = admin.clone();
            async move {
                call(&admin, Method::POST, "/api/permissions", p)
                    .await
                    .unwrap()
            }
        };
        set(json!({"principal": {"group": "ops"}, "role": folder_admin, "object": prod, "propagate": true})).await;
        set(json!({"principal": {"user": "alice"}, "role": "read-only", "object": sub, "propagate": true})).await;
        set(json!({"principal": {"group": "ops"}, "role": "no-access", "object": secret, "propagate": true})).await;

        let alice = login(&center, "alice", "alice password").await;
        let bob = login(&center, "bob", "bob password").await;
        // Listings show what each may see.
        let names = |v: Value| {
            let mut n: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_string())
                .collect();
            n.sort();
            n
        };
        assert_eq!(
            names(
                call(&alice, Method::GET, "/api/inventory", Value::Null)
                    .await
                    .unwrap()
            ),
            ["Prod", "Sub"],
            "{which}"
        );
        assert!(
            names(
                call(&bob, Method::GET, "/api/inventory", Value::Null)
                    .await
                    .unwrap()
            )
            .is_empty(),
            "{which}"
        );
        assert_eq!(
            names(
                call(
                    &admin,
                    Method::GET,
                    "/api/inventory?kind=folder",
                    Value::Null
                )
                .await
                .unwrap()
            )
            .len(),
            4
        );
        // Who has what where: every permission on the objects each may read.
        let objects_of = |v: Value| {
            let mut o: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["object"].as_str().unwrap().to_string())
                .collect();
            o.sort();
            o
        };
        let everywhere = "/api/permissions?all=true";
        let all = call(&admin, Method::GET, everywhere, Value::Null)
            .await
            .unwrap();
        let mut expected = vec![prod.clone(), sub.clone(), secret.clone(), "root".into()];
        expected.sort();
        assert_eq!(objects_of(all), expected, "{which}");
        let hers = call(&alice, Method::GET, everywhere, Value::Null)
            .await
            .unwrap();
        let mut expected = vec![prod.clone(), sub.clone()];
        expected.sort();
        assert_eq!(objects_of(hers), expected, "{which}");
        let his = call(&bob, Method::GET, everywhere, Value::Null)
            .await
            .unwrap();
        assert!(objects_of(his).is_empty(), "{which}");
        // The group's role works on Prod; her own Read-only wins on Sub;
        // Secret and DC are hidden from her.
        assert_eq!(
            status(
                call(
                    &alice,
                    Method::POST,
                    "/api/inventory",
                    mk("folder", "New", &prod)
                )
                .await
            ),
            200,
            "{which}"
        );
        assert_eq!(
            status(
                call(
                    &alice,
                    Method::POST,
                    "/api/inventory",
                    mk("folder", "New", &sub)
                )
                .await
            ),
            403,
            "{which}"
        );
        assert_eq!(
            status(
                call(
                    &alice,
                    Method::GET,
                    &format!("/api/inventory/{secret}"),
                    Value::Null
                )
                .await
            ),
            404,
            "{which}"
        );
        assert_eq!(
            status(
                call(
                    &alice,
                    Method::DELETE,
                    &format!("/api/inventory/{dc}"),
                    Value::Null
                )
                .await
            ),
            404,
            "{which}"
        );
        assert_eq!(
            status(
                call(
                    &bob,
                    Method::POST,
                    "/api/roles",
                    json!({"name": "Mine", "privileges": []})
                )
                .await
            ),
            403,
            "{which}"
        );
        assert_eq!(
            status(
                call(
                    &alice,
                    Method::POST,
                    "/api/users",
                    json!({"name": "eve", "password": "eve password"})
                )
                .await
            ),
            403
        );

        // Who decided: asked about alice on Sub, the answer names her own permission.
        let why = call(
            &admin,
            Method::GET,
            &format!("/api/effective?object={sub}&principal=user:alice"),
            Value::Null,
        )
        .await
        .unwrap();
        assert_eq!(why["decided_at"], json!(sub), "{which}");
        assert_eq!(why["permissions"][0]["principal"], json!({"user": "alice"}));
        assert!(!why["privileges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "Folder.Create"));
        let mine = call(
            &alice,
            Method::GET,
            &format!("/api/effective?object={prod}"),
            Value::Null,
        )
        .await
        .unwrap();
        assert!(
            mine["privileges"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == "Folder.Create"),
            "{which}"
        );
        // Only who may change permissions may ask about others.
        assert_eq!(
            status(
                call(
                    &alice,
                    Method::GET,
                    &format!("/api/effective?object={prod}&principal=user:bob"),
                    Value::Null
                )
                .await
            ),
            403
        );
        // A role in use cannot go; a system role cannot change.
        assert_eq!(
            status(
                call(
                    &admin,
                    Method::DELETE,
                    &format!("/api/roles/{folder_admin}"),
                    Value::Null
                )
                .await
            ),
            409
        );
        assert_eq!(
            status(
                call(
                    &admin,
                    Method::PUT,
                    "/api/roles/administrator",
                    json!({"privileges": []})
                )
                .await
            ),
            409
        );
        // Every change was a task with events; a refused one too, as an error.
        let tasks = call(&admin, Method::GET, "/api/tasks", Value::Null)
            .await
            .unwrap();
        let tasks = tasks.as_array().unwrap();
        let has = |op: &str, state: &str| {
            tasks.iter().any(|t| {
                t["operation"] == op && t["state"] == state && t["user"] == "administrator"
            })
        };
        assert!(
            has("folder.create", "success")
                && has("folder.create", "error")
                && has("permission.set", "success"),
            "{which}"
        );
        let events = call(&admin, Method::GET, "/api/events", Value::Null)
            .await
            .unwrap();
        let kinds: Vec<&str> = events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"FolderCreatedEvent")
                && kinds.contains(&"TaskFailedEvent")
                && kinds.contains(&"RoleAddedEvent")
        );
        // Queried by type, object and time.
        let get = |path: String| {
            let admin = admin.clone();
            async move { call(&admin, Method::GET, &path, Value::Null).await.unwrap() }
        };
        let made = get("/api/tasks?operation=folder.create".into()).await;
        let made = made.as_array().unwrap();
        assert!(
            !made.is_empty() && made.iter().all(|t| t["operation"] == "folder.create"),
            "{which}"
        );
        let kind = "/api/events?kind=FolderCreatedEvent";
        let created = get(kind.into()).await;
        let created = created.as_array().unwrap();
        assert!(
            !created.is_empty() && created.iter().all(|e| e["kind"] == "FolderCreatedEvent"),
            "{which}"
        );
        assert_eq!(
            get(format!("{kind}&before=2999-01-01T00:00:00Z"))
                .await
                .as_array()
                .unwrap(),
            created,
            "{which}"
        );
        assert!(
            get(format!("{kind}&after=2999-01-01T00:00:00Z"))
                .await
                .as_array()
                .unwrap()
                .is_empty(),
            "{which}"
        );
        // The first two, or the newest two (still oldest first).
        let ids = |v: Value| -> Vec<u64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_u64().unwrap())
                .collect()
        };
        let all = ids(get("/api/events".into()).await);
        assert!(all.len() > 4, "{which}");
        assert_eq!(
            ids(get("/api/events?limit=2".into()).await),
            all[..2],
            "{which}"
        );
        let newest = ids(get("/api/events?limit=2&newest=true".into()).await);
        // (Events may have come since: the newest are at least the last two.)
        assert!(newest.len() == 2 && newest[0] < newest[1], "{which}");
        assert!(newest[0] >= all[all.len() - 2], "{which}");
        let on_prod = get(format!("/api/events?target={prod}")).await;
        assert!(!on_prod.as_array().unwrap().is_empty(), "{which}");
        assert!(
            on_prod
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["target"] == json!(prod)),
            "{which}"
        );
        let old = "/api/tasks?after=2000-01-01T00:00:00Z&before=2000-01-02T00:00:00Z";
        assert!(
            get(old.into()).await.as_array().unwrap().is_empty(),
            "{which}"
        );
        assert_eq!(
            status(
                call(
                    &admin,
                    Method::GET,
                    "/api/tasks?after=yesterday",
                    Value::Null
                )
                .await
            ),
            400
        );

        // alice sees only what happened to objects she can see.
        let hers = call(&alice, Method::GET, "/api/tasks", Value::Null)
            .await
            .unwrap();
        assert!(!hers.as_array().unwrap().is_empty(), "{which}");
        assert!(
            hers.as_array()
                .unwrap()
                .iter()
                .all(|t| t["target"] == json!(prod) || t["target"] == json!(sub)),
            "{which}: {hers}"
        );
        // The event stream (server-sent events) delivers them too.
        let sse = std::process::Command::new("curl")
            .args(["-sNk", "--max-time", "2", "-H"])
            .arg(format!("hierro-session: {}", admin.token().unwrap()))
            .arg(format!("{}/api/events/stream?since=0", center.url))
            .output()
            .unwrap();
        let sse = String::from_utf8_lossy(&sse.stdout);
        assert!(
            sse.contains("event: event") && sse.contains("FolderCreatedEvent"),
            "{which}: {sse}"
        );

        // An API token acts as alice, with her rights; it cannot make more
        // tokens; she sees only her own, the administrator sees all.
        let made = call(
            &alice,
            Method::POST,
            "/api/tokens",
            json!({"name": "script", "valid_days": 30}),
        )
        .await
        .unwrap();
        let secret = made["token"].as_str().unwrap();
        assert!(made["expires"].is_string(), "{which}: {made}");
        let script = Client::new(&center.url, Trust::Thumbprint(center.thumbprint.clone()))
            .unwrap()
            .with_token(secret);
        let seen = |c: &Client| {
            let c = c.clone();
            async move {
                let v = call(&c, Method::GET, "/api/inventory", Value::Null)
                    .await
                    .unwrap();
                let mut ids: Vec<String> = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].to_string())
                    .collect();
                ids.sort();
                ids
            }
        };
        assert_eq!(seen(&script).await, seen(&alice).await, "{which}");
        assert_eq!(
            status(
                call(
                    &script,
                    Method::POST,
                    "/api/roles",
                    json!({"name": "X", "privileges": []})
                )
                .await
            ),
            403,
            "{which}: the token has alice's rights, not more"
        );
        assert_eq!(
            status(
                call(
                    &script,
                    Method::POST,
                    "/api/tokens",
                    json!({"name": "more"})
                )
                .await
            ),
            403,
            "{which}"
        );
        assert_eq!(
            status(
                call(
                    &alice,
                    Method::POST,
                    "/api/tokens",
                    json!({"name": "script"})
                )
                .await
            ),
            409,
            "{which}"
        );
        assert_eq!(
            status(
                call(
                    &alice,
                    Method::POST,
                    "/api/tokens",
                    json!({"name": "x", "valid_days": 0})
                )
                .await
            ),
            400,
            "{which}"
        );
        let all = call(&admin, Method::GET, "/api/tokens", Value::Null)
            .await
            .unwrap();
        assert!(
            all.as_array()
                .unwrap()
                .iter()
                .any(|t| t["username"] == "alice"),
            "{which}"
        );
        assert!(
            all.as_array()
                .unwrap()
                .iter()
                .all(|t| t.get("token").is_none()),
            "{which}: secrets are never shown again"
        );
        let kept = call(&alice, Method::POST, "/api/tokens", json!({"name": "kept"}))
            .await
            .unwrap();
        let id = made["id"].as_str().unwrap();
        call(
            &alice,
            Method::DELETE,
            &format!("/api/tokens/{id}"),
            Value::Null,
        )
        .await
        .unwrap();
        assert_eq!(
            status(call(&script, Method::GET, "/api/inventory", Value::Null).await),
            401,
            "{which}: a revoked token"
        );
        let kept = Client::new(&center.url, Trust::Thumbprint(center.thumbprint.clone()))
            .unwrap()
            .with_token(kept["token"].as_str().unwrap());
        call(&kept, Method::GET, "/api/inventory", Value::Null)
            .await
            .unwrap();

        // Deleting alice ends her session and her tokens.
        call(&admin, Method::DELETE, "/api/users/alice", Value::Null)
            .await
            .unwrap();
        assert_eq!(
            status(call(&alice, Method::GET, "/api/inventory", Value::Null).await),
            401,
            "{which}"
        );
        assert_eq!(
            status(call(&kept, Method::GET, "/api/inventory", Value::Null).await),
            401,
            "{which}"
        );
    }
    databases.drop().await;
}

/// The center keeps an administrator: a change that would leave no enabled
/// user with Administrator on the root is refused (409), whichever way it
/// comes (the permission removed or lowered, the user or group deleted,
/// the user taken out of its group), and changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_last_administrator_cannot_be_taken_away() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let center = start(None).await;
    let admin = login(&center, "administrator", "admin password").await;
    let refused = |r: Result<Value, hierro_client::ClientError>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.status().map(|s| s.as_u16()), Some(409), "{what}: {e}");
        assert!(e.to_string().contains("Administrator"), "{what}: {e}");
    };
    let own = "/api/permissions?principal=user:administrator&object=root";
    let lower = json!({"principal": {"user": "administrator"}, "role": "read-only", "object": "root", "propagate": true});
    refused(
        call(&admin, Method::DELETE, own, Value::Null).await,
        "removing",
    );
    refused(
        call(&admin, Method::POST, "/api/permissions", lower.clone()).await,
        "lowering",
    );
    refused(
        call(
            &admin,
            Method::DELETE,
            "/api/users/administrator",
            Value::Null,
        )
        .await,
        "deleting",
    );
    // Nothing changed: the administrator still administers.
    let users = call(&admin, Method::GET, "/api/users", Value::Null).await;
    assert_eq!(users.unwrap().as_array().unwrap().len(), 1);

    // With a group that administers, and a member, the user's own
    // permission may go; the last member may then not leave, nor the group.
    let post = |path: &'static str, body: Value| {
        let admin = admin.clone();
        async move { call(&admin, Method::POST, path, body).await.unwrap() }
    };
    post("/api/groups", json!({"name": "admins"})).await;
    post(
        "/api/users",
        json!({"name": "bob", "password": "bob's password"}),
    )
    .await;
    call(
        &admin,
        Method::POST,
        "/api/groups/admins/members/bob",
        Value::Null,
    )
    .await
    .unwrap();
    post(
        "/api/permissions",
        json!({"principal": {"group": "admins"}, "role": "administrator", "object": "root", "propagate": true}),
    )
    .await;
    call(&admin, Method::DELETE, own, Value::Null)
        .await
        .unwrap();
    let bob = login(&center, "bob", "bob's password").await;
    refused(
        call(
            &bob,
            Method::DELETE,
            "/api/groups/admins/members/bob",
            Value::Null,
        )
        .await,
        "the last member leaving",
    );
    refused(
        call(&bob, Method::DELETE, "/api/groups/admins", Value::Null).await,
        "deleting the group",
    );
    // The refusals are failed tasks, as any refused change.
    let tasks = call(
        &bob,
        Method::GET,
        "/api/tasks?operation=group.delete",
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(tasks[0]["state"], "error", "{tasks}");
    // Someone else first: then the group may go.
    call(&bob, Method::POST, "/api/permissions", {
        let mut back = lower;
        back["role"] = json!("administrator");
        back
    })
    .await
    .unwrap();
    call(&bob, Method::DELETE, "/api/groups/admins", Value::Null)
        .await
        .unwrap();
}
