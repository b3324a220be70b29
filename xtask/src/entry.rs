//! How a run enters baton, and the images each way needs:
//!
//! - `pvh`: QEMU `-kernel` by the PVH note. QEMU tries a Multiboot1 header
//!   first, so the harness hands it a copy of baton's ELF with that header
//!   disabled (`disable_multiboot1`).
//! - `multiboot1`: QEMU `-kernel` through baton's Multiboot1 header (the ELF
//!   unchanged).
//! - `coreboot`: a coreboot ROM with baton as its payload (`-bios`; see
//!   coreboot/).
//! - `grub-multiboot1`, `grub-multiboot2`: GRUB (Debian's grub-pc-bin) loads
//!   baton with `multiboot` / `multiboot2` (`grub_image`).
//!
//! All but coreboot keep the fw_cfg files; coreboot's come from CBFS.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::payload::Payload;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Entry {
    #[default]
    Pvh,
    Multiboot1,
    Coreboot,
    GrubMultiboot1,
    GrubMultiboot2,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entry::Pvh => "pvh",
            Entry::Multiboot1 => "multiboot1",
            Entry::Coreboot => "coreboot",
            Entry::GrubMultiboot1 => "grub-multiboot1",
            Entry::GrubMultiboot2 => "grub-multiboot2",
        })
    }
}

impl Entry {
    pub fn is_grub(self) -> bool {
        matches!(self, Entry::GrubMultiboot1 | Entry::GrubMultiboot2)
    }
}

const MULTIBOOT1_MAGIC: u32 = 0x1bad_b002;
/// The Multiboot1 spec: the header lies in the first 8192 bytes, 4-aligned.
const MULTIBOOT1_SEARCH: usize = 8192;

/// Finds a Multiboot1 header exactly as QEMU does (magic 0x1BADB002 at a
/// 4-byte aligned offset in the first 8192 bytes, with magic + flags +
/// checksum == 0 mod 2^32) and zeroes its magic. Returns its offset, or
/// None if there is none (then the image is unchanged).
pub fn disable_multiboot1(image: &mut [u8]) -> Option<usize> {
    let word = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let end = image.len().min(MULTIBOOT1_SEARCH);
    let at = (0..end).step_by(4).find(|&at| {
        match (word(image, at), word(image, at + 4), word(image, at + 8)) {
            (Some(magic), Some(flags), Some(checksum)) => {
                magic == MULTIBOOT1_MAGIC && magic.wrapping_add(flags).wrapping_add(checksum) == 0
            }
            _ => false,
        }
    })?;
    image[at..at + 4].fill(0);
    Some(at)
}

/// The image QEMU `-kernel` gets for `entry = pvh`: `elf` itself when it
/// has no Multiboot1 header, else a copy in `dir` without it.
pub fn pvh_image(elf: &Path, dir: &Path) -> Result<PathBuf> {
    let mut bytes = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    match disable_multiboot1(&mut bytes) {
        None => Ok(elf.to_path_buf()),
        Some(_) => {
            let copy = dir.join("baton-pvh");
            std::fs::write(&copy, &bytes).with_context(|| format!("writing {}", copy.display()))?;
            Ok(copy)
        }
    }
}

const GRUB_DIR: &str = "/usr/lib/grub/i386-pc";
/// The GRUB modules built into core.img (none are read from a disk).
const GRUB_MODULES: &[&str] = &[
    "memdisk",
    "tar",
    "normal",
    "configfile",
    "multiboot",
    "multiboot2",
    "serial",
    "terminal",
    "echo",
    "boot",
    "halt",
];

/// A word of grub.cfg, single-quoted (GRUB's shell-like quoting).
fn grub_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// A grub.cfg line: a command and quoted words.
fn grub_line(command: &str, words: &[&str]) -> String {
    let mut line = command.to_string();
    for w in words.iter().filter(|w| !w.is_empty()) {
        line.push(' ');
        line.push_str(&grub_quote(w));
    }
    line
}

