//! The QEMU harness: one boot of baton under a given machine shape, its
//! serial log captured to a file, and a verdict on how it ended.
//!
//! How an end is told apart: baton reports through isa-debug-exit, so QEMU
//! exits with `(code << 1) | 1` (pass, error, panic, exception). A triple
//! fault under `-no-reboot` makes QEMU exit 0, which is why no pass is ever
//! 0; QEMU's `-d cpu_reset` log names the triple fault. A run that has not
//! ended by its timeout is a hang.
//!
//! `command.rs` makes QEMU's command line, `watch.rs` runs it to its end,
//! `screen.rs` reads the screen and the CPUs through the monitor, and
//! `interactive.rs` is `cargo xtask run`.

mod command;
mod interactive;
mod screen;
mod watch;

use std::path::Path;

use anyhow::{Context, Result};

use crate::coreboot;
use crate::entry::Entry;
use crate::machine::{Emulator, Machine, Outcome, Run};
pub use interactive::run_interactive;

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

/// The end `test=...` in baton's command line asks for, if any.
pub fn asked_end(cmdline: &str) -> Option<(Outcome, &str)> {
    let word = cmdline
        .split_whitespace()
        .find(|w| w.starts_with("test="))?;
    let outcome = match word.strip_prefix("test=")? {
        w if w.starts_with("fault:") => Outcome::Exception,
        "panic" => Outcome::Panic,
        "triple-fault" => Outcome::TripleFault,
        "hang" => Outcome::Hang,
        _ => return None,
    };
    Some((outcome, word))
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

#[cfg(test)]
mod tests {
    #[test]
    fn verdicts_say_what_the_end_means() {
        use crate::machine::{Outcome, verdict};
        let pf = "baton: EXCEPTION vector 14 (#PF page fault) error code 0x0";
        assert_eq!(
            verdict(Outcome::Exception, pf, Some(Outcome::Exception)),
            "pass (expected exception #PF)"
        );
        assert_eq!(verdict(Outcome::Exception, pf, None), "exception #PF");
        assert_eq!(
            verdict(Outcome::Shutdown, "baton-linux-init: cpus=4", None),
            "pass (Linux reached init)"
        );
        assert_eq!(verdict(Outcome::KernelPass, "", None), "pass (probe)");
        assert_eq!(
            verdict(Outcome::Hang, "", Some(Outcome::Hang)),
            "pass (expected hang)"
        );
        assert_eq!(verdict(Outcome::Panic, "", Some(Outcome::Pass)), "panic");
    }
}
