//! The portable half of baton: everything that is not a register access,
//! built and tested on the host. The bare-metal half is `main.rs` and
//! `machine/`.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod acpi;
pub mod bootinfo;
pub mod calibration;
pub mod cbfs;
pub mod coreboot;
pub mod exit;
pub mod frames;
pub mod fwcfg;
pub mod handoff;
pub mod initrd;
pub mod multiboot;
pub mod options;
pub mod phys;
pub mod pvh;
pub mod quote;
pub mod smp;
pub mod source;
pub mod stop;
pub mod text;
pub mod timeline;
pub mod vga;
