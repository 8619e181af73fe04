//! Adding a real lab host to a center: the thumbprint must be confirmed,
//! wrong ones and wrong credentials are refused, and the host's VMs appear
//! in the inventory.

mod common;

use common::center::{call, login, start, status};
use common::TestLab;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn add_a_host_with_its_thumbprint() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::up(21, 1, 1).await;
    let host = &t.lab.hosts[0];
    let center = start(None).await;
    let admin = login(&center, "administrator", "admin password").await;
    let mk = |kind: &str, name: &str, parent: &str| json!({"kind": kind, "name": name, "parent": parent});
    let dc = call(
        &admin,
        Method::POST,
        "/api/inventory",
        mk("datacenter", "DC", "root"),
    )
    .await
    .unwrap();
    let cluster = call(
        &admin,
        Method::POST,
        "/api/inventory",
        mk("cluster", "Cluster", dc["id"].as_str().unwrap()),
    )
    .await
    .unwrap();
    let cluster = cluster["id"].as_str().unwrap();
    let address = host.ip.to_string();
    let add = |thumbprint: Value, password: &str| json!({"address": address, "username": t.lab.user, "password": password, "thumbprint": thumbprint, "parent": cluster});

    // Without a thumbprint: refused, and the answer says what the host shows.
    let e = call(
        &admin,
        Method::POST,
        "/api/hosts",
        add(Value::Null, &t.lab.password),
    )
    .await
    .unwrap_err();
    match &e {
        hierro_client::ClientError::Api { info, .. } => {
            assert_eq!(info.code, "thumbprint_required");
            assert_eq!(info.details["thumbprint"], json!(host.thumbprint));
        }
        other => panic!("{other}"),
    }
    // A thumbprint that is not the host's: refused, not accepted silently.
    let wrong = "AA:".repeat(31) + "AA";
    let e = call(
        &admin,
        Method::POST,
        "/api/hosts",
        add(json!(wrong), &t.lab.password),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("thumbprint_mismatch"), "{e}");
    // Wrong credentials: refused.
    let e = call(
        &admin,
        Method::POST,
        "/api/hosts",
        add(json!(host.thumbprint), "wrong password"),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("bad_credentials"), "{e}");
    assert!(
        call(&admin, Method::GET, "/api/inventory?kind=host", Value::Null)
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Confirmed: the host joins the cluster, its VM appears.
    let added = call(
        &admin,
        Method::POST,
        "/api/hosts",
        add(json!(host.thumbprint), &t.lab.password),
    )
    .await
    .unwrap();
    assert_eq!(added["kind"], "host");
    assert_eq!(added["data"]["state"], "connected");
    let vms = call(&admin, Method::GET, "/api/inventory?kind=vm", Value::Null)
        .await
        .unwrap();
    let vm = &vms.as_array().unwrap()[0];
    assert_eq!(vm["name"], json!(host.vms[0].name));
    assert_eq!(vm["data"]["power_state"], "poweredOn");
    // Adding it twice is a conflict.
    assert_eq!(
        status(
            call(
                &admin,
                Method::POST,
                "/api/hosts",
                add(json!(host.thumbprint), &t.lab.password)
            )
            .await
        ),
        409
    );
    // The center's credential on the host is a service token, not the admin
    // password: the host's events show it was made.
    let c = t.client(0).await;
    assert!(c
        .events(None, None)
        .await
        .unwrap()
        .iter()
        .any(|e| e.kind == "ServiceTokenCreatedEvent"));
}
