//! `cargo xtask coreboot --fixtures`: the files of
//! `firmware/tests/fixtures/coreboot/` (see its README.md), made by the
//! real cbfstool and the real coreboot ROM.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::coreboot::{self, BareBoot, Variant};

/// The machine the coreboot table is taken from.
const TABLE_SMP: u32 = 4;
const TABLE_MEMORY: &str = "512M";
/// Where coreboot writes the forward table.
const FORWARD_AT: u64 = 0x500;
/// LB_TAG_FORWARD
const TAG_FORWARD: u32 = 0x11;

/// A deterministic pseudo-random sequence (xorshift64*), so the fixtures
/// are the same every time they are made.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// `len` bytes of text: lines of words from a small vocabulary, compressible
/// but not trivially (no long repeats).
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "baton",
        "coreboot",
        "payload",
        "kernel",
        "initrd",
        "module",
        "cbfs",
        "lzma",
        "lz4",
        "table",
        "forward",
        "memory",
        "range",
        "reserved",
        "usable",
        "cpu",
        "apic",
        "mwait",
        "handoff",
        "takeover",
        "serial",
        "console",
        "fw_cfg",
        "multiboot",
        "pvh",
        "elf",
    ];
    let mut rng = Rng(seed);
    let mut out = String::new();
    let mut line = 0;
    while out.len() < len {
        line += 1;
        let _ = write!(out, "{line:05}:");
        for _ in 0..(6 + rng.next() % 8) {
            let w = WORDS[(rng.next() % WORDS.len() as u64) as usize];
            let _ = write!(out, " {w}");
            if rng.next().is_multiple_of(5) {
                let _ = write!(out, "={:x}", rng.next() % 4096);
            }
        }
        out.push('\n');
    }
    out.truncate(len);
    out.into_bytes()
}

/// The files of cbfs.bin: name, contents, cbfstool compression.
fn cbfs_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut rng = Rng(0x6261_746f_6e21);
    let kernel: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    let mut cmdline = String::from("console=ttyS0 panic=-1");
    for i in 0..24 {
        let _ = write!(cmdline, " baton.test.option{i}=value{}", i % 4);
    }
    vec![
        ("kernel", kernel, "none"),
        ("initrd", text(40 << 10, 1), "lzma"),
        ("cmdline", cmdline.into_bytes(), "lz4"),
        ("config", b"log=debug".to_vec(), "none"),
        ("module/0", text(2 << 10, 2), "none"),
        ("module/0/cmdline", b"dom0 a=b".to_vec(), "none"),
    ]
}

fn sha256(path: &Path) -> Result<String> {
    let out = crate::setup::run(Command::new("sha256sum").arg(path))?;
    out.split_whitespace()
        .next()
        .map(str::to_string)
        .context("sha256sum said nothing")
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// cbfs.bin, cbfs.txt and contents/ in `out`.
fn make_cbfs(out: &Path) -> Result<()> {
    let image = out.join("cbfs.bin");
    let contents = out.join("contents");
    let _ = std::fs::remove_file(&image);
    let _ = std::fs::remove_dir_all(&contents);
    std::fs::create_dir_all(&contents)?;
    let mut create = vec![image.as_os_str(), os("create"), os("-m"), os("x86")];
    create.extend([os("-s"), os("0x8000")]);
    coreboot::cbfstool(&create)?;
    let mut txt = String::from(
        "# cbfs.bin: made by `cargo xtask coreboot --fixtures` with coreboot 25.09's cbfstool.\n\
         # The original (uncompressed) contents are in contents/ (`/` in a name becomes `_`).\n\
         #\n# name  length  sha256  compression\n",
    );
    for (name, bytes, compression) in cbfs_files() {
        let file = contents.join(name.replace('/', "_"));
        std::fs::write(&file, &bytes)?;
        let mut add = vec![image.as_os_str(), os("add"), os("-t"), os("raw")];
        add.extend([os("-n"), os(name), os("-f"), file.as_os_str()]);
        if compression != "none" {
            add.extend([os("-c"), os(compression)]);
        }
        coreboot::cbfstool(&add)?;
        let _ = writeln!(
            txt,
            "{name}  {}  {}  {compression}",
            bytes.len(),
            sha256(&file)?
        );
    }
    let print = coreboot::cbfstool(&[image.as_os_str(), os("print"), os("-v")])?;
    for (name, _, compression) in cbfs_files() {
        let line = print
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or("");
        if compression != "none" && !line.to_uppercase().contains(&compression.to_uppercase()) {
            bail!("cbfstool did not compress {name} with {compression}: {line}");
        }
    }
    let _ = write!(txt, "\n# cbfstool cbfs.bin print -v\n{print}");
    std::fs::write(out.join("cbfs.txt"), txt)?;
    Ok(())
}

fn le32(b: &[u8], at: usize) -> Result<u32> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
        .with_context(|| format!("no u32 at {at:#x} of {} bytes", b.len()))
}

fn le64(b: &[u8], at: usize) -> Result<u64> {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
        .with_context(|| format!("no u64 at {at:#x} of {} bytes", b.len()))
}

/// Saves `len` bytes of guest memory at `addr` to `file` and reads them back.
fn pmemsave(boot: &BareBoot, addr: u64, len: usize, file: &Path) -> Result<Vec<u8>> {
    let _ = std::fs::remove_file(file);
    boot.monitor(&format!("pmemsave {addr:#x} {len} \"{}\"", file.display()))?;
    let bytes = std::fs::read(file).with_context(|| format!("pmemsave to {}", file.display()))?;
    if bytes.len() != len {
        bail!("pmemsave wrote {} bytes, not {len}", bytes.len());
    }
    Ok(bytes)
}

