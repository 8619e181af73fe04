//! `hierro vm console`: the terminal joined to the VM's serial console.

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// Ctrl-] leaves the console, as in telnet and virsh.
const ESCAPE: u8 = 0x1d;

pub async fn attach(client: &hierro_client::Client, vm: &str) -> anyhow::Result<()> {
    let ws = client.console(vm).await?;
    let _raw = RawMode::enter();
    if _raw.is_some() {
        eprintln!("connected to the console of {vm}; Ctrl-] leaves\r");
    }
    let (mut tx, mut rx) = ws.split();
    let to_terminal = async {
        let mut stdout = tokio::io::stdout();
        while let Some(Ok(msg)) = rx.next().await {
            let bytes = match msg {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            stdout.write_all(&bytes).await?;
            stdout.flush().await?;
        }
        anyhow::Ok(())
    };
    let from_terminal = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 1024];
        loop {
            let n = stdin.read(&mut buf).await?;
            if n == 0 {
                // Input ended (a pipe): keep showing output a moment, then leave.
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                break;
            }
            if let Some(pos) = buf[..n].iter().position(|b| *b == ESCAPE) {
                if pos > 0 {
                    tx.send(Message::Binary(buf[..pos].to_vec().into())).await?;
                }
                break;
            }
            tx.send(Message::Binary(buf[..n].to_vec().into())).await?;
        }
        anyhow::Ok(())
    };
    tokio::select! {
        r = to_terminal => r?,
        r = from_terminal => r?,
    }
    Ok(())
}

/// Puts a terminal stdin in raw mode and restores it on drop.
struct RawMode(nix::sys::termios::Termios);

impl RawMode {
    fn enter() -> Option<RawMode> {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(&stdin, SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin(),
            nix::sys::termios::SetArg::TCSANOW,
            &self.0,
        );
    }
}

/// `hierro vm console --vnc`: a local port for a native VNC viewer. Each
/// viewer that connects gets its own ticket and WebSocket to the VM's
/// display; the port is on loopback only, and lives until Ctrl-C.
pub async fn serve_vnc(client: &hierro_client::Client, vm: &str, port: u16) -> anyhow::Result<()> {
    // Refused now, with the server's reason, if there is nothing to open.
    client.console_ticket(vm).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!(
        "VNC of {vm} on {addr} (vncviewer {}::{}); Ctrl-C ends",
        addr.ip(),
        addr.port()
    );
    loop {
        let (viewer, from) = listener.accept().await?;
        let ws = match client.vnc(vm).await {
            Ok(ws) => ws,
            Err(e) => {
                eprintln!("viewer {from}: {e}");
                continue;
            }
        };
        tokio::spawn(relay_vnc(viewer, ws));
    }
}

async fn relay_vnc(viewer: tokio::net::TcpStream, ws: hierro_client::ConsoleSocket) {
    let (mut from_viewer, mut to_viewer) = viewer.into_split();
    let (mut tx, mut rx) = ws.split();
    let down = async {
        while let Some(Ok(msg)) = rx.next().await {
            match msg {
                Message::Binary(b) => {
                    if to_viewer.write_all(&b).await.is_err() {
                        return;
                    }
                }
                Message::Close(_) => return,
                _ => continue,
            }
        }
    };
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = from_viewer.read(&mut buf).await {
            if n == 0
                || tx
                    .send(Message::Binary(buf[..n].to_vec().into()))
                    .await
                    .is_err()
            {
                return;
            }
        }
    };
    tokio::select! {
        _ = down => {}
        _ = up => {}
    }
}
