//! Building the probe test kernel (tests/probe) in each of its entry flavours.
//! Each flavour is a cargo feature and gets its own target directory, so
//! switching flavours never rebuilds the others.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

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
    build_at(flavour, false)
}

/// `{old-park}` in the probe's command line stands for baton's old park
/// loop (`probe.trap={old-park}`), filled in from the ELF of the run.
pub const OLD_PARK: &str = "{old-park}";

/// The probe, linked at 1 MiB over baton (`high = false`) or at 32 MiB
/// (feature `high`, target/probe/<flavour>-high/): baton's copy then leaves
/// baton's memory alone, and the probe's own writes are the first there.
pub fn build_at(flavour: Flavour, high: bool) -> Result<PathBuf> {
    let root = crate::root();
    let name = match high {
        true => format!("{}-high", flavour.name()),
        false => flavour.name().to_string(),
    };
    let features = match high {
        true => format!("{},high", flavour.name()),
        false => flavour.name().to_string(),
    };
    let target_dir = root.join("target").join("probe").join(&name);
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
        .args(["--features", &features, "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    crate::firmware::cargo_logged(
        &mut cargo,
        &format!("building the probe test kernel ({name})"),
    )?;
    Ok(target_dir.join(TARGET).join("release").join("probe"))
}

/// `[START, END)` of baton's old park loop (`return_to_old_park`, where the
/// unsafe-takeover build's stopped APs MWAIT or HLT in baton's memory) in
/// `elf`, as the probe's `probe.trap=` takes it: `0xSTART-0xEND`. The
/// default build has the function too (unused), at its own address.
pub fn old_park(elf: &Path) -> Result<String> {
    let bytes = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let parsed = goblin::elf::Elf::parse(&bytes).context("parsing baton's ELF")?;
    let found = parsed.syms.iter().find(|s| {
        parsed
            .strtab
            .get_at(s.st_name)
            .is_some_and(|n| n.contains("return_to_old_park"))
    });
    match found {
        Some(s) if s.st_size > 0 => Ok(format!("{:#x}-{:#x}", s.st_value, s.st_value + s.st_size)),
        _ => bail!(
            "{} has no symbol return_to_old_park with a size (the probe's trap needs baton's symbols)",
            elf.display()
        ),
    }
}

/// The kernel's command line with `{old-park}` filled in from `elf`, when
/// it has one.
pub fn fill_in(cmdline: Option<&str>, elf: &Path) -> Result<Option<String>> {
    match cmdline.filter(|c| c.contains(OLD_PARK)) {
        Some(c) => Ok(Some(c.replace(OLD_PARK, &old_park(elf)?))),
        None => Ok(None),
    }
}
