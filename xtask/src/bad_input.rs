//! Bad input for the scenarios that check baton's errors end to end: broken
//! kernels made from the probe's real ELF by one deliberate cut or patch
//! each (cases of payload-loader/tests/malformed.rs, on a real file), and an
//! initrd cut short. Written under `target/xtask/bad-input/` on demand.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::probe::Flavour;

/// The named broken kernels, for `--kernel` and scenario rows.
pub const KERNELS: [&str; 9] = [
    "malformed-truncated",
    "malformed-machine",
    "malformed-phdrs",
    "mb2-fb-required",
    "mb2-fb-required-1024x768",
    "bzimage-truncated",
    "bzimage-setup-past-end",
    "bzimage-old-protocol",
    "bzimage-init-size",
];

/// The named broken initrd: Debian's busybox initramfs cut in half (inside
/// `/bin/busybox`, the largest member).
pub const TRUNCATED_INITRD: &str = "initramfs-truncated";

/// Scenarios run in threads and several use the same file: one writer at
/// a time, each write atomic (a QEMU may be reading the file meanwhile).
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn write(name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir()?.join(name);
    let _one = WRITING
        .lock()
        .map_err(|_| anyhow::anyhow!("bad input: lock poisoned"))?;
    crate::setup::write_atomically(&path, bytes)?;
    Ok(path)
}

fn dir() -> Result<PathBuf> {
    let dir = crate::root().join("target/xtask/bad-input");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The broken kernel `name` (one of KERNELS).
pub fn kernel(name: &str) -> Result<PathBuf> {
    if name.starts_with("bzimage-") {
        return bzimage(name);
    }
    if name.starts_with("mb2-fb-required") {
        return framebuffer_required(name);
    }
    let probe = crate::probe::build(Flavour::Pvh)?;
    let mut elf = std::fs::read(&probe).with_context(|| format!("reading {}", probe.display()))?;
    let len = elf.len();
    match name {
        // Cut in the middle of its last loadable segment's bytes.
        "malformed-truncated" => {
            let parsed = goblin::elf::Elf::parse(&elf).context("parsing the probe's ELF")?;
            let Some(last) = parsed
                .program_headers
                .iter()
                .filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD && p.p_filesz > 1)
                .max_by_key(|p| p.p_offset)
            else {
                bail!("the probe's ELF has no loadable bytes to cut");
            };
            let cut = (last.p_offset + last.p_filesz / 2) as usize;
            elf.truncate(cut);
        }
        // e_machine = 0x28 (ARM).
        "malformed-machine" => elf[18..20].copy_from_slice(&0x28u16.to_le_bytes()),
        // e_phoff beyond the end of the file.
        "malformed-phdrs" => elf[32..40].copy_from_slice(&(len as u64 + 0x1000).to_le_bytes()),
        other => bail!("no broken kernel named {other:?} (known: {KERNELS:?})"),
    }
    write(&format!("{name}.elf"), &elf)
}

/// The Multiboot2 probe whose framebuffer tag (optional, any mode) is made
/// required: `mb2-fb-required` any mode, `mb2-fb-required-1024x768` that
/// mode at 32 bpp (which baton, setting no modes, meets only if the
/// firmware left it). The tag is not part of the header's checksum.
fn framebuffer_required(name: &str) -> Result<PathBuf> {
    let probe = crate::probe::build(Flavour::Multiboot2)?;
    let mut elf = std::fs::read(&probe).with_context(|| format!("reading {}", probe.display()))?;
    let magic = 0xE852_50D6u32.to_le_bytes();
    let header = (0..elf.len().min(32768).saturating_sub(16))
        .step_by(8)
        .find(|&at| elf[at..at + 4] == magic)
        .context("the Multiboot2 probe has no Multiboot2 header")?;
    // The probe's first tag, right after the 16-byte header.
    let tag = header + 16;
    if elf.get(tag..tag + 4) != Some(&[5, 0, 1, 0][..]) {
        bail!("the Multiboot2 probe's first tag at {tag:#x} is not its optional framebuffer tag");
    }
    elf[tag + 2] = 0; // required
    if name == "mb2-fb-required-1024x768" {
        for (i, v) in [1024u32, 768, 32].iter().enumerate() {
            let at = tag + 8 + 4 * i;
            elf[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
    }
    write(&format!("{name}.elf"), &elf)
}

/// A broken bzImage made from Debian's vmlinuz (its setup header patched
/// at the boot protocol's offsets, or the file cut).
fn bzimage(name: &str) -> Result<PathBuf> {
    let assets = crate::linux::prepare()?;
    let mut bz = std::fs::read(&assets.vmlinuz)
        .with_context(|| format!("reading {}", assets.vmlinuz.display()))?;
    match name {
        // Cut in the middle of the compressed kernel.
        "bzimage-truncated" => bz.truncate(bz.len() / 2),
        // setup_sects = 255 (128 KiB of setup) in a file of 64 KiB.
        "bzimage-setup-past-end" => {
            bz[0x1f1] = 0xff;
            bz.truncate(64 * 1024);
        }
        // Boot protocol 2.05 (before relocatable kernels and init_size).
        "bzimage-old-protocol" => bz[0x206..0x208].copy_from_slice(&0x0205u16.to_le_bytes()),
        // init_size 3.75 GiB: no RAM of the machine holds it.
        "bzimage-init-size" => bz[0x260..0x264].copy_from_slice(&0xf000_0000u32.to_le_bytes()),
        other => bail!("no broken kernel named {other:?} (known: {KERNELS:?})"),
    }
    write(&format!("{name}.bzimage"), &bz)
}

/// The initrd cut short.
pub fn truncated_initrd() -> Result<PathBuf> {
    let assets = crate::linux::prepare()?;
    let cpio = std::fs::read(&assets.initramfs)
        .with_context(|| format!("reading {}", assets.initramfs.display()))?;
    write(&format!("{TRUNCATED_INITRD}.cpio"), &cpio[..cpio.len() / 2])
}
