//! One boot under QEMU (or Bochs), and the Debian packages it needs.

use std::path::Path;

use anyhow::{Context, Result};

use super::{command, watch};
use crate::coreboot;
use crate::entry::Entry;
use crate::machine::{Emulator, Machine, Run};

/// Boots `elf` on `machine` (under QEMU or Bochs); logs go to `dir`. With
/// `echo`, the serial output is also printed as it comes.
pub fn boot(elf: &Path, machine: &Machine, dir: &Path, echo: bool) -> Result<Run> {
    // The probe's `{old-park}` becomes this build's address.
    let filled = crate::probe::fill_in(machine.payload.cmdline.as_deref(), elf)?.map(|c| {
        let mut m = machine.clone();
        m.payload.cmdline = Some(c);
        m
    });
    let machine = filled.as_ref().unwrap_or(machine);
    if machine.emulator == Emulator::Bochs {
        return crate::bochs::boot(elf, machine, dir, echo);
    }
    // The folder holds this run's files only.
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let debug_log = dir.join("qemu-debug.log");
    let _ = std::fs::remove_file(&debug_log);
    command::check(machine)?;
    // Kept until QEMU has exited: it removes a sparse RAM file.
    let ram = crate::ram::GuestRam::plan(&machine.memory, &crate::root().join("target/xtask/ram"))?;
    for note in &ram.notes {
        crate::ui::say(note);
    }
    let monitor = watch::monitor_socket();
    let qemu = command::command(elf, machine, dir, &ram, &debug_log, &monitor)?;
    std::fs::write(dir.join("command.txt"), format!("{qemu:?}\n"))?;
    let watched = watch::watch(qemu, machine, dir, &monitor, &debug_log, echo)?;
    if let Some(used) = ram.file_usage() {
        crate::ui::say(format!(
            "the guest touched {} MiB of its sparse RAM file",
            used >> 20
        ));
    }
    drop(ram);
    Ok(Run {
        outcome: watched.outcome,
        serial: watched.serial,
        elapsed: watched.elapsed,
        dir: dir.to_path_buf(),
        line_times: watched.line_times,
    })
}

/// What a Debian-package check needs for a run of `machine` (QEMU or
/// Bochs, GRUB and its ISO tools, coreboot's build tools when its ROM is
/// not built yet).
pub fn add_needs(machine: &Machine, needs: &mut crate::setup::Needs) {
    let (entry, smp) = (machine.entry, machine.smp);
    if machine.emulator == Emulator::Bochs {
        crate::bochs::add_needs(needs);
        return;
    }
    needs.qemu = true;
    if machine.grub_iso {
        needs.add(crate::iso::WHY, crate::iso::PACKAGES);
    }
    if entry.is_grub() {
        needs.add("booting baton through GRUB", &["grub-pc-bin"]);
    }
    if entry == Entry::Coreboot {
        let variant = coreboot::Variant::for_machine(smp, machine.framebuffer)
            .unwrap_or(coreboot::Variant::Q35Framebuffer);
        coreboot::add_needs(variant, needs);
    }
}
