//! A change through the center, its task's end and its event commit
//! together: a center killed (SIGKILL) while folders and roles are being
//! created comes back with, for each creation, the object, its task's
//! success and its event all there, or none of them and the task failed as
//! interrupted. On SQLite and on PostgreSQL.

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::center::{call, login, start, wait_for};

/// Clients creating one object after the other until the center dies.
const WORKERS: usize = 12;
/// Kills to try for one that catches a creation between its task's start
/// and its commit: on SQLite that window is a small part of a request, so
/// a kill misses it about three times in four.
const ROUNDS: usize = 30;

fn successes(tasks: &Value) -> usize {
    tasks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == "success")
        .count()
}

async fn count_successes(admin: &hierro_client::Client) -> usize {
    successes(
        &call(admin, Method::GET, "/api/tasks?limit=5000", Value::Null)
            .await
            .unwrap(),
    )
}

/// Checks every creation so far: the object, its task's success and its
/// event, or none and the task interrupted. Returns how many were.
async fn check(admin: &hierro_client::Client, which: &str) -> usize {
    let get = |path: &'static str| {
        let admin = admin.clone();
        async move { call(&admin, Method::GET, path, Value::Null).await.unwrap() }
    };
    let tasks = get("/api/tasks?limit=5000").await;
    let events = get("/api/events?limit=5000").await;
    let folders: HashSet<String> = get("/api/inventory?kind=folder")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    let roles: HashSet<String> = get("/api/roles")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    let mut done_events: HashMap<String, usize> = HashMap::new();
    for e in events.as_array().unwrap() {
        if ["FolderCreatedEvent", "RoleAddedEvent"].contains(&e["kind"].as_str().unwrap()) {
            *done_events
                .entry(e["task"].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
    let mut interrupted = 0;
    for t in tasks.as_array().unwrap() {
        let exists = match t["operation"].as_str().unwrap() {
            "folder.create" => folders.contains(t["target_name"].as_str().unwrap()),
            "role.create" => roles.contains(t["target_name"].as_str().unwrap()),
            _ => continue,
        };
        let id = t["id"].as_str().unwrap();
        let events = done_events.get(id).copied().unwrap_or(0);
        match t["state"].as_str().unwrap() {
            "success" => {
                assert!(
                    exists && events == 1,
                    "{which}: {t} exists {exists}, events {events}"
                )
            }
            "error" => {
                assert_eq!(t["error"]["code"], "interrupted", "{which}: {t}");
                assert!(
                    !exists && events == 0,
                    "{which}: {t} exists {exists}, events {events}"
                );
                interrupted += 1;
            }
            other => panic!("{which}: a task left {other} after the restart: {t}"),
        }
    }
    interrupted
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_its_task_and_its_event_survive_a_kill_together() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let databases = crate::common::center::databases("hierro_crash").await;
    for (which, database) in databases.list.clone() {
        let mut center = start(database).await;
        let mut interrupted = 0;
        for round in 0..ROUNDS {
            let admin = login(&center, "administrator", "admin password").await;
            let before = count_successes(&admin).await;
            let mut flight = tokio::task::JoinSet::new();
            for worker in 0..WORKERS {
                let admin = admin.clone();
                flight.spawn(async move {
                    for n in 0.. {
                        let name = format!("{round}-{worker}-{n}");
                        let (path, body) = if n % 2 == 0 {
                            (
                                "/api/inventory",
                                json!({"kind": "folder", "name": format!("f{name}"), "parent": "root"}),
                            )
                        } else {
                            (
                                "/api/roles",
                                json!({"name": format!("r{name}"), "privileges": ["System.View"]}),
                            )
                        };
                        if call(&admin, Method::POST, path, body).await.is_err() {
                            return;
                        }
                    }
                });
            }
            // Some have ended, others are on their way: now.
            wait_for(&admin, "/api/tasks?limit=5000", "creations going on", |v| {
                successes(v) >= before + 10
            })
            .await;
            center.kill_and_restart().await;
            flight.abort_all();
            while flight.join_next().await.is_some() {}
            let admin = login(&center, "administrator", "admin password").await;
            interrupted = check(&admin, which).await;
            if interrupted > 0 {
                break;
            }
        }
        // The kill came while a creation was on its way, or this proved
        // nothing.
        assert!(
            interrupted > 0,
            "{which}: no kill caught a creation on its way"
        );
    }
    databases.drop().await;
}