/// grub.cfg: serial console, baton by `multiboot`/`multiboot2` with its
/// command line, and with `boot_modules` the kernel (module line `kernel
/// CMDLINE`), initrd and modules as boot modules. The files lie in `dir`
/// of GRUB's root (`""` in the memdisk, `"/boot"` on an ISO; see
/// [`boot_files`] for their names).
pub fn grub_cfg(
    entry: Entry,
    cmdline: &str,
    payload: &Payload,
    boot_modules: bool,
    dir: &str,
) -> String {
    let (load, module) = match entry {
        Entry::GrubMultiboot1 => ("multiboot", "module"),
        _ => ("multiboot2", "module2"),
    };
    let words: Vec<&str> = cmdline.split_whitespace().collect();
    let mut cfg = String::from(
        "serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n",
    );
    cfg.push_str(&format!("echo 'grub: {load} {dir}/baton'\n"));
    cfg.push_str(&grub_line(&format!("{load} {dir}/baton"), &words));
    cfg.push('\n');
    if boot_modules {
        if payload.kernel.is_some() {
            let line = format!("kernel {}", payload.cmdline.as_deref().unwrap_or(""));
            let words: Vec<&str> = line.split_whitespace().collect();
            cfg.push_str(&grub_line(&format!("{module} {dir}/kernel"), &words));
            cfg.push('\n');
        }
        if payload.initrd.is_some() {
            cfg.push_str(&format!("{module} {dir}/initrd 'initrd'\n"));
        }
        for (i, (_, line)) in payload.modules.iter().enumerate() {
            let words: Vec<&str> = line.as_deref().unwrap_or("").split_whitespace().collect();
            cfg.push_str(&grub_line(&format!("{module} {dir}/module{i}"), &words));
            cfg.push('\n');
        }
    }
    // `boot` does not return when it works; when it fails, power off so the
    // run ends at once instead of at the GRUB prompt.
    cfg.push_str("echo 'grub: boot'\nboot\necho 'grub: boot failed'\nhalt\n");
    cfg
}

/// A GRUB that QEMU `-kernel` can load (lnxboot.img + core.img, with a
/// memdisk tar holding grub.cfg, baton and, with `boot_modules`, the
/// payload's files), made in `dir`; returns its path.
pub fn grub_image(
    entry: Entry,
    elf: &Path,
    cmdline: &str,
    payload: &Payload,
    boot_modules: bool,
    dir: &Path,
) -> Result<PathBuf> {
    crate::setup::ensure_packages("booting baton through GRUB", &["grub-pc-bin"])?;
    let work = dir.join("grub");
    let _ = std::fs::remove_dir_all(&work);
    let memdisk = work.join("memdisk");
    std::fs::create_dir_all(memdisk.join("boot/grub"))?;
    std::fs::write(
        memdisk.join("boot/grub/grub.cfg"),
        grub_cfg(entry, cmdline, payload, boot_modules, ""),
    )?;
    let files = boot_files(elf, payload, boot_modules);
    // core.img (the memdisk inside, LZMA-compressed) may be at most 480 KiB.
    copy_boot_files(&files, &memdisk)?;
    let tar = work.join("memdisk.tar");
    let mut cmd = Command::new("tar");
    cmd.arg("-cf").arg(&tar).arg("-C").arg(&memdisk).arg("boot");
    cmd.args(files.iter().map(|(name, _)| name));
    crate::setup::run(&mut cmd)?;
    let core = work.join("core.img");
    crate::setup::run(
        Command::new("grub-mkimage")
            .args(["-O", "i386-pc", "-p", "(memdisk)/boot/grub", "-m"])
            .arg(&tar)
            .arg("-o")
            .arg(&core)
            .args(GRUB_MODULES),
    )?;
    let mut image = std::fs::read(Path::new(GRUB_DIR).join("lnxboot.img"))
        .with_context(|| format!("reading {GRUB_DIR}/lnxboot.img"))?;
    image.extend(std::fs::read(&core)?);
    let out = work.join("grub.bin");
    std::fs::write(&out, image)?;
    if std::fs::metadata(&out)?.len() == 0 {
        bail!("empty GRUB image");
    }
    Ok(out)
}

/// The files GRUB loads, by their names beside grub.cfg's lines: baton,
/// and with `boot_modules` the kernel, initrd and modules.
pub fn boot_files(elf: &Path, payload: &Payload, boot_modules: bool) -> Vec<(String, PathBuf)> {
    let mut files = vec![("baton".to_string(), elf.to_path_buf())];
    if boot_modules {
        if let Some(k) = &payload.kernel {
            files.push(("kernel".into(), k.clone()));
        }
        if let Some(i) = &payload.initrd {
            files.push(("initrd".into(), i.clone()));
        }
        for (i, (path, _)) in payload.modules.iter().enumerate() {
            files.push((format!("module{i}"), path.clone()));
        }
    }
    files
}

