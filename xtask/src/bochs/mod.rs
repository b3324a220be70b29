//! The Bochs harness: one boot of baton under Debian's Bochs 2.7, a second
//! x86 written independently of QEMU. Its CPUs run interleaved in one
//! thread a few instructions at a time and MWAIT sleeps until a store to
//! the monitored line (under QEMU's TCG it returns at once), so a parked
//! AP woken by the next kernel's writes happens here as on hardware.
//!
//! Bochs has no fw_cfg and no `-kernel`: baton boots from a GRUB ISO
//! (`iso.rs`) with the kernel, initrd and modules as boot modules. It has
//! no isa-debug-exit either: a run is judged from the serial log (COM1 to
//! a file) and Bochs' own log (a triple fault, the BSP halted with
//! interrupts off, Bochs' panics). Debian's build has its debugger
//! compiled in: it waits for a command at t=0 (`-rc` gives it `c`),
//! ignores SIGTERM (the run ends with SIGKILL) and needs a display library
//! (`term`, writing to a file nobody reads).
//!
//! `config.rs` holds the machine's configuration (its bochsrc), `run.rs`
//! the run and how its end is read.

mod config;
mod run;

use std::path::PathBuf;

pub use config::{MAX_CPUS, check, entry};
pub use run::boot;

/// Debian's Bochs with the text-terminal display library (the only one
/// that needs no X) and its BIOS images.
pub const PACKAGES: &[&str] = &["bochs", "bochs-term", "bochsbios", "vgabios"];
pub const WHY: &str = "running baton under Bochs";

/// The packages a Bochs run needs: Bochs and what the GRUB ISO needs.
pub fn add_needs(needs: &mut crate::setup::Needs) {
    needs.add(WHY, PACKAGES);
    needs.add(crate::iso::WHY, crate::iso::PACKAGES);
}

/// Where `cargo xtask run --emulator bochs` keeps its files.
pub fn run_dir() -> PathBuf {
    crate::root().join("target/xtask/run-bochs")
}
