//! What the host agent's logic fails with (VMs, their actor, datastores,
//! the network). The API maps each to its error code, and so its HTTP
//! status, at the edge (`api/mod.rs`).

use hierro_api::{ErrorCode, ErrorInfo, PowerState};
use hierro_qemu::{ImgError, LaunchError, QmpError};

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The VM is not in the power state the operation needs.
    #[error("cannot {op} {vm}: it is {state}")]
    PowerState {
        vm: String,
        state: PowerState,
        wanted: PowerState,
        op: String,
    },
    /// The object is in a state that refuses it (a template, a disk that
    /// linked clones read, a lease another host holds...).
    #[error("{0}")]
    Refused(String),
    /// The request names something impossible.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// It clashes with what exists: a name or MAC taken, a port group in use.
    #[error("{0}")]
    Conflict(String),
    #[error("QEMU: {0}")]
    Qmp(#[from] QmpError),
    #[error(transparent)]
    Img(#[from] ImgError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// Another program the host relies on failed (vswitchd, the guest agent).
    #[error("{0}")]
    Backend(String),
    /// A user cancelled the task.
    #[error("{0}")]
    Cancelled(String),
    /// An error reported already (a copy of it, for a second listener).
    #[error("{}", .0.message)]
    Reported(ErrorInfo),
    #[error("{0}")]
    Internal(String),
}

pub type HostResult<T> = Result<T, HostError>;

impl HostError {
    pub fn invalid(message: impl Into<String>) -> Self {
        HostError::Invalid(message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        HostError::NotFound(message.into())
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        HostError::Conflict(message.into())
    }
    pub fn refused(message: impl Into<String>) -> Self {
        HostError::Refused(message.into())
    }
    pub fn backend(message: impl Into<String>) -> Self {
        HostError::Backend(message.into())
    }
    pub fn internal(message: impl Into<String>) -> Self {
        HostError::Internal(message.into())
    }

    pub fn code(&self) -> ErrorCode {
        use HostError::*;
        match self {
            PowerState { .. } | Refused(_) => ErrorCode::InvalidState,
            Invalid(_) => ErrorCode::InvalidArgument,
            NotFound(_) => ErrorCode::NotFound,
            Conflict(_) => ErrorCode::Conflict,
            Qmp(_) | Img(_) | Launch(_) | Backend(_) => ErrorCode::BackendFailed,
            Cancelled(_) => ErrorCode::Cancelled,
            Reported(info) => info.code,
            Internal(_) => ErrorCode::Internal,
        }
    }

    /// The error as the API's body (and a failed task) carries it.
    pub fn info(&self) -> ErrorInfo {
        match self {
            HostError::Reported(info) => info.clone(),
            e => ErrorInfo::new(e.code(), e.to_string()),
        }
    }
}

/// The refusal of an operation a VM's power state forbids.
pub fn require(vm: &str, state: PowerState, wanted: PowerState, op: &str) -> HostResult<()> {
    if state != wanted {
        return Err(HostError::PowerState {
            vm: vm.to_string(),
            state,
            wanted,
            op: op.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_power_state_refusal_names_the_vm_and_both_states() {
        let e = require(
            "web",
            PowerState::PoweredOn,
            PowerState::PoweredOff,
            "revert",
        )
        .unwrap_err();
        assert!(matches!(
            &e,
            HostError::PowerState { vm, state: PowerState::PoweredOn, wanted: PowerState::PoweredOff, .. } if vm == "web"
        ));
        let info = e.info();
        assert_eq!(info.code, ErrorCode::InvalidState);
        assert_eq!(info.message, "cannot revert web: it is poweredOn");
        assert!(require("web", PowerState::PoweredOff, PowerState::PoweredOff, "x").is_ok());
        // QEMU's and qemu-img's failures are the backend's.
        let img = HostError::from(ImgError::Failed {
            command: "create".into(),
            stderr: "no space".into(),
        });
        assert_eq!(img.code(), ErrorCode::BackendFailed);
        assert_eq!(img.to_string(), "qemu-img create: no space");
    }
}
