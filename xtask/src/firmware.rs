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
    /// A negative control: takeover bugs brought back (cargo feature
    /// `unsafe-*`).
    Negative(Hole),
}

/// The negative-control builds, each a cargo feature that brings takeover
/// bugs back (firmware/Cargo.toml): a row naming one must fail on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hole {
    /// `unsafe-takeover`: Linux's two bugs (the report before WBINVD, the
    /// old park loop and no INIT); rows with `negative_control = true`.
    Takeover,
    /// `unsafe-park-nmi`: the park area's NMI gate halts without reporting.
    ParkNmi,
    /// `unsafe-publish-order`: the stop state published before its mask is
    /// filled.
    PublishOrder,
    /// `unsafe-shared-park-stack`: one park stack for every AP, entered by a
    /// far return.
    SharedParkStack,
}

impl Hole {
    pub const ALL: [Hole; 4] = [
        Hole::Takeover,
        Hole::ParkNmi,
        Hole::PublishOrder,
        Hole::SharedParkStack,
    ];

    pub fn feature(self) -> &'static str {
        match self {
            Hole::Takeover => "unsafe-takeover",
            Hole::ParkNmi => "unsafe-park-nmi",
            Hole::PublishOrder => "unsafe-publish-order",
            Hole::SharedParkStack => "unsafe-shared-park-stack",
        }
    }

    /// The hole whose feature is `name`.
    pub fn named(name: &str) -> Option<Hole> {
        Hole::ALL.into_iter().find(|h| h.feature() == name)
    }
}

impl Variant {
    pub fn with_aml(aml: bool) -> Self {
        match aml {
            true => Variant::Aml,
            false => Variant::Default,
        }
    }

    /// The negative control this build is, if it is one.
    pub fn hole(self) -> Option<Hole> {
        match self {
            Variant::Negative(hole) => Some(hole),
            _ => None,
        }
    }

    fn feature(self) -> Option<&'static str> {
        match self {
            Variant::Default => None,
            Variant::Aml => Some("aml"),
            Variant::Negative(hole) => Some(hole.feature()),
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
    // The ELF is read from target/ below: a CARGO_TARGET_DIR in the
    // environment would otherwise leave a stale one there.
    cargo.arg("--target-dir").arg(crate::root().join("target"));
    if release {
        cargo.arg("--release");
    }
    if let Some(feature) = variant.feature() {
        cargo.args(["--features", feature]);
    }
    // What lets the unsafe-* features build (firmware/build.rs); set
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
