//! The center's OpenAPI document, as a client without a session gets it
//! from a real center: the routes are there with their methods and bodies,
//! the center routes them all, and the descriptions name the privileges
//! (the checks every document passes are in `common::openapi`).

use hierro_client::{Client, Trust};

use crate::common::openapi::fetch_and_check;

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_the_api() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let center = crate::common::center::start(None).await;
    let anon = Client::new(&center.url, Trust::Thumbprint(center.thumbprint.clone())).unwrap();
    let doc = fetch_and_check(
        &anon,
        "Hierro center API",
        &[
            ("get", "/api/about"),
            ("get", "/api/health"),
            ("post", "/api/session"),
            ("get", "/api/openapi.json"),
            // Opened with a one-time console ticket, not the session.
            ("get", "/api/vms/{vm}/vnc"),
        ],
        "center.json",
    )
    .await;
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

    let disconnect = doc["paths"]["/api/hosts/{id}/disconnect"]["post"]["description"]
        .as_str()
        .unwrap();
    assert!(
        disconnect.contains("Privilege: Host.Config.Connection on the host."),
        "{disconnect}"
    );
}
