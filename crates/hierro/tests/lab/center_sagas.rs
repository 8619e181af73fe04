//! Every step of the center's multi-step operations fails in turn, and each
//! time nothing is left half-done: vMotion and cold migration (the VM on
//! its source host only, holding its lease, the inventory saying so, the
//! guest still answering), entering maintenance mode (the host out of the
//! mode again, each VM on one host), creating a VM (no VM, folder or
//! inventory object left), a host joining a distributed switch (the host
//! without it, the switch without the member), and adding a host (no host
//! in the center, no service token or lockdown on the host). Then each
//! succeeds.

use std::time::Duration;

use hierro_api::{
    AddHost, DistributedSwitch, DvsMember, InventoryQuery, ObjectKind, PowerOp, PowerState,
    VmMigrate,
};
use hierro_client::{Client, Trust};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::center::call;
use crate::common::saga::{fail_each_step, settles};
use crate::common::{Counter, TestLab};

struct World {
    t: TestLab,
    center: Client,
    /// The hosts' inventory ids.
    ids: Vec<String>,
}

impl World {
    async fn direct(&self, host: usize) -> Client {
        self.t.lab.client(&self.t.lab.hosts[host]).await.unwrap()
    }

    /// What is wrong, if anything, with `name` being registered on host
    /// `on` alone, in `power` state, the inventory agreeing, and (running)
    /// its folder's lease held by that host.
    async fn only_on(&self, name: &str, on: usize, power: PowerState) -> Option<String> {
        let mut hosts = vec![];
        for i in 0..self.ids.len() {
            if let Ok(info) = self.direct(i).await.vm(name).await {
                hosts.push((i, info.power_state));
            }
        }
        if hosts != [(on, power)] {
            return Some(format!(
                "{name} is on hosts {hosts:?}, not only on {on} ({power})"
            ));
        }
        let objects = self.objects(name).await;
        if objects.len() != 1 || objects[0]["data"]["host"] != self.ids[on].as_str() {
            return Some(format!("the inventory has {name} as {objects:?}"));
        }
        if power == PowerState::PoweredOn {
            let folder = self.t.lab.datastore_dir.join(name);
            let holder = hierro_host::vm::lease::holder(&folder);
            if holder.as_deref() != Some(self.t.lab.hosts[on].name.as_str()) {
                return Some(format!("{name}'s lease is held by {holder:?}"));
            }
        }
        None
    }

    /// The inventory's VMs named exactly `name`.
    async fn objects(&self, name: &str) -> Vec<Value> {
        let path = format!("/api/inventory?kind=vm&name={name}");
        let found = call(&self.center, Method::GET, &path, Value::Null)
            .await
            .unwrap();
        let all = found.as_array().cloned().unwrap_or_default();
        all.into_iter().filter(|o| o["name"] == name).collect()
    }

    async fn migrate(&self, name: &str, to: usize) {
        let to = VmMigrate::to(&self.ids[to]);
        let task = self.center.migrate_to(name, &to).await.unwrap();
        self.center.wait(&task, |_| {}).await.unwrap();
    }

