//! Checks of an OpenAPI document as a server serves it (the center's and
//! the host's): every reference resolves, every operation has its own id,
//! all but the public ones ask for the session, and the server routes every
//! path the document names.

use std::collections::BTreeSet;

use hierro_client::Client;
use reqwest::Method;
use serde_json::Value;

/// The keys of a path item that are operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Fetches the document without a session and checks it; `public` are the
/// operations that need none; `committed` the file in `openapi/` that must
/// be the same document. Returns the document.
pub async fn fetch_and_check(
    anon: &Client,
    title: &str,
    public: &[(&str, &str)],
    committed: &str,
) -> Value {
    let doc: Value = anon
        .call::<(), Value>(Method::GET, "/api/openapi.json", None)
        .await
        .unwrap();
    let path = format!("{}/../../openapi/{committed}", env!("CARGO_MANIFEST_DIR"));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        doc == file,
        "the served document is not {path}: the committed one is stale"
    );
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], title);

    let schemas = doc["components"]["schemas"].as_object().unwrap();
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
    let public: BTreeSet<(&str, &str)> = public.iter().copied().collect();
    let paths = doc["paths"].as_object().unwrap();
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
            let is_public = public.contains(&(method.as_str(), path.as_str()));
            assert_eq!(
                needs_session, !is_public,
                "{method} {path}: security {}",
                op["security"]
            );
            let id = op["operationId"].as_str().unwrap();
            assert!(operation_ids.insert(id), "operationId {id} twice");

            // The server has the route: without a session it answers 401
            // (the public ones something else), never 404 or 405.
            let concrete = path.replace(['{', '}'], "");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = match anon.call_json(method.clone(), &concrete, None).await {
                Ok(_) => 200,
                Err(e) => e.status().map(|s| s.as_u16()).unwrap_or(0),
            };
            // Logging out names the session to end, but answers 204 for none.
            let logout = method == Method::DELETE && concrete == "/api/session";
            if is_public || logout {
                assert!(
                    ![0, 401, 404, 405].contains(&status),
                    "{method} {concrete}: {status}"
                );
            } else {
                assert_eq!(status, 401, "{method} {concrete} without a session");
            }
        }
    }
    doc
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
