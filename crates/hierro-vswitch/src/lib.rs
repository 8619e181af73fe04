//! vswitchd: Hierro's userspace Layer 2 switch. `switch` is the forwarding
//! logic (pure, unit-tested against vSphere's semantics); the dataplane moves
//! frames between it and the host's interfaces.

pub mod frame;
pub mod switch;

#[cfg(test)]
mod switch_tests;
