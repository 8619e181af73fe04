//! The QEMU backend of the host agent: how a VM becomes a `qemu-system-x86_64`
//! process (`launch`), how we talk to it (`qmp`) and to its guest agent
//! (`qga`), and its disks (`img`). It knows nothing of the REST API.

pub mod accel;
pub mod img;
pub mod launch;
pub mod process;
mod qga;
mod qmp;

pub use accel::Accel;
pub use img::ImgError;
pub use launch::{CdromLaunch, Graphics, LaunchError, LaunchSpec, NicLaunch, RunPaths};
pub use qga::Qga;
pub use qmp::{Qmp, QmpError, QmpEvent};
