//! vMotion, the host's two halves. The source sets QEMU's migration
//! capabilities (auto-converge; multifd, so pages go over several TCP
//! connections sent by their own threads, as vSphere's vMotion streams)
//! and switchover goal (`downtime-limit`), starts the pre-copy to the
//! destination's URI and follows it with `query-migrate`; the destination
//! starts an identical QEMU with `-incoming defer`, listens on its vMotion
//! VMkernel address, and runs the guest once its memory has arrived. Disks
//! stay where they are: both hosts see the same datastore.

use hierro_api::EventKind;
use std::time::{Duration, Instant};

use base64::Engine;
use hierro_api::{MigrateRequest, MigrationStats, PowerState, Severity};
use hierro_vswitch::control::{Request, Response};
use hierro_vswitch::vmtap;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio_util::task::AbortOnDropHandle;

use super::{handoff, lease, Actor};
use crate::error::{HostError, HostResult};
use crate::tasks::TaskHandle;

/// Bytes per second QEMU may send: 10 GiB/s, more than any link here.
const MAX_BANDWIDTH: u64 = 10 << 30;

/// What went to the guest this long before QEMU said it stopped is handed
/// over too: QEMU may not have read it yet. The guest may get a frame twice,
/// which TCP and the like ignore; it may not miss one.
const RECORD_MARGIN_US: u64 = 10_000;

/// How soon after the guest resumes at the destination QEMU announces its
/// MAC (QEMU's `announce-initial`; the least it takes).
const ANNOUNCE_INITIAL_MS: u64 = 1;

/// How long the source goes on handing over what reaches the VM here after
/// the guest runs at the destination: QEMU there announces the MAC as it
/// resumes (`ANNOUNCE_INITIAL_MS`), and again 100 ms later.
const TAIL: Duration = Duration::from_millis(250);
/// The most the source hands over for, if the destination never says.
const TAIL_LIMIT: Duration = Duration::from_secs(2);

/// How long the destination waits for the source to connect and finish.
const INCOMING_LIMIT: Duration = Duration::from_secs(600);

fn qmp_error(e: impl std::fmt::Display) -> HostError {
    HostError::backend(format!("QEMU: {e}"))
}

/// The guest dirties memory slower than this (bytes/s): it is quiet.
const QUIET_DIRTY_RATE: u64 = 64 << 20;

/// The switchover goal QEMU gets after `passes` over memory, with the guest
/// dirtying `dirty_rate` bytes/s: 50 ms while the second pass has not ended
/// and the guest is quiet, else the user's goal. A quiet guest stops only
/// briefly; a busy one moves as soon as the goal allows (a short form of
/// OpenStack Nova's downtime steps).
fn switchover_limit(goal_ms: u64, passes: u64, dirty_rate: u64) -> u64 {
    if passes <= 2 && dirty_rate <= QUIET_DIRTY_RATE {
        goal_ms.min(50)
    } else {
        goal_ms
    }
}

