//! Building the probe test kernel (tests/probe) in each of its entry flavours.
//! Each flavour is a cargo feature and gets its own target directory, so
//! switching flavours never rebuilds the others.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::setup::TARGET;

/// The entry protocol a probe build carries (see tests/probe/README.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Pvh,
    Multiboot1,
    Multiboot2,
    Elf64,
}

impl Flavour {
    /// The cargo feature and directory name: "pvh", "mb1", "mb2", "elf64".
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Pvh => "pvh",
            Flavour::Multiboot1 => "mb1",
            Flavour::Multiboot2 => "mb2",
            Flavour::Elf64 => "elf64",
        }
    }
}

/// Builds the probe kernel in `flavour`; returns the ELF's path (under target/probe/<flavour>/...).
pub fn build(flavour: Flavour) -> Result<PathBuf> {
    let root = crate::root();
    let target_dir = root.join("target").join("probe").join(flavour.name());
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // Run from the root so its .cargo/config.toml (static relocation model)
    // and rust-toolchain.toml apply.
    cargo
        .current_dir(&root)
        .args([
            "build",
            "--manifest-path",
            "tests/probe/Cargo.toml",
            "--release",
        ])
        .args(["--features", flavour.name(), "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    crate::firmware::cargo_logged(
        &mut cargo,
        &format!("building the probe test kernel ({})", flavour.name()),
    )?;
    Ok(target_dir.join(TARGET).join("release").join("probe"))
}
