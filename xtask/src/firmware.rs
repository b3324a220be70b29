//! Building the bare-metal firmware.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};

use crate::setup::TARGET;

/// Builds baton for x86_64-unknown-none; returns the ELF's path.
pub fn build(release: bool) -> Result<PathBuf> {
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
    let status = cargo.status()?;
    if !status.success() {
        bail!("building the firmware failed ({status})");
    }
    let profile = if release { "release" } else { "debug" };
    Ok(crate::root()
        .join("target")
        .join(TARGET)
        .join(profile)
        .join("baton"))
}