/// Copies `files` into `dir` under their names; baton and the kernel (the
/// first two) without their debug information where they are ELF files.
pub fn copy_boot_files(files: &[(String, PathBuf)], dir: &Path) -> Result<()> {
    for (i, (name, path)) in files.iter().enumerate() {
        let is_elf = std::fs::read(path)
            .map(|b| b.starts_with(b"\x7fELF"))
            .unwrap_or(false);
        let stripped = i < 2
            && is_elf
            && Command::new("strip")
                .arg("--strip-debug")
                .arg("-o")
                .arg(dir.join(name))
                .arg(path)
                .status()
                .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(path, dir.join(name))
                .with_context(|| format!("copying {} into {}", path.display(), dir.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags: u32) -> [u8; 12] {
        let mut h = [0u8; 12];
        h[..4].copy_from_slice(&MULTIBOOT1_MAGIC.to_le_bytes());
        h[4..8].copy_from_slice(&flags.to_le_bytes());
        let checksum = 0u32.wrapping_sub(MULTIBOOT1_MAGIC).wrapping_sub(flags);
        h[8..].copy_from_slice(&checksum.to_le_bytes());
        h
    }

    #[test]
    fn the_multiboot1_header_is_disabled_as_qemu_finds_it() {
        let mut image = vec![0xaau8; 10000];
        image[0x1000..0x100c].copy_from_slice(&header(0x10003));
        let before = image.clone();
        assert_eq!(disable_multiboot1(&mut image), Some(0x1000));
        assert_eq!(&image[0x1000..0x1004], &[0, 0, 0, 0]);
        // Only the magic changes.
        assert_eq!(image[..0x1000], before[..0x1000]);
        assert_eq!(image[0x1004..], before[0x1004..]);
        // Now there is none.
        assert_eq!(disable_multiboot1(&mut image), None);
    }

    #[test]
    fn only_a_valid_aligned_header_in_the_first_8k_counts() {
        // A bad checksum: not a header (QEMU would not take it either).
        let mut bad = header(3);
        bad[8] ^= 1;
        let mut image = vec![0u8; 9000];
        image[0x100..0x10c].copy_from_slice(&bad);
        // Misaligned.
        image[0x202..0x20e].copy_from_slice(&header(3));
        // Past 8192 bytes.
        image[8192..8204].copy_from_slice(&header(3));
        let before = image.clone();
        assert_eq!(disable_multiboot1(&mut image), None);
        assert_eq!(image, before);
        // The first valid one wins; a header at the very end of the search
        // window still counts.
        image[8188..8192].copy_from_slice(&MULTIBOOT1_MAGIC.to_le_bytes());
        let h = header(3);
        image[8192..8196].copy_from_slice(&h[4..8]);
        image[8196..8200].copy_from_slice(&h[8..12]);
        assert_eq!(disable_multiboot1(&mut image), Some(8188));
        // A short image does not panic.
        let mut short = MULTIBOOT1_MAGIC.to_le_bytes().to_vec();
        assert_eq!(disable_multiboot1(&mut short), None);
    }

    #[test]
    fn grub_cfg_loads_baton_and_the_kernel_as_a_module() {
        let payload = Payload {
            kernel: Some("/k".into()),
            cmdline: Some("probe.settle-ms=100".into()),
            modules: vec![("/m".into(), Some("it's".into()))],
            ..Payload::default()
        };
        let cfg = grub_cfg(
            Entry::GrubMultiboot2,
            "debug-exit=0xf4 log=debug",
            &payload,
            true,
            "",
        );
        assert!(
            cfg.contains("multiboot2 /baton 'debug-exit=0xf4' 'log=debug'\n"),
            "{cfg}"
        );
        assert!(
            cfg.contains("module2 /kernel 'kernel' 'probe.settle-ms=100'\n"),
            "{cfg}"
        );
        assert!(cfg.contains(r"module2 /module0 'it'\''s'"), "{cfg}");
        assert!(cfg.contains("\nboot\n"), "{cfg}");
        assert!(cfg.ends_with("halt\n"), "{cfg}");
        let cfg = grub_cfg(Entry::GrubMultiboot1, "", &payload, false, "");
        assert!(cfg.contains("multiboot /baton\n"), "{cfg}");
        assert!(!cfg.contains("module"), "{cfg}");
    }
}