    async fn in_maintenance(&self, host: usize) -> bool {
        let path = format!("/api/inventory/{}", self.ids[host]);
        let host = call(&self.center, Method::GET, &path, Value::Null).await;
        host.unwrap()["data"]["maintenance"] == true
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_step_that_fails_is_undone() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::with_fault_injection(29, 2, 1).await;
    let center = hierro_lab::center::client(&t.lab).await.unwrap();
    let ids = hierro_lab::center::host_ids(&t.lab).await.unwrap();
    let w = World { t, center, ids };
    let a = w.t.lab.hosts[0].vms[0].clone();
    let b = w.t.lab.hosts[1].vms[0].clone();
    let mut counter = Counter::connect_within(a.ip, Duration::from_secs(120)).unwrap();
    counter.read().unwrap();

    // vMotion of A from h1 to h2: it stays on h1, running, reachable.
    let steps = fail_each_step(
        &w.center,
        "vMotion",
        |c| {
            let to = VmMigrate::to(&w.ids[1]);
            let name = a.name.clone();
            async move { c.migrate_to(&name, &to).await.map(Some) }
        },
        |n| {
            let (w, name) = (&w, a.name.clone());
            async move {
                let what = format!("vMotion undone after step {n}");
                settles(&what, || w.only_on(&name, 0, PowerState::PoweredOn)).await;
            }
        },
    )
    .await;
    assert_eq!(steps, 5, "reserve, prepare, send, switch over, record");
    settles("vMotion done", || {
        w.only_on(&a.name, 1, PowerState::PoweredOn)
    })
    .await;
    assert!(
        counter.read().unwrap() < counter.read().unwrap(),
        "A's TCP connection survived five undone moves and one real one"
    );

    // Cold migration of B (powered off) from h2 to h1: it stays on h2.
    w.center
        .run(w.center.power(&b.name, PowerOp::Off).await)
        .await
        .unwrap();
    let steps = fail_each_step(
        &w.center,
        "cold migration",
        |c| {
            let to = VmMigrate::to(&w.ids[0]);
            let name = b.name.clone();
            async move { c.migrate_to(&name, &to).await.map(Some) }
        },
        |n| {
            let (w, name) = (&w, b.name.clone());
            async move {
                let what = format!("cold migration undone after step {n}");
                settles(&what, || w.only_on(&name, 1, PowerState::PoweredOff)).await;
            }
        },
    )
    .await;
    assert_eq!(steps, 4, "reserve, register, unregister, record");
    settles("cold migration done", || {
        w.only_on(&b.name, 0, PowerState::PoweredOff)
    })
    .await;

    // Maintenance mode of h2, which runs A and has B (moved back): step 1
    // marks h2, 2 moves A, 3 moves B, 4 checks. Undone, h2 is out of the
    // mode; the VMs moved before the failing step stay on h1 (as in
    // vSphere), the others on h2; each goes back to h2 for the next round.
    w.migrate(&b.name, 1).await;
    let enter = json!({"enabled": true, "move_powered_off": true});
    let path = format!("/api/hosts/{}/maintenance", w.ids[1]);
    let vms = [
        (a.name.clone(), PowerState::PoweredOn),
        (b.name.clone(), PowerState::PoweredOff),
    ];
    let steps = fail_each_step(
        &w.center,
        "maintenance mode",
        |c| {
            let (path, enter) = (path.clone(), enter.clone());
            async move {
                let task = call(&c, Method::PUT, &path, enter).await?;
                Ok(Some(serde_json::from_value(task).unwrap()))
            }
        },
        |n| {
            let (w, vms) = (&w, vms.clone());
            async move {
                assert!(
                    !w.in_maintenance(1).await,
                    "h2 left the mode after step {n}"
                );
                let moved = n.saturating_sub(2).min(vms.len());
                for (i, (name, power)) in vms.iter().enumerate() {
                    let on = if i < moved { 0 } else { 1 };
                    let what = format!("{name} after maintenance mode failed at step {n}");
                    settles(&what, || w.only_on(name, on, *power)).await;
                    if on == 0 {
                        w.migrate(name, 1).await;
                    }
                }
            }
        },
    )
    .await;
    assert_eq!(steps, 4, "enter, move A, move B, check");
    assert!(w.in_maintenance(1).await);
    settles("A evacuated", || {
        w.only_on(&a.name, 0, PowerState::PoweredOn)
    })
    .await;
    settles("B evacuated", || {
        w.only_on(&b.name, 0, PowerState::PoweredOff)
    })
    .await;
    assert!(counter.read().unwrap() < counter.read().unwrap());
    let exit = json!({"enabled": false});
    let task = call(&w.center, Method::PUT, &path, exit).await.unwrap();
    let task = serde_json::from_value(task).unwrap();
    w.center.wait(&task, |_| {}).await.unwrap();

    // Creating a VM on h2: no VM, folder or inventory object is left.
    let spec = w.t.lab.vm_spec("made", w.t.lab.vm_ip(40), 128);
    let folder = w.t.lab.datastore_dir.join("made");
    let steps = fail_each_step(
        &w.center,
        "create",
        |c| {
            let (spec, on) = (spec.clone(), w.ids[1].clone());
            async move { c.create_vm_placed(&spec, &on, None).await.map(Some) }
        },
        |n| {
            let (w, folder) = (&w, folder.clone());
            async move {
                settles(&format!("create undone after step {n}"), || async {
                    for i in 0..2 {
                        if w.direct(i).await.vm("made").await.is_ok() {
                            return Some(format!("host {i} has the VM"));
                        }
                    }
                    if folder.exists() {
                        return Some(format!("{} is left", folder.display()));
                    }
                    let objects = w.objects("made").await;
                    (!objects.is_empty()).then(|| format!("the inventory has {objects:?}"))
                })
                .await;
            }
        },
    )
    .await;
    assert_eq!(steps, 3, "start, make, record");
    settles("created", || w.only_on("made", 1, PowerState::PoweredOff)).await;

    // A host joining a distributed switch: the center stores it, then h1
    // runs it. Undone, h1 has no distributed switch and the switch no
    // member.
    let lab_dc = hierro_lab::center::datacenter_id(&w.t.lab).await.unwrap();
    let spec: DistributedSwitch = serde_json::from_value(json!({"name": "dvs-saga"})).unwrap();
    let dvs = w.center.create_dvswitch(&lab_dc, &spec).await.unwrap();
    let member = DvsMember {
        nics: [("Uplink 1".to_string(), "eth2".to_string())].into(),
    };
    let steps = fail_each_step(
        &w.center,
        "join a distributed switch",
        |c| {
            let (dvs, h1, member) = (dvs.id.clone(), w.ids[0].clone(), member.clone());
            async move {
                c.dvswitch_add_host(&dvs, &h1, &member).await?;
                Ok(None)
            }
        },
        |n| {
            let (w, dvs) = (&w, dvs.id.clone());
            async move {
                let net = w.direct(0).await.network().await.unwrap();
                assert!(
                    net.distributed.is_empty(),
                    "h1 runs the switch after step {n}"
                );
                let now = w.center.inventory_object(&dvs).await.unwrap().object;
                assert_eq!(now.data["members"], json!({}), "after step {n}");
            }
        },
    )
    .await;
    assert_eq!(steps, 2, "store the switch, give h1 its switches");
    let net = w.direct(0).await.network().await.unwrap();
    assert_eq!(net.distributed.len(), 1, "h1 runs the switch");

    // Adding a host (h2, taken out of the center first), in lockdown mode.
    // Undone, the center has no such host, and h2 holds no service token
    // and lets its own accounts in (not in lockdown). Each attempt confirms
    // the thumbprint h2 presents then: a certificate the center issued
    // stays.
    w.center.remove_host(&w.ids[1]).await.unwrap();
    let h2 = w.t.lab.hosts[1].clone();
    let cluster = hierro_lab::center::cluster_id(&w.t.lab).await.unwrap();
    let (user, password) = (w.t.lab.user.clone(), w.t.lab.password.clone());
    let steps = fail_each_step(
        &w.center,
        "add a host",
        |c| {
            let add = AddHost {
                address: h2.ip.to_string(),
                username: user.clone(),
                password: password.clone(),
                thumbprint: None,
                parent: cluster.clone(),
                lockdown: true,
                force: false,
            };
            async move {
                let presented = hierro_client::fetch_thumbprint(&add.address).await?;
                let add = AddHost {
                    thumbprint: Some(presented),
                    ..add
                };
                c.add_host(&add).await?;
                Ok(None)
            }
        },
        |n| {
            let (w, h2) = (&w, h2.clone());
            let (user, password) = (user.clone(), password.clone());
            async move {
                let q = InventoryQuery {
                    kind: Some(ObjectKind::Host),
                    name: None,
                };
                let hosts = w.center.inventory(&q).await.unwrap();
                assert!(
                    hosts.iter().all(|o| o.name != h2.name),
                    "h2 is in the center after step {n}"
                );
                let presented = hierro_client::fetch_thumbprint(&h2.url).await.unwrap();
                let mut own = Client::new(&h2.url, Trust::Thumbprint(presented)).unwrap();
                own.login(&user, &password)
                    .await
                    .unwrap_or_else(|e| panic!("h2 refuses its own account after step {n}: {e}"));
                let info = own.host().await.unwrap();
                assert!(!info.managed, "h2 holds a service token after step {n}");
            }
        },
    )
    .await;
    assert_eq!(
        steps, 6,
        "check, token, certificate, lockdown, record, follow"
    );
    let presented = hierro_client::fetch_thumbprint(&h2.url).await.unwrap();
    let mut own = Client::new(&h2.url, Trust::Thumbprint(presented)).unwrap();
    assert!(
        own.login(&user, &password).await.is_err(),
        "h2 is in lockdown"
    );
    settles("h2 followed again", || async {
        let q = InventoryQuery {
            kind: Some(ObjectKind::Host),
            name: None,
        };
        let hosts = w.center.inventory(&q).await.unwrap();
        let h = hosts.iter().find(|o| o.name == h2.name);
        match h {
            Some(h) if h.data["state"] == "connected" => None,
            other => Some(format!("h2 is {other:?}")),
        }
    })
    .await;
}