/// The records of a coreboot table (`bytes` = header + entries): tag, size.
pub fn records(bytes: &[u8]) -> Result<Vec<(u32, u32)>> {
    if bytes.get(..4) != Some(b"LBIO") {
        bail!("no LBIO signature");
    }
    let header = le32(bytes, 4)? as usize;
    let end = header + le32(bytes, 12)? as usize;
    let mut at = header;
    let mut out = Vec::new();
    while at + 8 <= end.min(bytes.len()) {
        let (tag, size) = (le32(bytes, at)?, le32(bytes, at + 4)?);
        out.push((tag, size));
        if size < 8 {
            break;
        }
        at += size as usize;
    }
    Ok(out)
}

/// The names of coreboot 25.09's tags (commonlib/coreboot_tables.h) seen
/// on q35.
fn tag_name(tag: u32) -> &'static str {
    match tag {
        0x01 => "LB_TAG_MEMORY",
        0x03 => "LB_TAG_MAINBOARD",
        0x04 => "LB_TAG_VERSION",
        0x05 => "LB_TAG_EXTRA_VERSION",
        0x06 => "LB_TAG_BUILD",
        0x07 => "LB_TAG_COMPILE_TIME",
        0x0f => "LB_TAG_SERIAL",
        0x10 => "LB_TAG_CONSOLE",
        0x11 => "LB_TAG_FORWARD",
        0x16 => "LB_TAG_TIMESTAMPS",
        0x17 => "LB_TAG_CBMEM_CONSOLE",
        0x24 => "LB_TAG_ACPI_GNVS",
        0x26 => "LB_TAG_VERSION_TIMESTAMP",
        0x30 => "LB_TAG_BOOT_MEDIA_PARAMS",
        0x31 => "LB_TAG_CBMEM_ENTRY",
        0x37 => "LB_TAG_FMAP",
        0x40 => "LB_TAG_BOARD_CONFIG",
        0x43 => "LB_TAG_ACPI_RSDP",
        _ => "?",
    }
}

/// forward-0x500.bin, coreboot-table.bin and coreboot-table.txt in `out`.
fn make_table(out: &Path) -> Result<()> {
    let rom = coreboot::ensure(Variant::Q35)?;
    let boot = BareBoot::start(
        &rom,
        TABLE_SMP,
        TABLE_MEMORY,
        "Payload not loaded",
        Duration::from_secs(120),
    )?;
    if !boot.reached {
        bail!("coreboot did not reach its payload stage");
    }
    let header = pmemsave(&boot, FORWARD_AT, 24, &out.join("forward-0x500.bin"))?;
    let low_len = 24 + le32(&header, 12)? as usize;
    let low = pmemsave(&boot, FORWARD_AT, low_len, &out.join("forward-0x500.bin"))?;
    let forward = match records(&low)?.first() {
        Some(&(TAG_FORWARD, _)) => le64(&low, 24 + 8)?,
        other => bail!("the table at 0x500 starts with {other:?}, not LB_TAG_FORWARD"),
    };
    let table = out.join("coreboot-table.bin");
    let header = pmemsave(&boot, forward, 24, &table)?;
    let len = 24 + le32(&header, 12)? as usize;
    let bytes = pmemsave(&boot, forward, len, &table)?;
    let mut txt = format!(
        "# coreboot 25.09 (q35, cargo xtask coreboot), QEMU -machine q35 -smp {TABLE_SMP} -m {TABLE_MEMORY}, no payload\n\
         forward table at {FORWARD_AT:#x}: {low_len} bytes; LB_TAG_FORWARD -> {forward:#x}\n\
         coreboot table at {forward:#x}: {len} bytes (24 header + {} entries bytes), {} entries\n\
         # tag size\n",
        len - 24,
        le32(&bytes, 20)?,
    );
    for (tag, size) in records(&bytes)? {
        let _ = writeln!(txt, "{tag:#06x} {size} {}", tag_name(tag));
    }
    std::fs::write(out.join("coreboot-table.txt"), txt)?;
    Ok(())
}

/// Regenerates firmware/tests/fixtures/coreboot/ (all but README.md).
pub fn make() -> Result<()> {
    let out = crate::root().join("firmware/tests/fixtures/coreboot");
    std::fs::create_dir_all(&out)?;
    make_cbfs(&out)?;
    make_table(&out)?;
    println!("fixtures: {}", out.display());
    for e in std::fs::read_dir(&out)?.filter_map(|e| e.ok()) {
        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
        println!("  {} {len}", e.file_name().to_string_lossy());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture_text_is_deterministic_and_sized() {
        let a = super::text(40 << 10, 1);
        assert_eq!(a.len(), 40 << 10);
        assert_eq!(a, super::text(40 << 10, 1));
        assert_ne!(a, super::text(40 << 10, 2));
    }

    #[test]
    fn records_walks_a_coreboot_table() {
        let mut t = b"LBIO".to_vec();
        for v in [24u32, 0, 16, 0, 1] {
            t.extend(v.to_le_bytes());
        }
        t.extend(0x11u32.to_le_bytes());
        t.extend(16u32.to_le_bytes());
        t.extend(0x1fe9_8000u64.to_le_bytes());
        assert_eq!(super::records(&t).unwrap(), vec![(0x11, 16)]);
    }
}
