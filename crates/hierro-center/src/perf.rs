//! Performance statistics (vCenter's statistics collection). Every
//! `perf_collect_secs` the center takes each connected host's new samples
//! (`GET /api/perf?since=` on the host) into level 0, then rolls complete
//! buckets up into the next level's averages and forgets what is older than
//! its level keeps. A host away for less than the hour it keeps samples
//! loses none: when its samples arrive late, the buckets they fall in are
//! averaged again.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hierro_api::{PerfInterval, PerfSamples, PerfSeries};
use sqlx::Row;

use crate::db::Db;
use crate::error::StoreResult;
use crate::hosts;

/// Collects, rolls up and purges until the center stops.
pub async fn run(db: Db, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let hosts = match hosts::followed(&db).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!("performance statistics: listing hosts: {e}");
                continue;
            }
        };
        // A host that does not answer must not hold up the others' round.
        let limit = every.max(Duration::from_secs(5));
        let collections = hosts
            .iter()
            .map(|h| tokio::time::timeout(limit, collect(&db, h)));
        for (host, outcome) in hosts
            .iter()
            .zip(futures_util::future::join_all(collections).await)
        {
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(host, "performance statistics: {e}"),
                Err(_) => tracing::debug!(host, "performance statistics: no answer in {limit:?}"),
            }
        }
        if let Err(e) = roll_up(&db, chrono::Utc::now().timestamp()).await {
            tracing::warn!("performance statistics: rolling up: {e}");
        }
    }
}

/// Takes a host's samples newer than the last one taken.
async fn collect(db: &Db, host: &str) -> StoreResult<()> {
    let last = sqlx::query("SELECT last_time FROM perf_collected WHERE host = $1")
        .bind(host)
        .fetch_optional(&mut *db.conn().await?)
        .await?
        .map(|r| r.try_get::<i64, _>("last_time"))
        .transpose()?
        .unwrap_or(0);
    let samples = hosts::client(db, host)
        .await?
        .perf(last)
        .await
        .map_err(|e| crate::error::StoreError::Invalid(e.to_string()))?;
    store(db, host, &samples).await
}

