//! The frames of a vMotion switchover: what reached the VM at the source
//! while it paused, sent to the destination once it runs there and put on
//! its taps (see `hierro_vswitch::vmtap`). The physical network goes on
//! sending the VM's traffic to the source until the destination announces
//! the VM's MAC, so the source keeps sending what comes for a short while
//! after the destination says the guest runs. The path is the vMotion
//! network, as for the memory; frames go only to the VM's own MACs.
//!
//! The source ends with what the VM's ports counted there, so that their
//! counters go on from there (a distributed port's counters move with the
//! VM, as in vSphere).
//!
//! On the wire: `vmtap::encode`d frames from source to destination, then
//! the counters (a length with the top bit set, then JSON), until the
//! source closes; back, when the guest runs at the destination, the time
//! it resumed (µs since the epoch, 8 bytes big-endian).

use std::time::Duration;

use hierro_api::PortCounters;
use hierro_vswitch::frame::Mac;
use hierro_vswitch::io::{Endpoint, PacketSocket};
use hierro_vswitch::vmtap::{self, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The most a source may send: far more than a tap queue holds.
const MAX_BYTES: u64 = 64 << 20;
/// How long the destination waits for the source's frames.
const WAIT: Duration = Duration::from_secs(660);

/// How long after the guest runs the destination takes frames.
const LATE: Duration = Duration::from_secs(10);

/// A length with this bit set announces the counters, not a frame.
const COUNTERS: u32 = 1 << 31;

/// What the ports of the VM counted, by port key.
pub type Counted = Vec<(String, PortCounters)>;

/// What comes from the source.
enum Item {
    Frame(Frame),
    Counters(Counted),
}

/// A VM NIC on the destination: its tap and the MAC its frames are for.
pub struct Nic {
    pub tap: String,
    pub mac: String,
}

/// Listens on `address` for the source's frames, and delivers them once
/// `runs` says the guest runs here, with the time it resumed (a paused QEMU
/// would take one frame into its own queue and may drop it), then each as
/// it comes until the source closes; the counters go to `counted`. The URI
/// to give the source, and the task that delivers (abort it if the move
/// fails).
pub async fn listen(
    address: &str,
    nics: Vec<Nic>,
    runs: impl std::future::Future<Output = u64> + Send + 'static,
    counted: impl FnOnce(Counted) + Send + 'static,
) -> std::io::Result<(String, JoinHandle<()>)> {
    let listener = TcpListener::bind((address, 0)).await?;
    let uri = format!("tcp:{address}:{}", listener.local_addr()?.port());
    let task = tokio::spawn(async move {
        let conn = match tokio::time::timeout(WAIT, listener.accept()).await {
            Ok(Ok((conn, _))) => conn,
            Ok(Err(e)) => return tracing::warn!("switchover frames: {e}"),
            Err(_) => return,
        };
        let (from_source, mut to_source) = conn.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(read_frames(from_source, tx));
        // Until the guest runs here, the frames wait.
        let mut held = vec![];
        let mut open = true;
        tokio::pin!(runs);
        let resumed_at = loop {
            tokio::select! {
                at = &mut runs => break at,
                f = rx.recv(), if open => match f {
                    Some(f) => held.push(f),
                    None => open = false,
                },
            }
        };
        // The source sends for a little longer once it knows.
        let _ = to_source.write_all(&resumed_at.to_be_bytes()).await;
        let mut taps = Taps::open(&nics);
        let mut counted = Some(counted);
        let mut take = |item: Item, taps: &mut Taps| match item {
            Item::Frame(f) => taps.deliver(&f),
            Item::Counters(c) => {
                if let Some(counted) = counted.take() {
                    counted(c);
                }
            }
        };
        for item in held {
            take(item, &mut taps);
        }
        // A source that neither sends nor closes is not waited for long.
        let _ = tokio::time::timeout(LATE, async {
            while let Some(item) = rx.recv().await {
                take(item, &mut taps);
            }
        })
        .await;
        tracing::info!(
            "delivered {} frames that reached the source during the switchover",
            taps.delivered
        );
    });
    Ok((uri, task))
}

/// Reads what the source sends, item by item, into `tx`, until it closes.
async fn read_frames(mut conn: OwnedReadHalf, tx: mpsc::UnboundedSender<Item>) {
    let mut total = 0;
    loop {
        let mut len = [0; 4];
        if conn.read_exact(&mut len).await.is_err() {
            return; // closed
        }
        let word = u32::from_be_bytes(len);
        if word & COUNTERS != 0 {
            let n = (word & !COUNTERS) as usize;
            if n as u64 > MAX_BYTES {
                return tracing::warn!("switchover counters: {n} bytes");
            }
            let mut data = vec![0; n];
            let read = conn.read_exact(&mut data).await.map_err(|e| e.to_string());
            match read.and_then(|_| serde_json::from_slice(&data).map_err(|e| e.to_string())) {
                Ok(c) => {
                    let _ = tx.send(Item::Counters(c));
                }
                Err(e) => return tracing::warn!("switchover counters: {e}"),
            }
            continue;
        }
        let n = word as u64;
        total += 4 + n;
        if total > MAX_BYTES {
            return tracing::warn!("switchover frames: more than {MAX_BYTES} bytes");
        }
        let mut data = len.to_vec();
        data.resize(4 + n as usize, 0);
        let frames = match conn.read_exact(&mut data[4..]).await {
            Ok(_) => vmtap::decode(&data),
            Err(e) => Err(e.to_string()),
        };
        match frames {
            Ok(frames) => frames.into_iter().for_each(|f| {
                let _ = tx.send(Item::Frame(f));
            }),
            Err(e) => return tracing::warn!("switchover frames: {e}"),
        }
    }
}

/// The destination's taps, by the MAC their frames are for.
struct Taps {
    taps: Vec<(Mac, Endpoint)>,
    delivered: usize,
}

impl Taps {
    fn open(nics: &[Nic]) -> Taps {
        let mut taps = vec![];
        for nic in nics {
            let Ok(mac) = nic.mac.parse::<Mac>() else {
                continue;
            };
            match PacketSocket::bind(&nic.tap, false) {
                Ok(s) => taps.push((mac, Endpoint::Packet(s))),
                Err(e) => tracing::warn!("switchover frames for {}: {e}", nic.tap),
            }
        }
        Taps { taps, delivered: 0 }
    }

    /// Puts the frame on the tap of the NIC it is addressed to, if any.
    fn deliver(&mut self, f: &Frame) {
        let Some((_, tap)) = self
            .taps
            .iter()
            .find(|(mac, _)| f.bytes.len() >= 6 && f.bytes[..6] == mac.0)
        else {
            return;
        };
        if tap.send(&[&f.bytes], &f.vnet).is_ok() {
            self.delivered += 1;
        }
    }
}

/// The source's end: frames to the destination's `listen` URI.
pub struct Sender {
    conn: TcpStream,
    /// Frames sent so far.
    pub sent: usize,
    /// The destination's answer, as far as it has come.
    answer: [u8; 8],
    answered: usize,
}

impl Sender {
    pub async fn connect(uri: &str) -> std::io::Result<Sender> {
        let address = uri
            .strip_prefix("tcp:")
            .ok_or_else(|| std::io::Error::other(format!("{uri:?} is not tcp:ADDRESS:PORT")))?;
        let conn = TcpStream::connect(address).await?;
        conn.set_nodelay(true)?;
        Ok(Sender {
            conn,
            sent: 0,
            answer: [0; 8],
            answered: 0,
        })
    }

    pub async fn send(&mut self, frames: &[Frame]) -> std::io::Result<()> {
        if !frames.is_empty() {
            self.conn.write_all(&vmtap::encode(frames)).await?;
            self.sent += frames.len();
        }
        Ok(())
    }

    /// What the VM's ports counted here, for the destination to go on from.
    pub async fn send_counters(&mut self, counted: &Counted) -> std::io::Result<()> {
        let json = serde_json::to_vec(counted).map_err(std::io::Error::other)?;
        self.conn
            .write_all(&(COUNTERS | json.len() as u32).to_be_bytes())
            .await?;
        self.conn.write_all(&json).await
    }

    /// Ends when the destination says the guest runs there, with the time
    /// it resumed (µs since the epoch), or has gone (`None`). Cancel-safe:
    /// what has come is kept.
    pub async fn runs(&mut self) -> Option<u64> {
        while self.answered < 8 {
            match self.conn.read(&mut self.answer[self.answered..]).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.answered += n,
            }
        }
        Some(u64::from_be_bytes(self.answer))
    }

    /// Closes the stream: the destination has everything.
    pub async fn finish(mut self) -> std::io::Result<usize> {
        self.conn.shutdown().await?;
        Ok(self.sent)
    }
}