fn number(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

impl Actor {
    pub(super) async fn migrate(
        &mut self,
        task: &TaskHandle,
        req: MigrateRequest,
    ) -> HostResult<MigrationStats> {
        self.require(PowerState::PoweredOn, "migrate")?;
        let qmp = self.qmp()?;
        let capabilities = json!({"capabilities": [
            {"capability": "auto-converge", "state": req.auto_converge},
            {"capability": "events", "state": true},
            {"capability": "multifd", "state": true},
        ]});
        qmp.execute_value("migrate-set-capabilities", capabilities)
            .await
            .map_err(qmp_error)?;
        // The whole vMotion network unless capped, not QEMU's default of
        // 128 MiB/s.
        let bandwidth = req.max_bandwidth_mib.map_or(MAX_BANDWIDTH, |m| m << 20);
        let limit = switchover_limit(req.downtime_ms, 0, 0);
        qmp.execute_value(
            "migrate-set-parameters",
            json!({"downtime-limit": limit, "max-bandwidth": bandwidth}),
        )
        .await
        .map_err(qmp_error)?;
        self.record_frames().await;
        let followed = match follow(&qmp, task, &req, limit).await {
            Ok(f) => f,
            Err(e) => {
                // The guest goes on here; the recording ends.
                self.recorded_frames(u64::MAX, false).await;
                return Err(e);
            }
        };
        let mut stats = MigrationStats::from_query_migrate(&followed.info, followed.throttled);
        // What reached the guest after it stopped here never got to it.
        let stopped_at = followed.stopped_at.unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            (now.as_micros() as u64).saturating_sub(stats.downtime_ms * 1000)
        });
        let mut frames = self
            .recorded_frames(stopped_at.saturating_sub(RECORD_MARGIN_US), true)
            .await;
        // The guest runs on the destination now; this QEMU holds a paused
        // copy. What waits unread in its taps goes there too (usually
        // recorded already).
        for f in self
            .taps
            .iter()
            .flat_map(|t| vmtap::drain(t).unwrap_or_default())
        {
            if !frames.contains(&f) {
                frames.push(f);
            }
        }
        if let Some(to) = &req.frames {
            match self.hand_over(to, &frames).await {
                Ok((sent, resumed_at)) => {
                    stats.frames_forwarded = sent as u64;
                    stats.paused_ms = resumed_at.map(|r| r.saturating_sub(stopped_at) / 1000);
                }
                Err(e) => tracing::warn!("sending the switchover frames to {to}: {e}"),
            }
        }
        self.recorded_frames(u64::MAX, false).await;
        self.stop_qemu().await;
        self.leave().await?;
        task.event(
            EventKind::VmMigrated,
            Severity::Info,
            format!("{} moved to another host: {stats}", self.vm.name()),
        );
        Ok(stats)
    }

    pub(super) async fn receive(
        &mut self,
        task: &TaskHandle,
        ready: oneshot::Sender<HostResult<(String, String)>>,
    ) -> HostResult<()> {
        let mut ready = Some(ready);
        let result = self.receive_memory(task, &mut ready).await;
        if let Err(e) = &result {
            if let Some(tx) = ready.take() {
                let _ = tx.send(Err(HostError::Reported(e.info())));
            }
            // The VM still runs on the source: nothing of it stays here.
            self.stop_qemu().await;
            self.leave().await?;
        }
        result
    }

    async fn receive_memory(
        &mut self,
        task: &TaskHandle,
        ready: &mut Option<oneshot::Sender<HostResult<(String, String)>>>,
    ) -> HostResult<()> {
        let address = self.host.vmotion_address().ok_or_else(|| {
            HostError::refused("this host has no VMkernel port with the vMotion service")
        })?;
        let spec = self.launch_spec(None, true)?;
        let pid = self.start_qemu(&spec).await?;
        let qmp = self.qmp()?;
        qmp.execute_value(
            "migrate-set-capabilities",
            // multifd as the source has it: both ends must agree.
            json!({"capabilities": [
                {"capability": "events", "state": true},
                {"capability": "multifd", "state": true},
            ]}),
        )
        .await
        .map_err(qmp_error)?;
        // The physical network learns where the VM is from QEMU's
        // announcement once the guest resumes here; until then its traffic
        // goes to the source, which hands it over a little later. QEMU
        // waits 50 ms before the first one by default.
        qmp.execute_value(
            "migrate-set-parameters",
            json!({"announce-initial": ANNOUNCE_INITIAL_MS}),
        )
        .await
        .map_err(qmp_error)?;
        let port = qmp
            .listen_for_migration(&address.to_string())
            .await
            .map_err(qmp_error)?;
        let nics = spec
            .nics
            .iter()
            .map(|n| handoff::Nic {
                tap: n.tap.clone(),
                mac: n.mac.clone(),
            })
            .collect();
        // QEMU says RESUME when the guest starts here.
        let mut events = qmp.events();
        let runs = async move {
            while let Ok(e) = events.recv().await {
                if e.event == "RESUME" {
                    return e.at_us;
                }
            }
            // QEMU is gone: the move fails and this task is stopped.
            std::future::pending().await
        };
        // The ports' counters go on from what they counted at the source.
        let host = self.host.clone();
        let counted = move |counted: handoff::Counted| {
            for (key, c) in counted {
                host.net_runtime.set_counted_before(&key, c);
            }
            tokio::spawn(async move {
                if let Err(e) = host.apply_network().await {
                    tracing::warn!("the counters that came with a VM: {e}");
                }
            });
        };
        let (frames, handing_off) = handoff::listen(&address.to_string(), nics, runs, counted)
            .await
            .map_err(|e| HostError::backend(format!("listening for the switchover frames: {e}")))?;
        // Ends by itself once the source has sent; stopped if the move fails.
        let handing_off = AbortOnDropHandle::new(handing_off);
        if let Some(tx) = ready.take() {
            let _ = tx.send(Ok((format!("tcp:{address}:{port}"), frames)));
        }
        task.progress(10);
        // The center cancels this once the source has stopped sending (a
        // move undone): the VM runs there, nothing of it stays here.
        let cancel = task.cancellation();
        let started = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = cancel.cancelled() => return Err(task.cancelled()),
            }
            let info = qmp
                .execute_value("query-migrate", json!({}))
                .await
                .map_err(|e| qmp_error(format!("the incoming QEMU ended: {e}")))?;
            match info["status"].as_str().unwrap_or("") {
                "completed" => break,
                s @ ("failed" | "cancelled") => {
                    return Err(HostError::backend(format!("the incoming migration {s}")))
                }
                _ if started.elapsed() > INCOMING_LIMIT => {
                    return Err(HostError::backend(
                        "the source did not finish sending the VM in time",
                    ))
                }
                _ => {}
            }
        }
        // QEMU starts the guest by itself once the memory is in: the lease
        // is this host's now (the source's QEMU has stopped for good).
        lease::hold(&self.vm.folder, &self.host.config.name)?;
        handing_off.detach();
        self.running(pid).await;
        task.event(
            EventKind::VmMigratedIn,
            Severity::Info,
            format!("{} arrived from another host and runs here", spec.name),
        );
        Ok(())
    }

    /// Sends the destination the frames that reached the VM here during
    /// the switchover, then what keeps coming (the physical network sends
    /// the VM's traffic here until the destination announces its MAC)
    /// until `TAIL` after the destination says the guest runs there, at
    /// most `TAIL_LIMIT` in all. How many frames went, and when the guest
    /// resumed there (µs since the epoch), if the destination said.
    async fn hand_over(
        &self,
        to: &str,
        first: &[vmtap::Frame],
    ) -> std::io::Result<(usize, Option<u64>)> {
        let mut sender = handoff::Sender::connect(to).await?;
        sender.send(first).await?;
        let started = Instant::now();
        let mut runs_since: Option<Instant> = None;
        let mut resumed_at = None;
        while runs_since.is_none_or(|t| t.elapsed() < TAIL) && started.elapsed() < TAIL_LIMIT {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(5)) => {}
                at = sender.runs(), if runs_since.is_none() => {
                    runs_since = Some(Instant::now());
                    resumed_at = at;
                }
            }
            sender.send(&self.recorded_frames(0, true).await).await?;
        }
        sender.send_counters(&self.counted().await).await?;
        Ok((sender.finish().await?, resumed_at))
    }

    /// What the VM's ports counted here (and before, on earlier hosts).
    async fn counted(&self) -> handoff::Counted {
        let ports = self.ports();
        match self.host.vswitchd.request(Request::Stats).await {
            Ok(Response::Stats { ports: stats, .. }) => stats
                .into_iter()
                .filter(|p| ports.contains(&p.port))
                .map(|p| (p.port, p.counters))
                .collect(),
            other => {
                tracing::warn!("the counters of {}: {other:?}", self.vm.name());
                vec![]
            }
        }
    }

    /// Has vswitchd record what goes to the VM (see `recorded_frames`). A
    /// vswitchd that refuses only costs frames.
    async fn record_frames(&self) {
        let req = Request::Record {
            ports: self.ports(),
        };
        if let Err(e) = self.host.vswitchd.request(req).await {
            tracing::warn!("recording the frames of {}: {e}", self.vm.name());
        }
    }

    /// The frames that went to the VM at or after `since_us` (µs since
    /// the epoch) and not collected before; the recording ends, or with
    /// `keep` goes on.
    async fn recorded_frames(&self, since_us: u64, keep: bool) -> Vec<vmtap::Frame> {
        let req = Request::Recorded {
            ports: self.ports(),
            since_us,
            keep,
        };
        match self.host.vswitchd.request(req).await {
            Ok(Response::Frames { frames }) => base64::engine::general_purpose::STANDARD
                .decode(frames)
                .map_err(|e| e.to_string())
                .and_then(|b| vmtap::decode(&b))
                .unwrap_or_else(|e| {
                    tracing::warn!("frames recorded by vswitchd: {e}");
                    vec![]
                }),
            other => {
                tracing::warn!("frames recorded by vswitchd: {other:?}");
                vec![]
            }
        }
    }
}

