//! Captures (pcap files of a port's frames) and recordings (the frames a
//! port put out lately, handed over at a vMotion's switchover).

use super::*;

/// A capture ends once its file reaches this size, whatever it was asked.
const CAPTURE_MAX_BYTES: u64 = 512 << 20;

pub(super) struct Capture {
    port: PortId,
    file: std::path::PathBuf,
    writer: PcapWriter,
    remaining: u64,
    taken: u64,
    until: Instant,
    done: mpsc::Sender<u64>,
}

impl Dataplane {
    /// Starts capturing a port's frames (both directions) into a pcap file;
    /// the receiver gets the number of frames once it is done.
    pub fn capture(
        &mut self,
        key: &str,
        file: &std::path::Path,
        packets: u64,
        seconds: u64,
    ) -> Result<mpsc::Receiver<u64>, String> {
        let id = self
            .port_id(key)
            .ok_or_else(|| format!("no port {key:?}"))?;
        let writer = PcapWriter::create(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let (tx, rx) = mpsc::channel();
        self.captures.push(Capture {
            port: id,
            file: file.to_path_buf(),
            writer,
            remaining: packets.max(1),
            taken: 0,
            until: Instant::now() + Duration::from_secs(seconds.max(1)),
            done: tx,
        });
        Ok(rx)
    }

    /// Ends the capture into `file` now, with what it has (a user stopped
    /// it). Whether there was one.
    pub fn stop_capture(&mut self, file: &std::path::Path) -> bool {
        let now = Instant::now();
        let mut found = false;
        for c in self.captures.iter_mut().filter(|c| c.file == file) {
            c.until = now;
            found = true;
        }
        self.end_captures(now);
        found
    }

    /// Keeps a copy of the latest frames that go out of these ports (by
    /// key), with when each went, until `recorded`: their VM is migrating,
    /// and what reaches it once its QEMU paused for the switchover never
    /// reaches the guest there. Unknown ports are refused and nothing starts.
    pub fn record(&mut self, keys: &[String]) -> Result<(), String> {
        let ids = keys
            .iter()
            .map(|k| self.port_id(k).ok_or_else(|| format!("no port {k:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        let now = Instant::now();
        for id in ids {
            self.recording.insert(id, (now, VecDeque::new()));
        }
        Ok(())
    }

    /// The frames that went out of these ports at or after `since` (none
    /// for `None`), oldest first; the rest is forgotten too. The recording
    /// ends, or with `keep` starts afresh.
    pub fn recorded(
        &mut self,
        keys: &[String],
        since: Option<SystemTime>,
        keep: bool,
    ) -> Vec<Frame> {
        let ids: Vec<PortId> = keys.iter().filter_map(|k| self.port_id(k)).collect();
        let mut frames = vec![];
        for id in ids {
            let kept = if keep {
                self.recording.get_mut(&id).map(|(_, q)| std::mem::take(q))
            } else {
                self.recording.remove(&id).map(|(_, q)| q)
            };
            frames.extend(
                kept.into_iter()
                    .flatten()
                    .filter(|(at, _)| since.is_some_and(|s| *at >= s))
                    .map(|(_, f)| f),
            );
        }
        frames
    }
}

/// Copies a frame, given in pieces, to the captures of `port`.
pub(super) fn record(captures: &mut [Capture], port: PortId, parts: &[&[u8]]) {
    let mut frame = None;
    for c in captures
        .iter_mut()
        .filter(|c| c.port == port && c.remaining > 0)
    {
        let frame = frame.get_or_insert_with(|| parts.concat());
        if c.writer.write(frame).is_ok() {
            c.remaining -= 1;
            c.taken += 1;
        }
        if c.writer.written() >= CAPTURE_MAX_BYTES {
            c.remaining = 0;
        }
    }
}

impl Dataplane {
    /// Ends the captures that have their frames or their time, and the
    /// recordings nobody collected (their agent died mid-migration).
    pub(super) fn end_captures(&mut self, now: Instant) {
        self.recording
            .retain(|_, (since, _)| now.duration_since(*since) < RECORD_LIMIT);
        let (done, running): (Vec<_>, Vec<_>) = self
            .captures
            .drain(..)
            .partition(|c| c.remaining == 0 || now >= c.until);
        self.captures = running;
        for c in done {
            let _ = c.writer.finish();
            let _ = c.done.send(c.taken);
        }
    }
}
