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

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

pub fn apt(args: &[&str]) -> Result<()> {
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

/// The Debian archive URI of the machine's own apt sources (the first
/// non-security one), so that no host name is written here.
pub fn archive_uri() -> Option<String> {
    for path in [
        "/etc/apt/sources.list.d/debian.sources",
        "/etc/apt/sources.list",
    ] {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let uri = text.lines().find_map(|l| {
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
            return uri;
        }
    }
    None
}

/// Writes `/etc/apt/sources.list.d/NAME.sources` (deb822) for one suite of
/// the machine's Debian archive, unless it exists. `kind` is `deb` or
/// `deb-src`. Returns false when the apt sources name no archive URI.
pub fn add_apt_source(name: &str, kind: &str, suite: &str) -> Result<bool> {
    let file = Path::new("/etc/apt/sources.list.d").join(format!("{name}.sources"));
    if file.exists() {
        return Ok(true);
    }
    let Some(uri) = archive_uri() else {
        return Ok(false);
    };
    let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    std::fs::write(
        &file,
        format!(
            "Types: {kind}\nURIs: {uri}\nSuites: {suite}\nComponents: main\nSigned-By: {keyring}\n"
        ),
    )
    .with_context(|| format!("writing {}", file.display()))?;
    Ok(true)
}

/// Adds the distribution's backports suite (QEMU 10 is there; TCG needs it
/// for x2APIC).
fn add_backports_source() -> Result<()> {
    if !add_apt_source("baton-backports", "deb", &backports_suite()?)? {
        eprintln!(
            "xtask: no Debian archive URI in the apt sources; installing QEMU from the release suite"
        );
    }
    Ok(())
}

/// Whether dpkg has `package` installed.
fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).ends_with(" installed"))
}

/// Installs the Debian packages of `packages` that are missing (apt-get as
/// root), else fails with the one command to run. `what` says what they
/// are for.
pub fn ensure_packages(what: &str, packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root() {
        bail!("{what} needs Debian packages that are missing: run `sudo apt-get install {list}`");
    }
    eprintln!("xtask: installing {list} with apt-get ({what})");
    let mut args = vec!["install", "-y", "-q"];
    args.extend(&missing);
    if apt(&args).is_err() {
        apt(&["update", "-q"])?;
        apt(&args)?;
    }
    Ok(())
}

pub fn command_line(cmd: &Command) -> String {
    format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// Runs a command, returns its stdout; failure names the command and its
/// stderr's last line.
pub fn run(cmd: &mut Command) -> Result<String> {
    let line = command_line(cmd);
    let out = cmd.output().with_context(|| format!("running `{line}`"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        bail!("`{line}` failed ({}): {last}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes `path` through a temporary file and a rename, so a reader (a
/// QEMU of another scenario) sees the old file or the new one, never half.
/// The temporary name is per process: callers in threads serialize.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}
