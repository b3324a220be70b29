//! Fresh-machine set-up: the bare-metal target and QEMU. Installs what is
//! missing when it can (rustup; apt-get as root), else fails with the one
//! command to run.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

pub const TARGET: &str = "x86_64-unknown-none";
pub const QEMU: &str = "qemu-system-x86_64";

pub fn ensure_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(crate::root())
        .output()
        .context("running rustup (is it installed?)")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return Ok(());
    }
    eprintln!("xtask: installing the Rust target {TARGET}");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(crate::root())
        .status()?;
    if !status.success() {
        bail!("`rustup target add {TARGET}` failed");
    }
    Ok(())
}

pub fn ensure_qemu() -> Result<()> {
    if Command::new(QEMU)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "{QEMU} is missing: run `sudo apt-get install qemu-system-x86` (bookworm-backports has QEMU 10)"
        );
    }
    eprintln!("xtask: installing QEMU with apt-get");
    add_backports_source()?;
    apt(&["update", "-q"])?;
    let from_backports = apt(&[
        "install",
        "-y",
        "-q",
        "-t",
        &backports_suite()?,
        "qemu-system-x86",
    ]);
    if from_backports.is_err() {
        apt(&["install", "-y", "-q", "qemu-system-x86"])?;
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn apt(args: &[&str]) -> Result<()> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!("`apt-get {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

fn codename() -> Result<String> {
    let release = std::fs::read_to_string("/etc/os-release").context("reading /etc/os-release")?;
    release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|c| c.trim_matches('"').to_string())
        .context("no VERSION_CODENAME in /etc/os-release")
}

fn backports_suite() -> Result<String> {
    Ok(format!("{}-backports", codename()?))
}

/// Adds the distribution's backports suite, with the archive URI taken from
/// the machine's own apt sources (QEMU 10 is there; TCG needs it for x2APIC).
fn add_backports_source() -> Result<()> {
    let file = Path::new("/etc/apt/sources.list.d/baton-backports.sources");
    if file.exists() {
        return Ok(());
    }
    let suite = backports_suite()?;
    let mut uri = None;
    for path in [
        "/etc/apt/sources.list.d/debian.sources",
        "/etc/apt/sources.list",
    ] {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        uri = text.lines().find_map(|l| {
            let l = l.trim();
            if let Some(u) = l.strip_prefix("URIs:") {
                return u
                    .split_whitespace()
                    .find(|u| !u.contains("security"))
                    .map(str::to_string);
            }
            let mut words = l.split_whitespace();
            (words.next() == Some("deb"))
                .then(|| words.find(|w| w.contains("://") && !w.contains("security")))?
                .map(str::to_string)
        });
        if uri.is_some() {
            break;
        }
    }
    let Some(uri) = uri else {
        eprintln!(
            "xtask: no Debian archive URI in the apt sources; installing QEMU from the release suite"
        );
        return Ok(());
    };
    let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    std::fs::write(
        file,
        format!(
            "Types: deb\nURIs: {uri}\nSuites: {suite}\nComponents: main\nSigned-By: {keyring}\n"
        ),
    )
    .with_context(|| format!("writing {}", file.display()))
}
