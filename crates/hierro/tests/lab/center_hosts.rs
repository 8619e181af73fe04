//! A real lab host managed by a center, on SQLite and then on PostgreSQL:
//! adding it (thumbprint confirmed, wrong ones and wrong credentials
//! refused), the certificate the center's CA issues it, lockdown with its
//! break-glass account, the inventory following the host's change feed,
//! a host that dies and comes back, a user's disconnect and reconnect, a
//! certificate that changes (refused until confirmed), and removal.

use crate::common::center::{call, create, login, start, status, wait_for, Center};
use crate::common::{kill_agent, TestLab, HIERRO};
use hierro_api::{PortGroup, PowerOp};
use hierro_client::{Client, ClientError, Trust};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn a_host_managed_by_a_center_on_sqlite_and_postgresql() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pg_server = std::env::var("HIERRO_TEST_POSTGRES")
        .expect("HIERRO_TEST_POSTGRES is not set: scripts/test.sh starts PostgreSQL");
    let pg_url = hierro_center::db::Db::create_database(&pg_server, "hierro_center_hosts")
        .await
        .unwrap();
    let mut t = TestLab::without_center(21, 1, 1).await;
    for database in [None, Some(pg_url)] {
        let center = start(database).await;
        manage(&mut t, &center).await;
    }
    let _ = hierro_center::db::Db::drop_database(&pg_server, "hierro_center_hosts").await;
}

fn code(e: &ClientError) -> &str {
    match e {
        ClientError::Api { info, .. } => info.code.as_str(),
        _ => "",
    }
}

/// The inventory object of `kind` named `name`, if the center shows one.
fn named<'a>(objects: &'a Value, name: &str) -> Option<&'a Value> {
    objects.as_array()?.iter().find(|o| o["name"] == name)
}

async fn host_login(t: &TestLab, user: &str) -> Result<Client, ClientError> {
    let h = &t.lab.hosts[0];
    let mut c = Client::new(&h.url, Trust::Thumbprint(h.thumbprint.clone()))?;
    c.login(user, &t.lab.password).await?;
    Ok(c)
}

