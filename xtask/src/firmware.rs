//! Building the bare-metal firmware.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::setup::TARGET;

/// The builds the harness uses; all but the default are copied aside, so
/// several can be used in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    Default,
    /// With the `acpi` crate's AML interpreter (cargo feature `aml`).
    Aml,
    /// The negative control: Linux's takeover bugs brought back (cargo
    /// feature `unsafe-takeover`).
    UnsafeTakeover,
}

impl Variant {
    pub fn with_aml(aml: bool) -> Self {
        match aml {
            true => Variant::Aml,
            false => Variant::Default,
        }
    }

    fn feature(self) -> Option<&'static str> {
        match self {
            Variant::Default => None,
            Variant::Aml => Some("aml"),
            Variant::UnsafeTakeover => Some("unsafe-takeover"),
        }
    }
}

fn profile(release: bool) -> &'static str {
    if release { "release" } else { "debug" }
}

/// Runs a cargo build with its output in target/xtask/logs/cargo.log,
/// behind a spinner that says `what` (a line only when it takes over 2 s).
pub fn cargo_logged(cargo: &mut Command, what: &str) -> Result<()> {
    let log = crate::ui::log("cargo.log");
    let step = crate::ui::Step::quiet(format!("{what} (log: {})", crate::ui::show(&log)));
    cargo.env("CARGO_TERM_PROGRESS_WHEN", "never");
    crate::ui::run_logged(cargo, &log).with_context(|| format!("{what} failed"))?;
    step.done("done");
    Ok(())
}

/// Builds baton for x86_64-unknown-none; returns the ELF's path.
pub fn build(release: bool) -> Result<PathBuf> {
    build_variant(release, Variant::Default)
}

/// Builds one variant of baton; returns its ELF's path (`baton-<feature>`
/// beside cargo's `baton` for all but the default).
pub fn build_variant(release: bool, variant: Variant) -> Result<PathBuf> {
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
    if let Some(feature) = variant.feature() {
        cargo.args(["--features", feature]);
    }
    // What lets the unsafe-takeover feature build (firmware/build.rs); set
    // for every variant so that switching between them rebuilds nothing.
    cargo.env("BATON_NEGATIVE_CONTROL", "1");
    let what = match variant.feature() {
        Some(f) => format!(
            "building baton ({profile}, feature {f})",
            profile = profile(release)
        ),
        None => format!("building baton ({})", profile(release)),
    };
    cargo_logged(&mut cargo, &what)?;
    let profile = profile(release);
    let elf = crate::root()
        .join("target")
        .join(TARGET)
        .join(profile)
        .join("baton");
    let Some(feature) = variant.feature() else {
        return Ok(elf);
    };
    let aside = elf.with_file_name(format!("baton-{feature}"));
    std::fs::copy(&elf, &aside).with_context(|| format!("copying {}", elf.display()))?;
    Ok(aside)
}