/// How a pre-copy ended well: QEMU's last `query-migrate`, the most it
/// throttled the vCPUs, and when it stopped the guest (µs since the epoch).
struct Followed {
    info: Value,
    throttled: u64,
    stopped_at: Option<u64>,
}

/// Waits until QEMU has cleaned up after an earlier migration of this VM:
/// `query-migrate` says "failed" before its yank instance is gone, and a
/// `migrate` then is refused ("duplicate yank instance").
async fn earlier_migration_gone(qmp: &hierro_qemu::Qmp) -> HostResult<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let yank = qmp
            .execute_value("query-yank", json!({}))
            .await
            .map_err(qmp_error)?;
        let migrating = yank
            .as_array()
            .is_some_and(|list| list.iter().any(|i| i["type"] == "migration"));
        if !migrating {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(HostError::backend(
                "QEMU has not finished cleaning up an earlier migration of this VM",
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts the pre-copy and follows it to its end: progress into `task`, the
/// switchover goal stepped up as `switchover_limit` says (from `limit`),
/// `migrate_cancel` when the task is cancelled.
async fn follow(
    qmp: &hierro_qemu::Qmp,
    task: &TaskHandle,
    req: &MigrateRequest,
    mut limit: u64,
) -> HostResult<Followed> {
    let cancel = task.cancellation();
    // QEMU's events say when the guest stops for the switchover (STOP)
    // and wake us at once when it completes: the frames that reached
    // the guest since then are handed over without delay.
    let mut events = qmp.events();
    let mut stopped_at = None;
    earlier_migration_gone(qmp).await?;
    qmp.execute_value("migrate", json!({"uri": req.uri}))
        .await
        .map_err(qmp_error)?;
    // QEMU stops throttling when it is done: keep the most it did.
    let mut throttled = 0;
    // A cancel asked for, and whether QEMU has been told.
    let (mut cancel_asked, mut cancelling) = (false, false);
    let info = loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            e = events.recv() => {
                match e {
                    Ok(e) if e.event == "STOP" => stopped_at = Some(e.at_us),
                    _ => {}
                }
            }
            _ = cancel.cancelled(), if !cancel_asked => cancel_asked = true,
        }
        let info = qmp
            .execute_value("query-migrate", json!({}))
            .await
            .map_err(qmp_error)?;
        let status = info["status"].as_str().unwrap_or("");
        // QEMU drops the connection and resumes the guest here; if the
        // switchover has begun it completes instead. Not during setup:
        // QEMU 10.0's source, cancelled while its multifd channels are
        // being set up, waits for them forever (seen in CI: the migration
        // thread in multifd_send_sync_main, the task never ending). Setup
        // ends in moments, or fails by itself when the destination is gone.
        if cancel_asked && !cancelling && status != "setup" {
            cancelling = true;
            qmp.execute_value("migrate_cancel", json!({}))
                .await
                .map_err(qmp_error)?;
        }
        throttled = throttled.max(number(&info["cpu-throttle-percentage"]));
        match status {
            "completed" => break info,
            "cancelled" if cancelling => return Err(task.cancelled()),
            s @ ("failed" | "cancelled") => {
                // QEMU goes on running the guest here.
                return Err(HostError::backend(format!(
                    "the migration {s}: {}",
                    info["error-desc"].as_str().unwrap_or("no reason given")
                )));
            }
            _ => {
                let ram = &info["ram"];
                let passes = number(&ram["dirty-sync-count"]);
                let dirty_rate = number(&ram["dirty-pages-rate"]) * number(&ram["page-size"]);
                let want = switchover_limit(req.downtime_ms, passes, dirty_rate);
                if want != limit {
                    limit = want;
                    let set = json!({"downtime-limit": limit});
                    qmp.execute_value("migrate-set-parameters", set)
                        .await
                        .map_err(qmp_error)?;
                }
                let (total, remaining) = (number(&ram["total"]), number(&ram["remaining"]));
                // Dirty memory is sent again, so this can go back.
                if let Some(pct) = (95 * (total - remaining.min(total))).checked_div(total) {
                    task.progress(pct as u8);
                }
            }
        }
    };
    // QEMU sent STOP before its answer; it may still wait in the channel.
    while let Ok(e) = events.try_recv() {
        if e.event == "STOP" {
            stopped_at = Some(e.at_us);
        }
    }
    Ok(Followed {
        info,
        throttled,
        stopped_at,
    })
}

#[cfg(test)]
mod tests {
    use super::switchover_limit;

    #[test]
    fn the_switchover_goal_steps_up_to_the_users() {
        let quiet: Vec<u64> = (0..5).map(|p| switchover_limit(500, p, 1 << 20)).collect();
        assert_eq!(quiet, [50, 50, 50, 500, 500]);
        let busy: Vec<u64> = (0..5).map(|p| switchover_limit(500, p, 1 << 30)).collect();
        assert_eq!(busy, [500; 5]);
        assert_eq!(switchover_limit(20, 0, 0), 20, "never above the goal");
    }
}
