//! Building the bare-metal firmware.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::setup::TARGET;

/// Builds baton for x86_64-unknown-none; returns the ELF's path.
pub fn build(release: bool) -> Result<PathBuf> {
    build_variant(release, false)
}

/// Builds baton, or with `unsafe_takeover` the negative-control build that
/// brings back Linux's takeover bugs (its ELF is copied aside, so both
/// builds can be used in one run).
pub fn build_variant(release: bool, unsafe_takeover: bool) -> Result<PathBuf> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(crate::root()).args([
        "build",
        "--package",
        "baton",
        "--bin",
        "baton",
        "--target",
        TARGET,
    ]);
    if release {
        cargo.arg("--release");
    }
    if unsafe_takeover {
        cargo.args(["--features", "unsafe-takeover"]);
    }
    let status = cargo.status()?;
    if !status.success() {
        bail!("building the firmware failed ({status})");
    }
    let profile = if release { "release" } else { "debug" };
    let elf = crate::root()
        .join("target")
        .join(TARGET)
        .join(profile)
        .join("baton");
    if !unsafe_takeover {
        return Ok(elf);
    }
    let aside = elf.with_file_name("baton-unsafe-takeover");
    std::fs::copy(&elf, &aside).with_context(|| format!("copying {}", elf.display()))?;
    Ok(aside)
}
