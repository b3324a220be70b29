//! The portable half of baton: everything that is not a register access,
//! built and tested on the host. The bare-metal half is `main.rs` and
//! `machine/`.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

// The stages in pipeline order, then the settings and the shared helpers.
// docs/ARCHITECTURE.md, "The layout", has the map; `cargo xtask deps`
// checks that no module uses a later stage.
pub mod acpi;
pub mod entry;
pub mod options;
pub mod smp;
pub mod source;
pub mod support;
pub mod takeover;
