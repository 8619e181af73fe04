//! The frames of a vMotion switchover: what reached the VM at the source
//! while it paused, sent to the destination once it runs there and put on
//! its taps (see `hierro_vswitch::vmtap`). The path is the vMotion network,
//! as for the memory; frames go only to the VM's own MACs.

use std::time::Duration;

use hierro_vswitch::io::{Endpoint, PacketSocket};
use hierro_vswitch::vmtap::{self, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The most a source may send: far more than a tap queue holds.
const MAX_BYTES: u64 = 64 << 20;
/// How long the destination waits for the source's frames.
const WAIT: Duration = Duration::from_secs(660);

/// A VM NIC on the destination: its tap and the MAC its frames are for.
pub struct Nic {
    pub tap: String,
    pub mac: String,
}

/// Listens on `address` for the source's frames, and delivers them once
/// `runs` says the guest runs here: a paused QEMU would take one frame into
/// its own queue and may drop it. The URI to give the source, and the task
/// that delivers (abort it if the move fails).
pub async fn listen(
    address: &str,
    nics: Vec<Nic>,
    runs: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(String, JoinHandle<()>)> {
    let listener = TcpListener::bind((address, 0)).await?;
    let uri = format!("tcp:{address}:{}", listener.local_addr()?.port());
    let task = tokio::spawn(async move {
        let received = tokio::time::timeout(WAIT, async {
            let (mut conn, _) = listener.accept().await?;
            let mut data = vec![];
            (&mut conn).take(MAX_BYTES).read_to_end(&mut data).await?;
            Ok::<_, std::io::Error>(data)
        })
        .await;
        let data = match received {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => return tracing::warn!("switchover frames: {e}"),
            Err(_) => return,
        };
        match vmtap::decode(&data) {
            Ok(frames) => {
                runs.await;
                deliver(&nics, &frames)
            }
            Err(e) => tracing::warn!("switchover frames: {e}"),
        }
    });
    Ok((uri, task))
}

/// Puts each frame on the tap of the NIC it is addressed to.
fn deliver(nics: &[Nic], frames: &[Frame]) {
    let mut delivered = 0;
    for nic in nics {
        let Ok(mac) = nic.mac.parse::<hierro_vswitch::frame::Mac>() else {
            continue;
        };
        let mine: Vec<&Frame> = frames
            .iter()
            .filter(|f| f.bytes.len() >= 6 && f.bytes[..6] == mac.0)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let tap = match PacketSocket::bind(&nic.tap, false) {
            Ok(s) => Endpoint::Packet(s),
            Err(e) => {
                tracing::warn!("switchover frames for {}: {e}", nic.tap);
                continue;
            }
        };
        for f in mine {
            if tap.send(&[&f.bytes], &f.vnet).is_ok() {
                delivered += 1;
            }
        }
    }
    tracing::info!(
        "delivered {delivered} of {} frames held at the source during the switchover",
        frames.len()
    );
}

/// Sends the frames to the destination's `listen` URI (none is fine: the
/// destination stops waiting).
pub async fn send(uri: &str, frames: &[Frame]) -> std::io::Result<()> {
    let address = uri
        .strip_prefix("tcp:")
        .ok_or_else(|| std::io::Error::other(format!("{uri:?} is not tcp:ADDRESS:PORT")))?;
    let mut conn = TcpStream::connect(address).await?;
    conn.set_nodelay(true)?;
    conn.write_all(&vmtap::encode(frames)).await?;
    conn.shutdown().await
}
