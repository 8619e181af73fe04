//! The integration tests: real QEMU VMs, host agents, vswitchd and centers in
//! a lab of network namespaces. One test binary, so that the workspace links
//! (and stores) these dependencies once rather than once per file.

// A test that meets an unexpected value should fail there: unwrap is how.
#![allow(clippy::unwrap_used)]

mod common;

mod bad_input;
mod center_api;
mod center_crash;
mod center_dvs;
mod center_hosts;
mod center_matrix;
mod center_openapi;
mod center_perf;
mod center_sagas;
mod center_templates;
mod center_vms;
mod datastore_browser;
mod fuzz_gate;
mod host_openapi;
mod lab_cli;
mod logins;
mod switchover_frames;
mod vm_graphics;
mod vm_lifecycle;
mod vmotion;
mod vswitch_dataplane;
mod vswitch_mirroring;
mod vswitch_teaming;
mod vswitch_vms;
mod web_client;
