//! The center's OpenAPI document, as a client without a session gets it
//! from a real center: the routes are there with their methods and bodies,
//! every reference resolves, every operation but the public ones asks for
//! the session, and the descriptions name the privileges.

use std::collections::BTreeSet;

use hierro_client::{Client, Trust};
use reqwest::Method;
use serde_json::Value;

/// The keys of a path item that are operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_the_api() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let center = crate::common::center::start(None).await;
    let anon = Client::new(&center.url, Trust::Thumbprint(center.thumbprint.clone())).unwrap();
    let doc: Value = anon
        .call::<(), Value>(Method::GET, "/api/openapi.json", None)
        .await
        .unwrap();

    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Hierro center API");
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/vms", &["get", "post"][..]),
        ("/api/vms/{vm}/power/{op}", &["post"]),
        ("/api/hosts", &["post"]),
        ("/api/hosts/{id}/reconnect", &["post"]),
        ("/api/effective", &["get"]),
        ("/api/tokens", &["get", "post"]),
        ("/api/events/stream", &["get"]),
    ] {
        for method in methods {
            assert!(
                paths.get(path).and_then(|p| p.get(method)).is_some(),
                "{method} {path} is not in the document"
            );
        }
    }
    assert_eq!(
        doc["paths"]["/api/vms"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/VmCreate"
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in ["VmCreate", "Task", "Event", "Object", "ErrorBody"] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    let mut refs = vec![];
    references(&doc, &mut refs);
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/");
        assert!(
            name.is_some_and(|n| schemas.contains_key(n)),
            "{r} points nowhere"
        );
    }

    // The session: a header, required by all operations but the public ones.
    let scheme = &doc["components"]["securitySchemes"]["session"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], hierro_api::SESSION_HEADER);
    let public = BTreeSet::from([
        ("get", "/api/about"),
        ("get", "/api/health"),
        ("post", "/api/session"),
        ("get", "/api/openapi.json"),
    ]);
    for (method, path) in &public {
        assert!(
            paths[*path][*method].is_object(),
            "{method} {path} is missing"
        );
    }
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let needs_session = op["security"]
                .as_array()
                .is_some_and(|reqs| reqs.iter().any(|r| r.get("session").is_some()));
            assert_eq!(
                needs_session,
                !public.contains(&(method.as_str(), path.as_str())),
                "{method} {path}: security {}",
                op["security"]
            );
            let id = op["operationId"].as_str().unwrap();
            assert!(operation_ids.insert(id), "operationId {id} twice");
        }
    }

    let disconnect = doc["paths"]["/api/hosts/{id}/disconnect"]["post"]["description"]
        .as_str()
        .unwrap();
    assert!(
        disconnect.contains("Privilege: Host.Config.Connection on the host."),
        "{disconnect}"
    );
}

/// Every `$ref` in the document.
fn references<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}
