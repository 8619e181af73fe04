//! The host agent's OpenAPI document, as a client without a session gets it
//! from a real host: the routes are there with their methods and bodies,
//! and the host routes them all (see `common::openapi`).

use hierro_client::{Client, Trust};

use crate::common::openapi::fetch_and_check;
use crate::common::TestLab;

#[tokio::test(flavor = "multi_thread")]
async fn the_host_openapi_document_describes_the_api() {
    let t = TestLab::without_center(27, 1, 0).await;
    let host = &t.lab.hosts[0];
    let anon = Client::new(&host.url, Trust::Thumbprint(host.thumbprint.clone())).unwrap();
    let doc = fetch_and_check(
        &anon,
        "Hierro host API",
        &[
            ("get", "/api/about"),
            ("post", "/api/session"),
            ("get", "/api/openapi.json"),
            // Opened with a one-time console ticket, not the session.
            ("get", "/api/vms/{vm}/vnc"),
        ],
        "host.json",
    )
    .await;
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/vms", &["get", "post"][..]),
        ("/api/vms/{vm}", &["get", "patch", "delete"]),
        ("/api/vms/{vm}/power/{op}", &["post"]),
        ("/api/vms/{vm}/console", &["get"]),
        ("/api/migrations/incoming", &["post"]),
        ("/api/network/portgroups/{name}", &["put", "delete"]),
        ("/api/network/capture", &["post"]),
        ("/api/updates", &["get"]),
        ("/api/tasks/{id}/cancel", &["post"]),
    ] {
        for method in methods {
            assert!(
                paths.get(path).and_then(|p| p.get(method)).is_some(),
                "{method} {path} is not in the document"
            );
        }
    }
    let body = |path: &str, method: &str| {
        doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .clone()
    };
    assert_eq!(body("/api/vms", "post"), "#/components/schemas/VmCreate");
    assert_eq!(
        body("/api/network/vmknics", "post"),
        "#/components/schemas/VmkNic"
    );
    let power_op = &doc["paths"]["/api/vms/{vm}/power/{op}"]["post"]["parameters"][1];
    assert_eq!(power_op["name"], "op");
    assert_eq!(power_op["schema"]["$ref"], "#/components/schemas/PowerOp");
    let events: Vec<&str> = doc["paths"]["/api/events"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["since", "target", "kind", "limit"]);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "HostNetwork",
        "VmInfo",
        "Task",
        "Event",
        "ErrorBody",
        "PerfSamples",
    ] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
}