async fn manage(t: &mut TestLab, center: &Center) {
    let admin = login(center, "administrator", "admin password").await;
    let dc = create(&admin, "datacenter", "DC", "root").await;
    let cluster = create(&admin, "cluster", "Cluster", &dc).await;
    let presented = t.lab.hosts[0].thumbprint.clone();
    let address = t.lab.hosts[0].ip.to_string();
    let (user, password) = (t.lab.user.clone(), t.lab.password.clone());
    let add = |thumbprint: Value, password: &str| json!({"address": address, "username": user, "password": password, "thumbprint": thumbprint, "parent": cluster, "lockdown": true});

    // Without a thumbprint: refused, and the answer says what the host shows.
    let e = call(
        &admin,
        Method::POST,
        "/api/hosts",
        add(Value::Null, &password),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "thumbprint_required");
    let ClientError::Api { info, .. } = &e else {
        unreachable!()
    };
    assert_eq!(info.details["thumbprint"], json!(presented));
    // A thumbprint that is not the host's: refused, not accepted silently.
    let wrong = "AA:".repeat(31) + "AA";
    let e = call(
        &admin,
        Method::POST,
        "/api/hosts",
        add(json!(wrong), &password),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "thumbprint_mismatch", "{e}");
    let e = call(
        &admin,
        Method::POST,
        "/api/hosts",
        add(json!(presented), "wrong"),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "bad_credentials", "{e}");
    let hosts = call(&admin, Method::GET, "/api/inventory?kind=host", Value::Null)
        .await
        .unwrap();
    assert!(hosts.as_array().unwrap().is_empty());

    // Confirmed: the host joins the cluster with a certificate from the
    // center's CA (a new thumbprint, now the pin), in lockdown mode.
    let added = call(
        &admin,
        Method::POST,
        "/api/hosts",
        add(json!(presented), &password),
    )
    .await
    .unwrap();
    let id = added["id"].as_str().unwrap().to_string();
    assert_eq!(added["data"]["state"], "connected");
    let pin = added["data"]["thumbprint"].as_str().unwrap().to_string();
    assert_ne!(pin, presented);
    assert_eq!(
        hierro_client::fetch_thumbprint(&address).await.unwrap(),
        pin
    );
    t.lab.hosts[0].thumbprint = pin.clone();
    assert_eq!(
        status(
            call(
                &admin,
                Method::POST,
                "/api/hosts",
                add(json!(pin), &password)
            )
            .await
        ),
        409,
        "adding it twice"
    );

    // Lockdown: the host's own admin is refused, the break-glass account is not.
    let e = host_login(t, &t.lab.user).await.err().expect("lockdown");
    assert_eq!(code(&e), "lockdown", "{e}");
    let bg = host_login(t, hierro_lab::BREAK_GLASS_USER).await.unwrap();
    bg.host().await.unwrap();

    // What the host has is in the inventory: its VM, the shared datastore,
    // its port groups.
    let vm_name = t.lab.hosts[0].vms[0].name.clone();
    let vms = call(&admin, Method::GET, "/api/inventory?kind=vm", Value::Null)
        .await
        .unwrap();
    let vm = named(&vms, &vm_name).expect("the lab VM");
    assert_eq!(vm["data"]["power_state"], "poweredOn");
    assert_eq!(vm["data"]["host"], json!(id));
    let stores = call(
        &admin,
        Method::GET,
        "/api/inventory?kind=datastore",
        Value::Null,
    )
    .await
    .unwrap();
    assert!(
        named(&stores, hierro_lab::DATASTORE).unwrap()["data"]["hosts"][&id]["path"].is_string()
    );
    let nets = call(
        &admin,
        Method::GET,
        "/api/inventory?kind=network",
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(
        named(&nets, "VLAN 101").unwrap()["data"]["hosts"][&id]["vlan"],
        101
    );

    // Changes on the host reach the center by themselves.
    bg.run(bg.power(&vm_name, PowerOp::Off).await)
        .await
        .unwrap();
    wait_for(
        &admin,
        "/api/inventory?kind=vm",
        "the VM powered off",
        |v| named(v, &vm_name).is_some_and(|o| o["data"]["power_state"] == "poweredOff"),
    )
    .await;
    let mut spec = t.lab.vm_spec("extra", t.lab.vm_ip(99), 128);
    spec.nics.clear();
    bg.run(bg.create_vm(&spec).await).await.unwrap();
    wait_for(&admin, "/api/inventory?kind=vm", "the new VM", |v| {
        named(v, "extra").is_some()
    })
    .await;
    bg.run(bg.delete_vm("extra").await).await.unwrap();
    bg.add_portgroup(&PortGroup {
        teaming: Default::default(),
        name: "Sync Test".into(),
        vswitch: "vSwitch0".into(),
        vlan: 42,
        security: Default::default(),
    })
    .await
    .unwrap();
    wait_for(
        &admin,
        "/api/inventory?kind=vm",
        "the deleted VM gone",
        |v| named(v, "extra").is_none(),
    )
    .await;
    wait_for(
        &admin,
        "/api/inventory?kind=network",
        "the new port group",
        |v| named(v, "Sync Test").is_some_and(|o| o["data"]["hosts"][&id]["vlan"] == 42),
    )
    .await;
    bg.remove_portgroup("Sync Test").await.unwrap();
    wait_for(
        &admin,
        "/api/inventory?kind=network",
        "the port group gone",
        |v| named(v, "Sync Test").is_none(),
    )
    .await;

    // The host agent dies: disconnected; it comes back: connected, by itself.
    kill_agent(&t.lab, 0);
    let path = format!("/api/inventory/{id}");
    wait_for(&admin, &path, "the host disconnected", |h| {
        h["data"]["state"] == "disconnected"
    })
    .await;
    t.lab.restart_agent(0, HIERRO.as_ref()).await.unwrap();
    wait_for(&admin, &path, "the host connected again", |h| {
        h["data"]["state"] == "connected"
    })
    .await;
    let events = call(
        &admin,
        Method::GET,
        &format!("/api/events?target={id}"),
        Value::Null,
    )
    .await
    .unwrap();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"HostConnectionLostEvent"), "{kinds:?}");
    assert!(kinds.contains(&"HostReconnectedEvent"), "{kinds:?}");

    // A user disconnects the host: the center stops following it; on
    // reconnect it catches up with what changed meanwhile.
    call(
        &admin,
        Method::POST,
        &format!("/api/hosts/{id}/disconnect"),
        Value::Null,
    )
    .await
    .unwrap();
    let h = call(&admin, Method::GET, &path, Value::Null).await.unwrap();
    assert_eq!(h["data"]["state"], "disconnected");
    assert_eq!(h["data"]["state_reason"], "disconnected by administrator");
    let bg = host_login(t, hierro_lab::BREAK_GLASS_USER).await.unwrap();
    bg.run(bg.power(&vm_name, PowerOp::On).await).await.unwrap();
    call(
        &admin,
        Method::POST,
        &format!("/api/hosts/{id}/reconnect"),
        json!({}),
    )
    .await
    .unwrap();
    wait_for(
        &admin,
        "/api/inventory?kind=vm",
        "the power-on made while disconnected",
        |v| named(v, &vm_name).is_some_and(|o| o["data"]["power_state"] == "poweredOn"),
    )
    .await;
    wait_for(&admin, &path, "the host connected again", |h| {
        h["data"]["state"] == "connected"
    })
    .await;

    // Lockdown off through the center: the host's admin may log in again.
    call(
        &admin,
        Method::PUT,
        &format!("/api/hosts/{id}/lockdown"),
        json!({"enabled": false}),
    )
    .await
    .unwrap();
    host_login(t, &t.lab.user).await.unwrap();
    wait_for(&admin, &path, "lockdown off in the inventory", |h| {
        h["data"]["lockdown"] == false
    })
    .await;

    // The host's certificate changes (here: remade): the center refuses the
    // new one until a user confirms it.
    kill_agent(&t.lab, 0);
    let data = t.lab.hosts[0].config.parent().unwrap().join("data");
    std::fs::remove_file(data.join("host.crt")).unwrap();
    std::fs::remove_file(data.join("host.key")).unwrap();
    t.lab.restart_agent(0, HIERRO.as_ref()).await.unwrap();
    let remade = t.lab.hosts[0].thumbprint.clone();
    assert_ne!(remade, pin);
    let h = wait_for(&admin, &path, "the new certificate refused", |h| {
        h["data"]["state"] == "disconnected"
            && h["data"]["state_reason"]
                .as_str()
                .is_some_and(|r| r.contains(&remade))
    })
    .await;
    assert_eq!(h["data"]["thumbprint"], json!(pin));
    let e = call(
        &admin,
        Method::POST,
        &format!("/api/hosts/{id}/reconnect"),
        json!({}),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "thumbprint_mismatch", "{e}");
    call(
        &admin,
        Method::POST,
        &format!("/api/hosts/{id}/reconnect"),
        json!({"thumbprint": remade}),
    )
    .await
    .unwrap();
    wait_for(
        &admin,
        &path,
        "the host connected with its new certificate",
        |h| h["data"]["state"] == "connected" && h["data"]["thumbprint"] == json!(remade),
    )
    .await;

    // Removed: the host and what it reported leave the inventory, and the
    // center's token on the host is withdrawn.
    call(
        &admin,
        Method::DELETE,
        &format!("/api/hosts/{id}"),
        Value::Null,
    )
    .await
    .unwrap();
    for kind in ["host", "vm", "datastore", "network"] {
        let left = call(
            &admin,
            Method::GET,
            &format!("/api/inventory?kind={kind}"),
            Value::Null,
        )
        .await
        .unwrap();
        assert!(left.as_array().unwrap().is_empty(), "{kind}: {left}");
    }
    let direct = t.client(0).await;
    let revoked = direct
        .events(None, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "ServiceTokenRevokedEvent")
        .count();
    assert!(revoked >= 1);

    // One center at a time: while another center manages the host, adding
    // it is refused unless forced; forced, it moves and the other loses it.
    let other = start(None).await;
    let other_admin = login(&other, "administrator", "admin password").await;
    let other_dc = create(&other_admin, "datacenter", "DC", "root").await;
    let fresh = |force: bool| {
        let address = address.clone();
        let (user, password) = (user.clone(), password.clone());
        async move {
            let thumbprint = hierro_client::fetch_thumbprint(&address).await.unwrap();
            json!({"address": address, "username": user, "password": password, "thumbprint": thumbprint, "force": force})
        }
    };
    let mut body = fresh(false).await;
    body["parent"] = json!(other_dc);
    let taken = call(&other_admin, Method::POST, "/api/hosts", body)
        .await
        .unwrap();
    let mut body = fresh(false).await;
    body["parent"] = json!(cluster);
    let e = call(&admin, Method::POST, "/api/hosts", body)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "managed_elsewhere", "{e}");
    let mut body = fresh(true).await;
    body["parent"] = json!(cluster);
    let back = call(&admin, Method::POST, "/api/hosts", body)
        .await
        .unwrap();
    let lost = format!("/api/inventory/{}", taken["id"].as_str().unwrap());
    wait_for(
        &other_admin,
        &lost,
        "the other center losing the host",
        |h| h["data"]["state"] == "disconnected",
    )
    .await;
    // Let it go for the next round.
    let back = format!("/api/hosts/{}", back["id"].as_str().unwrap());
    call(&admin, Method::DELETE, &back, Value::Null)
        .await
        .unwrap();
    t.lab.hosts[0].thumbprint = hierro_client::fetch_thumbprint(&address).await.unwrap();
}

