//! A VM's graphical console: its display as a PNG (QMP `screendump`) and
//! its VNC server, a unix socket in the VM's run directory that only the
//! host agent reaches (the API relays it to ticket holders).

use hierro_api::{Display, PowerState};
use serde_json::json;
use tokio::net::UnixStream;

use super::Vm;
use crate::error::{HostError, HostResult};

impl Vm {
    /// Refuses a console of a VM that is off or has no display.
    fn require_display(&self, what: &str) -> HostResult<()> {
        if self.power() != PowerState::PoweredOn {
            return Err(HostError::refused(format!(
                "{} is not powered on: it has no {what}",
                self.name()
            )));
        }
        if self.config().display == Display::None {
            return Err(HostError::refused(format!(
                "{} has no display adapter (display: none): use its serial console",
                self.name()
            )));
        }
        Ok(())
    }

    /// What the VM's display shows now, as a PNG.
    pub async fn screenshot(&self) -> HostResult<Vec<u8>> {
        self.require_display("screen")?;
        let (_, qmp) = self
            .process()
            .ok_or_else(|| HostError::refused(format!("{} has no QMP connection", self.name())))?;
        let file = self
            .run
            .dir
            .join(format!("screen-{}.png", uuid::Uuid::new_v4()));
        let taken = qmp
            .execute_value(
                "screendump",
                json!({"filename": file.to_string_lossy(), "format": "png"}),
            )
            .await;
        let png = taken.map_err(HostError::from).and_then(|_| {
            std::fs::read(&file).map_err(|e| HostError::internal(format!("the screenshot: {e}")))
        });
        let _ = std::fs::remove_file(&file);
        png
    }

    /// A connection to the VM's VNC server.
    pub async fn vnc(&self) -> HostResult<UnixStream> {
        self.require_display("graphical console")?;
        UnixStream::connect(self.run.vnc())
            .await
            .map_err(|e| HostError::backend(format!("{}'s VNC server: {e}", self.name())))
    }
}
