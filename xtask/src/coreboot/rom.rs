//! A run's ROM: the cached ROM with the kernel and friends, baton added
//! as the payload and the small files (command lines, config) beside it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use baton::source::fwcfg;

use super::build::ensure;
use super::cache::cached_files_rom;
use super::cbfs::{Contents, add_string, cbfstool};
use super::paths::cbfstool_path;
use super::variant::Variant;
use crate::setup::run;

/// The ROM for one run at `out`: baton (`elf`) as the payload, the kernel
/// and friends in CBFS. Returns a line of what it did.
pub fn payload_rom(
    variant: Variant,
    elf: &Path,
    contents: &Contents,
    out: &Path,
) -> Result<String> {
    let base = ensure(variant)?;
    let cached = cached_files_rom(variant, &base, contents)?;
    let scratch = out.with_extension("files");
    std::fs::create_dir_all(&scratch)?;
    std::fs::copy(&cached, out).with_context(|| format!("copying {}", cached.display()))?;
    let started = Instant::now();
    // A ROM built with a payload has one already; ours have none.
    let _ = cbfstool(&[
        out.as_ref(),
        "remove".as_ref(),
        "-n".as_ref(),
        "fallback/payload".as_ref(),
    ]);
    run(Command::new(cbfstool_path())
        .arg(out)
        .args(["add-payload", "-n", "fallback/payload", "-c", "lzma", "-f"])
        .arg(elf))?;
    let p = contents.payload;
    if let Some(c) = p.cmdline.as_deref().filter(|c| !c.is_empty()) {
        add_string(out, fwcfg::CMDLINE, c, &scratch)?;
    }
    if !contents.config.is_empty() {
        add_string(out, fwcfg::CONFIG, contents.config, &scratch)?;
    }
    for (i, (_, cmdline)) in p.modules.iter().enumerate() {
        if let Some(c) = cmdline.as_deref().filter(|c| !c.is_empty()) {
            add_string(out, &fwcfg::module_cmdline_name(i), c, &scratch)?;
        }
    }
    let listing = cbfstool(&[out.as_ref(), "print".as_ref()])?;
    std::fs::write(out.with_extension("cbfs.txt"), &listing)?;
    Ok(format!(
        "coreboot ROM {} ({}): payload and small files added in {:.2} s",
        out.display(),
        variant.name(),
        started.elapsed().as_secs_f64()
    ))
}