/// Certificates last two years, not decades, and the center renews those
/// it issued its hosts before they end. A renewal threshold past two years
/// makes every host certificate due at once: the host presents a new one,
/// the center pins it and still reaches the host, and says so in an event.
#[tokio::test(flavor = "multi_thread")]
async fn certificates_last_two_years_and_the_center_renews_its_hosts() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::without_center(31, 1, 0).await;
    let center = crate::common::center::start_with(None, |c| {
        c.certificate_check_secs = 2;
        c.certificate_renew_days = 1000;
    })
    .await;
    let days_left = |der: &[u8]| {
        let ends = hierro_http::tls::expiry_of_der(der).unwrap();
        (ends - chrono::Utc::now()).num_days()
    };
    let (_, der) = hierro_client::fetch_certificate(&center.url).await.unwrap();
    assert!(
        (729..=730).contains(&days_left(&der)),
        "the center's: {}",
        days_left(&der)
    );
    let address = t.lab.hosts[0].ip.to_string();
    let (presented, der) = hierro_client::fetch_certificate(&address).await.unwrap();
    assert!(
        (729..=730).contains(&days_left(&der)),
        "the host's: {}",
        days_left(&der)
    );

    let admin = login(&center, "administrator", "admin password").await;
    let dc = create(&admin, "datacenter", "DC", "root").await;
    let added = call(
        &admin,
        Method::POST,
        "/api/hosts",
        json!({"address": address, "username": t.lab.user, "password": t.lab.password,
               "thumbprint": presented, "parent": dc}),
    )
    .await
    .unwrap();
    let id = added["id"].as_str().unwrap().to_string();
    let issued = added["data"]["thumbprint"].as_str().unwrap().to_string();
    let path = format!("/api/events?target={id}");
    wait_for(&admin, &path, "a renewal event", |events| {
        events.as_array().unwrap().iter().any(|e| {
            e["kind"] == "HostCertificateReplacedEvent"
                && e["message"].as_str().unwrap().contains("Renewed")
        })
    })
    .await;
    let (now, der) = hierro_client::fetch_certificate(&address).await.unwrap();
    assert_ne!(
        now, issued,
        "the host still presents the certificate issued when it was added"
    );
    assert!((729..=730).contains(&days_left(&der)));
    // The center reaches the host with the new pin (renewals go on, each
    // pinned as it is made).
    wait_for(
        &admin,
        &format!("/api/hosts/{id}/network"),
        "the host's network through the center",
        |n| n["network"]["vswitch"].is_array(),
    )
    .await;
    wait_for(
        &admin,
        &format!("/api/inventory/{id}"),
        "the host connected",
        |h| h["data"]["state"] == "connected",
    )
    .await;
}
