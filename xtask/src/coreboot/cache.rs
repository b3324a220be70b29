//! The ROMs with a run's big files (kernel, initrd, modules) already in
//! CBFS, cached under target/coreboot/cache/ by the files' identities.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use baton::source::fwcfg;

use super::cbfs::{COMPRESS_FROM, Compression, Contents, add_raw, cbfstool};
use super::paths::dir;
use super::variant::Variant;

/// Identity of a file for the cache key: path, length, modification time.
fn identity(path: &Path, h: &mut DefaultHasher) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    path.hash(h);
    meta.len().hash(h);
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .hash(h);
    Ok(())
}

/// The base ROM with the kernel, initrd and module files in CBFS, cached
/// under target/coreboot/cache/ by the files' identities, so that a big
/// kernel is compressed once.
pub fn cached_files_rom(variant: Variant, base: &Path, contents: &Contents) -> Result<PathBuf> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK
        .lock()
        .map_err(|_| anyhow!("coreboot cache: lock poisoned"))?;
    let p = contents.payload;
    let mut h = DefaultHasher::new();
    identity(base, &mut h)?;
    contents.compression.arg().hash(&mut h);
    // The rule for what goes in raw (bzImages since it came in).
    "bzimage-raw".hash(&mut h);
    let mut files: Vec<(String, &Path)> = Vec::new();
    if let Some(k) = &p.kernel {
        files.push((fwcfg::KERNEL.into(), k));
    }
    if let Some(i) = &p.initrd {
        files.push((fwcfg::INITRD.into(), i));
    }
    for (i, (path, _)) in p.modules.iter().enumerate() {
        files.push((fwcfg::module_name(i), path));
    }
    for (name, path) in &files {
        name.hash(&mut h);
        identity(path, &mut h)?;
    }
    let cache = dir().join("cache");
    std::fs::create_dir_all(&cache)?;
    let rom = cache.join(format!("{}-{:016x}.rom", variant.name(), h.finish()));
    if rom.exists() {
        return Ok(rom);
    }
    let tmp = rom.with_extension("tmp");
    std::fs::copy(base, &tmp)?;
    let started = Instant::now();
    let mut report = Vec::new();
    for (name, path) in &files {
        let len = std::fs::metadata(path)?.len();
        // A bzImage is compressed already (and decompresses itself with
        // the kernel's own code): it goes in raw.
        let c = match len >= COMPRESS_FROM && !is_bzimage(path) {
            true => contents.compression,
            false => Compression::None,
        };
        let t = Instant::now();
        let step = crate::ui::Step::start(format!(
            "compressing {} ({}, {}) into CBFS as {name}",
            crate::ui::show(path),
            crate::ui::size(len),
            c.arg()
        ));
        add_raw(&tmp, name, path, c)
            .with_context(|| format!("adding {} to CBFS as {name}", path.display()))?;
        step.done("done");
        report.push(format!(
            "{name} {len} bytes ({}, {:.1} s)",
            c.arg(),
            t.elapsed().as_secs_f64()
        ));
    }
    let listing = cbfstool(&[tmp.as_ref(), "print".as_ref()])?;
    std::fs::write(
        rom.with_extension("txt"),
        format!("{}\n\n{listing}", report.join("\n")),
    )?;
    std::fs::rename(&tmp, &rom)?;
    crate::ui::say(format!(
        "cached {} in {:.1} s: {}",
        crate::ui::show(&rom),
        started.elapsed().as_secs_f64(),
        report.join(", ")
    ));
    Ok(rom)
}

/// Whether `path` is a Linux bzImage (the setup header's "HdrS" at 0x202).
fn is_bzimage(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(0x202))?;
            f.read_exact(&mut magic)
        })
        .is_ok()
        && &magic == b"HdrS"
}
