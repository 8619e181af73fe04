//! Performance statistics on SQLite and PostgreSQL alike: samples stored
//! once, complete buckets averaged level by level, old rows dropped.

use std::collections::BTreeMap;

use hierro_api::{PerfInterval, PerfSample, PerfSamples, PerfValues};
use hierro_center::inventory::{self, InventoryObject, ObjectKind, Source, ROOT};
use hierro_center::perf;
use serde_json::json;
use uuid::Uuid;

fn values(cpu: f64) -> PerfValues {
    PerfValues::from([("cpu.usage".to_string(), cpu)])
}

/// A fresh inventory's datacenter, and in it an object of `kind`.
async fn in_datacenter(
    db: &hierro_center::db::Db,
    kind: ObjectKind,
    name: &str,
) -> (InventoryObject, InventoryObject) {
    inventory::ensure_root(db).await.unwrap();
    let dc = inventory::create(db, ObjectKind::Datacenter, "DC1", ROOT, json!({}))
        .await
        .unwrap();
    let o = inventory::create(db, kind, name, &dc.id, json!({}))
        .await
        .unwrap();
    (dc, o)
}

#[tokio::test]
async fn samples_roll_up_on_both_databases() {
    for t in crate::common::both().await {
        let (db, n) = (&t.db, t.name);
        let (dc, host) = in_datacenter(db, ObjectKind::Host, "esx01").await;
        let vm_id = Uuid::new_v4();
        let vm = InventoryObject::new(ObjectKind::Vm, "web1", &dc.id, json!({}));
        let key = format!("vm:{vm_id}");
        let mut conn = db.pool.acquire().await.unwrap();
        let source = Source {
            key: &key,
            host: Some(&host.id),
        };
        inventory::insert(&mut conn, &vm, Some(source))
            .await
            .unwrap();
        drop(conn);

        // A day and ten minutes of 20 s samples: the host's CPU is the
        // minute of the hour, the VM's a constant 10; a VM the inventory
        // does not know is left out.
        let start = 1_800_000_000 / 86400 * 86400;
        let stranger = Uuid::new_v4();
        let samples: Vec<PerfSample> = (0..(86400 + 600) / 20)
            .map(|i| {
                let time = start + i * 20;
                PerfSample {
                    time,
                    host: values((time % 3600 / 60) as f64),
                    vms: BTreeMap::from([(vm_id, values(10.0)), (stranger, values(99.0))]),
                }
            })
            .collect();
        let batch = |s: &[PerfSample]| PerfSamples {
            interval_secs: 20,
            samples: s.to_vec(),
        };
        let now = start + 86400 + 600;
        // Minutes 40-44 of the day's last hour come late (the host was
        // away): the first roll-up goes without them.
        let gap = start + 86400 - 1200..start + 86400 - 900;
        let (late, on_time): (Vec<PerfSample>, Vec<PerfSample>) =
            samples.iter().cloned().partition(|s| gap.contains(&s.time));
        perf::store(db, &host.id, &batch(&on_time)).await.unwrap();
        perf::roll_up(db, now).await.unwrap();
        let at = |s: &hierro_api::PerfSeries, t: i64| {
            s.values["cpu.usage"][s.times.binary_search(&t).unwrap()].unwrap()
        };
        let day = perf::series(db, &host.id, PerfInterval::Day, now)
            .await
            .unwrap();
        assert!(!day.times.contains(&gap.start), "{n}");
        let week = perf::series(db, &host.id, PerfInterval::Week, now)
            .await
            .unwrap();
        // Minutes 30-59 without 40-44: the 5-minute averages 32, 37, 47,
        // 52, 57.
        assert!((at(&week, start + 86400 - 1800) - 45.0).abs() < 1e-9, "{n}");
        // They arrive: their buckets are averaged again, at every level.
        perf::store(db, &host.id, &batch(&late)).await.unwrap();
        // Stored again (a collection that failed to record its progress):
        // nothing doubles.
        perf::store(db, &host.id, &batch(&samples[samples.len() - 5..]))
            .await
            .unwrap();
        perf::roll_up(db, now).await.unwrap();

        // Real-time: the last hour, as sampled.
        let rt = perf::series(db, &host.id, PerfInterval::Realtime, now)
            .await
            .unwrap();
        assert_eq!(rt.step_secs, 20, "{n}");
        assert_eq!(rt.times.len(), 3600 / 20 - 1, "{n}");
        assert_eq!(rt.values["cpu.usage"].last(), Some(&Some(9.0)), "{n}");
        assert!(rt.values["mem.usage"].iter().all(Option::is_none), "{n}");

        // The past day: 5-minute averages of complete buckets; the bucket
        // of minutes 0-4 of an hour averages 0..4 to 2.
        let day = perf::series(db, &host.id, PerfInterval::Day, now)
            .await
            .unwrap();
        assert_eq!(day.step_secs, 300, "{n}");
        assert!(day.times.iter().all(|t| t % 300 == 0), "{n}");
        assert_eq!(*day.times.last().unwrap(), now - 300, "{n}");
        assert!((at(&day, gap.start) - 42.0).abs() < 1e-9, "{n}");
        assert!((at(&day, start + 86400) - 2.0).abs() < 1e-9, "{n}");
        assert!((at(&day, start + 86400 + 300) - 7.0).abs() < 1e-9, "{n}");
        // The VM's series is its own.
        let vm_day = perf::series(db, &vm.id, PerfInterval::Day, now)
            .await
            .unwrap();
        assert!(
            vm_day.values["cpu.usage"].iter().all(|v| *v == Some(10.0)),
            "{n}"
        );

        // 30 minutes from 5-minute averages; 2 hours from those; the one
        // complete day from those.
        let week = perf::series(db, &host.id, PerfInterval::Week, now)
            .await
            .unwrap();
        assert!((at(&week, start) - 14.5).abs() < 1e-9, "{n}");
        assert!((at(&week, start + 1800) - 44.5).abs() < 1e-9, "{n}");
        assert!((at(&week, start + 86400 - 1800) - 44.5).abs() < 1e-9, "{n}");
        let year = perf::series(db, &host.id, PerfInterval::Year, now)
            .await
            .unwrap();
        assert_eq!(year.times, vec![start], "{n}");
        assert!((at(&year, start) - 29.5).abs() < 1e-9, "{n}");

        // Rolling up again adds nothing; later, old rows go.
        perf::roll_up(db, now).await.unwrap();
        let again = perf::series(db, &host.id, PerfInterval::Day, now)
            .await
            .unwrap();
        assert_eq!(again.times, day.times, "{n}");
        perf::roll_up(db, now + 2 * 86400).await.unwrap();
        let later = perf::series(db, &host.id, PerfInterval::Realtime, now + 2 * 86400)
            .await
            .unwrap();
        assert!(later.times.is_empty(), "{n}");
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM perf WHERE level < 2")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(rows, 0, "{n}");

        // A deleted VM takes its statistics with it.
        sqlx::query("DELETE FROM objects WHERE id = $1")
            .bind(&vm.id)
            .execute(&db.pool)
            .await
            .unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM perf WHERE entity = $1")
            .bind(&vm.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(rows, 0, "{n}");
    }
}

#[tokio::test]
async fn a_cluster_is_its_hosts_on_both_databases() {
    for t in crate::common::both().await {
        let (db, n) = (&t.db, t.name);
        let (dc, cluster) = in_datacenter(db, ObjectKind::Cluster, "C1").await;
        let mut hosts = vec![];
        for name in ["esx01", "esx02"] {
            hosts.push(
                inventory::create(db, ObjectKind::Host, name, &cluster.id, json!({}))
                    .await
                    .unwrap(),
            );
        }
        // A host outside the cluster does not count.
        let alone = inventory::create(db, ObjectKind::Host, "esx03", &dc.id, json!({}))
            .await
            .unwrap();
        // Two hosts sampling every 20 s, a few seconds apart: CPU 10 % and
        // 30 %, 1 GiB and 3 GiB used, 100 and 50 KBps received.
        let now = 1_800_000_000 / 60 * 60;
        let sample = |time: i64, cpu: f64, mem: f64, rx: f64| PerfSample {
            time,
            host: PerfValues::from([
                ("cpu.usage".to_string(), cpu),
                ("mem.consumed".to_string(), mem),
                ("net.received".to_string(), rx),
            ]),
            vms: BTreeMap::new(),
        };
        let gib = 1024.0 * 1024.0 * 1024.0;
        for (host, offset, cpu, mem, rx) in [
            (&hosts[0], 1, 10.0, gib, 100.0),
            (&hosts[1], 7, 30.0, 3.0 * gib, 50.0),
            (&alone, 3, 90.0, 9.0 * gib, 900.0),
        ] {
            let samples = (1..=6)
                .map(|i| sample(now - 120 + i * 20 - 20 + offset, cpu, mem, rx))
                .collect();
            let batch = PerfSamples {
                interval_secs: 20,
                samples,
            };
            perf::store(db, &host.id, &batch).await.unwrap();
        }
        let s = perf::cluster_series(db, &cluster.id, PerfInterval::Realtime, 20, now)
            .await
            .unwrap();
        assert_eq!(s.step_secs, 20, "{n}");
        assert_eq!(s.times.len(), 6, "{n}: {:?}", s.times);
        assert!(s.times.iter().all(|t| t % 20 == 0), "{n}");
        for (counter, want) in [
            ("cpu.usage", 20.0),
            ("mem.consumed", 4.0 * gib),
            ("net.received", 150.0),
        ] {
            assert!(
                s.values[counter].iter().all(|v| *v == Some(want)),
                "{n}: {counter} {:?}",
                s.values[counter]
            );
        }
    }
}
