//! A GRUB rescue ISO (Debian's `grub-mkrescue`) that boots baton by
//! `multiboot`/`multiboot2` from a CD, with the kernel, initrd and modules
//! as GRUB boot modules: the way in for machines without fw_cfg or
//! `-kernel` (Bochs), and for QEMU rows that want GRUB as a real BIOS boot
//! loader loads it (`-cdrom`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::entry::{self, Entry};
use crate::payload::Payload;

/// What `grub-mkrescue` needs: GRUB's BIOS modules, xorriso to write the
/// ISO 9660 image, mtools for its El Torito FAT image.
pub const PACKAGES: &[&str] = &["grub-pc-bin", "xorriso", "mtools"];
pub const WHY: &str = "booting baton from a GRUB ISO";

/// Makes `dir/grub/baton.iso`: `/boot/grub/grub.cfg`, `/boot/baton` and
/// the payload's files as boot modules (`module2 /boot/kernel kernel
/// CMDLINE`, ...). `entry` picks `multiboot` or `multiboot2`; it must be a
/// GRUB entry.
pub fn grub_iso(
    entry: Entry,
    elf: &Path,
    cmdline: &str,
    payload: &Payload,
    dir: &Path,
) -> Result<PathBuf> {
    if !entry.is_grub() {
        bail!("a GRUB ISO boots baton by grub-multiboot1 or grub-multiboot2, not {entry}");
    }
    crate::setup::ensure_packages(WHY, PACKAGES)?;
    let work = dir.join("grub");
    let _ = std::fs::remove_dir_all(&work);
    let tree = work.join("iso");
    let boot = tree.join("boot");
    std::fs::create_dir_all(boot.join("grub"))?;
    let mut cfg = String::from("set timeout=0\n");
    cfg.push_str(&entry::grub_cfg(entry, cmdline, payload, true, "/boot"));
    std::fs::write(boot.join("grub/grub.cfg"), cfg)?;
    entry::copy_boot_files(&entry::boot_files(elf, payload, true), &boot)?;
    let iso = work.join("baton.iso");
    // Relative paths: xorriso reads a `=` in a path (the scenario
    // directories have them) as a graft point.
    let log = crate::setup::run(Command::new("grub-mkrescue").current_dir(&work).args([
        "-o",
        "baton.iso",
        "iso",
    ]))?;
    if !iso.is_file() {
        bail!("grub-mkrescue made no {}: {log}", iso.display());
    }
    Ok(iso)
}