/// Stores a host's samples at level 0, with the time of the newest, in
/// one transaction. VMs not in the inventory (yet) are left out. Samples
/// in buckets already rolled up send each level back to their bucket, so
/// that the next roll-up averages it again with them.
pub async fn store(db: &Db, host: &str, samples: &PerfSamples) -> StoreResult<()> {
    let times = samples.samples.iter().map(|s| s.time);
    let (Some(oldest), Some(newest)) = (times.clone().min(), times.max()) else {
        return Ok(());
    };
    let mut conn = db.conn().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let mut objects = BTreeMap::new();
    for s in &samples.samples {
        for (vm, values) in &s.vms {
            if !objects.contains_key(vm) {
                let id: Option<String> = sqlx::query("SELECT id FROM objects WHERE source = $1")
                    .bind(format!("vm:{vm}"))
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get("id"))
                    .transpose()?;
                objects.insert(*vm, id);
            }
            if let Some(Some(id)) = objects.get(vm) {
                insert(&mut tx, id, s.time, values).await?;
            }
        }
        insert(&mut tx, host, s.time, &s.host).await?;
    }
    sqlx::query(
        "INSERT INTO perf_collected (host, last_time) VALUES ($1, $2) \
         ON CONFLICT (host) DO UPDATE SET last_time = excluded.last_time",
    )
    .bind(host)
    .bind(newest)
    .execute(&mut *tx)
    .await?;
    for interval in &PerfInterval::ALL[1..] {
        let step = interval.step_secs();
        sqlx::query(
            "UPDATE perf_rolled SET done_before = $1 WHERE level = $2 AND done_before > $1",
        )
        .bind(oldest / step * step)
        .bind(interval.level())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    drop(conn);
    Ok(())
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entity: &str,
    time: i64,
    values: &hierro_api::PerfValues,
) -> StoreResult<()> {
    for (counter, value) in values {
        if !value.is_finite() {
            continue;
        }
        sqlx::query(
            "INSERT INTO perf (entity, level, counter, time, value) VALUES ($1, 0, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(entity)
        .bind(counter)
        .bind(time)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Averages every complete bucket of each level from the level below, then
/// deletes each level's rows older than it keeps.
pub async fn roll_up(db: &Db, now: i64) -> StoreResult<()> {
    for interval in &PerfInterval::ALL[1..] {
        let (level, step) = (interval.level(), interval.step_secs());
        let done_before = now / step * step;
        let mut conn = db.conn().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let from: i64 = sqlx::query("SELECT done_before FROM perf_rolled WHERE level = $1")
            .bind(level)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("done_before"))
            .transpose()?
            .unwrap_or(0);
        if from < done_before {
            sqlx::query(
                "INSERT INTO perf (entity, level, counter, time, value) \
                 SELECT entity, $1, counter, time / $2 * $2, AVG(value) FROM perf \
                 WHERE level = $3 AND time >= $4 AND time < $5 \
                 GROUP BY entity, counter, time / $2 * $2 \
                 ON CONFLICT (entity, level, counter, time) DO UPDATE SET value = excluded.value",
            )
            .bind(level)
            .bind(step)
            .bind(level - 1)
            .bind(from)
            .bind(done_before)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO perf_rolled (level, done_before) VALUES ($1, $2) \
                 ON CONFLICT (level) DO UPDATE SET done_before = excluded.done_before",
            )
            .bind(level)
            .bind(done_before)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        drop(conn);
    }
    for interval in PerfInterval::ALL {
        sqlx::query("DELETE FROM perf WHERE level = $1 AND time < $2")
            .bind(interval.level())
            .bind(now - interval.span_secs())
            .execute(&mut *db.conn().await?)
            .await?;
    }
    Ok(())
}

/// An object's counters over an interval ending now.
pub async fn series(
    db: &Db,
    entity: &str,
    interval: PerfInterval,
    now: i64,
) -> StoreResult<PerfSeries> {
    let rows = sqlx::query(
        "SELECT counter, time, value FROM perf \
         WHERE entity = $1 AND level = $2 AND time > $3 ORDER BY time",
    )
    .bind(entity)
    .bind(interval.level())
    .bind(now - interval.span_secs())
    .fetch_all(&mut *db.conn().await?)
    .await?;
    let mut points = vec![];
    for r in &rows {
        let counter: String = r.try_get("counter")?;
        points.push((counter, r.try_get::<i64, _>("time")?, r.try_get("value")?));
    }
    Ok(align(entity, interval, &points))
}

/// A cluster's counters: its hosts', each averaged over a bucket of `step`
/// seconds (real-time; a rolled-up level's own step otherwise), then
/// percentages averaged over the hosts and the rest summed, as vSphere's
/// cluster charts show the cluster as one machine.
pub async fn cluster_series(
    db: &Db,
    cluster: &str,
    interval: PerfInterval,
    realtime_step: i64,
    now: i64,
) -> StoreResult<PerfSeries> {
    let step = match interval.step_secs() {
        0 => realtime_step.max(1),
        s => s,
    };
    let rows = sqlx::query(
        "SELECT counter, t, SUM(v) AS total, COUNT(*) AS hosts FROM ( \
           SELECT p.entity, p.counter, p.time / $1 * $1 AS t, AVG(p.value) AS v \
           FROM perf p JOIN objects o ON o.id = p.entity \
           WHERE o.kind = 'host' AND o.parent = $2 AND p.level = $3 AND p.time > $4 \
           GROUP BY p.entity, p.counter, p.time / $1 * $1) per_host \
         GROUP BY counter, t ORDER BY t",
    )
    .bind(step)
    .bind(cluster)
    .bind(interval.level())
    .bind(now - interval.span_secs())
    .fetch_all(&mut *db.conn().await?)
    .await?;
    let percent: BTreeSet<&str> = hierro_api::COUNTERS
        .iter()
        .filter(|(_, unit, _)| *unit == "percent")
        .map(|(name, _, _)| *name)
        .collect();
    let mut points = vec![];
    for r in &rows {
        let counter: String = r.try_get("counter")?;
        let total: f64 = r.try_get("total")?;
        let hosts: i64 = r.try_get("hosts")?;
        let value = if percent.contains(counter.as_str()) {
            total / hosts.max(1) as f64
        } else {
            total
        };
        points.push((counter, r.try_get::<i64, _>("t")?, value));
    }
    let mut series = align(cluster, interval, &points);
    series.step_secs = step;
    Ok(series)
}

/// Points as series on one time axis, a counter missing at a time as null.
fn align(entity: &str, interval: PerfInterval, points: &[(String, i64, f64)]) -> PerfSeries {
    let counters = hierro_api::counters();
    let known = |name: &str| counters.iter().any(|c| c.name == name);
    let times: Vec<i64> = points
        .iter()
        .filter(|p| known(&p.0))
        .map(|p| p.1)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut values: BTreeMap<String, Vec<Option<f64>>> = counters
        .iter()
        .map(|c| (c.name.clone(), vec![None; times.len()]))
        .collect();
    for (counter, time, value) in points {
        if let (Some(series), Ok(i)) = (values.get_mut(counter), times.binary_search(time)) {
            series[i] = Some(*value);
        }
    }
    let step_secs = match interval.step_secs() {
        // Real-time points come as the hosts sample: the shortest gap.
        0 => times.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(0),
        s => s,
    };
    PerfSeries {
        entity: entity.to_string(),
        interval,
        step_secs,
        counters,
        times,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_counters_on_one_axis() {
        let points = vec![
            ("cpu.usage".to_string(), 20, 5.0),
            ("cpu.usage".to_string(), 40, 7.0),
            ("mem.usage".to_string(), 40, 50.0),
            ("not.a.counter".to_string(), 60, 1.0),
        ];
        let s = align("host-1", PerfInterval::Realtime, &points);
        assert_eq!(s.times, vec![20, 40]);
        assert_eq!(s.step_secs, 20);
        assert_eq!(s.values["cpu.usage"], vec![Some(5.0), Some(7.0)]);
        assert_eq!(s.values["mem.usage"], vec![None, Some(50.0)]);
        assert!(!s.values.contains_key("not.a.counter"));
        assert_eq!(align("x", PerfInterval::Day, &[]).step_secs, 300);
    }
}
