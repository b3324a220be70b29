//! The QEMU command line of a run: the machine's shape, the harness's
//! devices (isa-debug-exit, the monitor, the reset log) and how baton and
//! its payload get in (PVH, Multiboot1, a coreboot ROM, GRUB), with the
//! images those entries need made in the run's folder.

use std::path::Path;
use std::process::Command;

use anyhow::Result;
use baton::support::exit::DEBUG_EXIT_PORT;

use crate::coreboot;
use crate::entry::{self, Entry};
use crate::machine::{Machine, baton_cmdline};
use crate::ram::GuestRam;
use crate::setup::QEMU;

/// What a run needs that the line does not say itself: the entry's
/// combinations that cannot boot.
pub fn check(machine: &Machine) -> Result<()> {
    if machine.entry == Entry::Coreboot && machine.machine != "q35" && !machine.payload.direct {
        anyhow::bail!("the coreboot ROM is built for q35, not {}", machine.machine);
    }
    if (machine.boot_modules || machine.grub_iso) && !machine.entry.is_grub() {
        anyhow::bail!(
            "boot_modules and grub_iso need a GRUB entry (grub-multiboot1, grub-multiboot2), not {}",
            machine.entry
        );
    }
    Ok(())
}

/// QEMU booting `elf` on `machine` with `ram`, its resets logged to
/// `debug_log` and its monitor on the socket `monitor`.
pub fn command(
    elf: &Path,
    machine: &Machine,
    dir: &Path,
    ram: &GuestRam,
    debug_log: &Path,
    monitor: &Path,
) -> Result<Command> {
    let mut qemu = Command::new(QEMU);
    // Relative paths in scenario rows' qemu_args are the workspace's.
    qemu.current_dir(crate::root())
        .args([
            "-machine",
            &format!("{}{}", machine.machine, ram.machine_options),
            "-smp",
            &machine.smp.to_string(),
            "-m",
            &machine.memory,
        ])
        .args(&ram.args)
        .args([
            "-cpu",
            &ram.cpu_model(&machine.cpu),
            "-display",
            "none",
            "-serial",
            "stdio",
            "-no-reboot",
        ])
        .args([
            "-device",
            &format!("isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=4"),
        ])
        .args(["-d", "cpu_reset", "-D"])
        .arg(debug_log);
    // Always a monitor: the NMI injections and the screen use it, and a
    // run that times out leaves its CPUs' state (`hang-state.txt`).
    let _ = std::fs::remove_file(monitor);
    qemu.arg("-monitor")
        .arg(format!("unix:{},server=on,wait=off", monitor.display()));
    boot_args(&mut qemu, elf, machine, dir)?;
    qemu.args(crate::ram::with_phys_bits(&machine.qemu_args, ram));
    if machine.gdb {
        qemu.args(["-s", "-S"]);
        eprintln!("xtask: QEMU waits for gdb on tcp::1234 (target remote :1234)");
    }
    Ok(qemu)
}

/// What QEMU boots: the kernel itself (a direct boot, no baton) or baton
/// by the machine's entry, with the payload.
fn boot_args(qemu: &mut Command, elf: &Path, machine: &Machine, dir: &Path) -> Result<()> {
    let cmdline = baton_cmdline(machine, true);
    let payload = &machine.payload;
    match (&payload.kernel, payload.direct) {
        (Some(kernel), true) => {
            qemu.arg("-kernel").arg(kernel);
            if let Some(initrd) = &payload.initrd {
                qemu.arg("-initrd").arg(initrd);
            }
            qemu.args(["-append", payload.cmdline.as_deref().unwrap_or("")]);
        }
        (None, true) => anyhow::bail!("a direct boot (QEMU -kernel, no baton) needs a kernel"),
        (_, false) => match machine.entry {
            Entry::Pvh => {
                qemu.arg("-kernel")
                    .arg(entry::pvh_image(elf, dir)?)
                    .args(["-append", &cmdline])
                    .args(payload.fw_cfg_args());
            }
            Entry::Multiboot1 => {
                qemu.arg("-kernel")
                    .arg(elf)
                    .args(["-append", &cmdline])
                    .args(payload.fw_cfg_args());
            }
            Entry::Coreboot => {
                // Under coreboot there is no loader command line: baton
                // reads its options from the CBFS file `config`.
                let rom = dir.join("coreboot.rom");
                let contents = coreboot::Contents {
                    payload,
                    config: &cmdline,
                    compression: machine.compression,
                };
                let variant = coreboot::Variant::for_machine(machine.smp, machine.framebuffer)?;
                let note = coreboot::payload_rom(variant, elf, &contents, &rom)?;
                std::fs::write(dir.join("coreboot.txt"), format!("{note}\n"))?;
                qemu.arg("-bios").arg(&rom);
                if machine.framebuffer {
                    qemu.args(["-vga", "std"]);
                }
            }
            Entry::GrubMultiboot1 | Entry::GrubMultiboot2 if machine.grub_iso => {
                let iso = crate::iso::grub_iso(machine.entry, elf, &cmdline, payload, dir)?;
                qemu.arg("-cdrom").arg(iso).args(["-boot", "d"]);
            }
            Entry::GrubMultiboot1 | Entry::GrubMultiboot2 => {
                let image = entry::grub_image(
                    machine.entry,
                    elf,
                    &cmdline,
                    payload,
                    machine.boot_modules,
                    dir,
                )?;
                qemu.arg("-kernel").arg(image);
                if !machine.boot_modules {
                    qemu.args(payload.fw_cfg_args());
                }
            }
        },
    }
    Ok(())
}
