//! Fresh-machine set-up: the bare-metal target and the Debian packages
//! (QEMU, GRUB, coreboot's build tools). Installs what is missing when it
//! can (rustup; apt-get as root), else fails with the one command to run.
//! Every change to the machine is said before it happens; the README's
//! "What xtask changes on the machine" lists them with their undo.

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
    let log = crate::ui::log("rustup.log");
    let step = crate::ui::Step::start(format!(
        "installing the Rust target {TARGET} (rustup target add; undo: rustup target remove {TARGET}; log: {})",
        crate::ui::show(&log)
    ));
    crate::ui::run_logged(
        Command::new("rustup")
            .args(["target", "add", TARGET])
            .current_dir(crate::root()),
        &log,
    )?;
    step.done("done");
    Ok(())
}

/// The Debian packages QEMU 10 takes from the backports suite (QEMU 10 is
/// there; bookworm's 7.2 has no x2APIC under TCG): exactly these, pinned
/// in `/etc/apt/preferences.d/baton-backports`; everything they depend on
/// comes from the release.
pub const FROM_BACKPORTS: &[&str] = &[
    "qemu-system-x86",
    "qemu-system-common",
    "qemu-system-data",
    "seabios",
];

/// What a command needs from Debian, gathered first so that one check (and
/// one error without root) covers everything.
#[derive(Default)]
pub struct Needs {
    /// `qemu-system-x86_64` on the PATH.
    pub qemu: bool,
    /// Packages, each with what it is for.
    pub packages: Vec<(&'static str, &'static str)>,
    /// coreboot's source package (unless its tree is unpacked already):
    /// without root, a missing deb-src entry is named with the packages.
    pub coreboot_source: bool,
}

impl Needs {
    pub fn qemu() -> Self {
        Self {
            qemu: true,
            ..Self::default()
        }
    }

    /// `packages`, needed for `what`.
    pub fn add(&mut self, what: &'static str, packages: &[&'static str]) {
        for &p in packages {
            if !self.packages.iter().any(|(q, _)| *q == p) {
                self.packages.push((p, what));
            }
        }
    }
}

fn qemu_present() -> bool {
    Command::new(QEMU)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Installs what `needs` names and the machine lacks: as root with apt-get
/// (each source file it writes and each package set named before it
/// happens, `--no-install-recommends`, nothing upgraded that was not asked
/// for), otherwise an error naming every missing package at once.
pub fn ensure(needs: &Needs) -> Result<()> {
    let qemu = needs.qemu && !qemu_present();
    let mut missing: Vec<&str> = Vec::new();
    let mut whys: Vec<&str> = Vec::new();
    if qemu {
        missing.push("qemu-system-x86");
        whys.push("QEMU");
    }
    for &(p, why) in &needs.packages {
        if !installed(p) && !missing.contains(&p) {
            missing.push(p);
            if !whys.contains(&why) {
                whys.push(why);
            }
        }
    }
    let root = is_root();
    let no_source = !root && needs.coreboot_source && !apt_has_source("coreboot");
    if missing.is_empty() && !no_source {
        return Ok(());
    }
    if !root {
        let suite = backports_suite().ok().filter(|_| qemu);
        let mut message = match missing.is_empty() {
            true => String::new(),
            false => missing_message(&missing, &whys, suite.as_deref()),
        };
        if no_source {
            if !message.is_empty() {
                message.push_str("; and ");
            }
            message.push_str(
                "coreboot's source package is in no apt source: run xtask as root (it adds a deb-src entry for Debian's sid), or add one and run `sudo apt-get update`",
            );
        }
        bail!("{message}");
    }
    let mut update = false;
    if qemu {
        update |= add_backports_source()?;
    }
    if update {
        apt_logged(
            "apt-get update (the new source's package list)",
            &["update"],
        )?;
    }
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend(&missing);
    let plan = match simulate(&args) {
        Ok(plan) => plan,
        Err(_) => {
            apt_logged("apt-get update (the package lists)", &["update"])?;
            simulate(&args)?
        }
    };
    say_plan(&missing, &plan, &whys);
    apt_logged(
        &format!(
            "apt-get install --no-install-recommends {}",
            missing.join(" ")
        ),
        &args,
    )?;
    if qemu && !qemu_present() {
        bail!("apt-get installed qemu-system-x86 but {QEMU} does not run");
    }
    Ok(())
}

/// The one-line error without root: every missing package, what for, and
/// the command that installs them (QEMU's four from `backports` when given).
fn missing_message(missing: &[&str], whys: &[&str], backports: Option<&str>) -> String {
    let mut command: Vec<String> = missing.iter().map(|p| p.to_string()).collect();
    if let Some(suite) = backports {
        command.retain(|p| !FROM_BACKPORTS.contains(&p.as_str()));
        command.extend(FROM_BACKPORTS.iter().map(|p| format!("{p}/{suite}")));
    }
    let source = match backports {
        Some(suite) => format!(" ({suite} in the apt sources)"),
        None => String::new(),
    };
    format!(
        "missing Debian packages for {}: {}; run xtask as root, or `sudo apt-get install --no-install-recommends {}`{source}",
        whys.join(", "),
        missing.join(" "),
        command.join(" ")
    )
}

/// What `apt-get install` would do: (package, version, upgraded from).
struct Plan {
    installs: Vec<(String, String, Option<String>)>,
}

/// `apt-get -s ARGS`: the packages it would install or upgrade.
fn simulate(args: &[&str]) -> Result<Plan> {
    let mut cmd = Command::new("apt-get");
    cmd.arg("-s")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive");
    Ok(parse_plan(&run(&mut cmd)?))
}

/// The `Inst` lines of `apt-get -s install`: "Inst NAME [OLD] (NEW SUITE [ARCH])".
fn parse_plan(out: &str) -> Plan {
    let installs = out
        .lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        .filter_map(|rest| {
            let (name, rest) = rest.split_once(' ')?;
            let (old, rest) = match rest.strip_prefix('[') {
                Some(r) => {
                    let (old, rest) = r.split_once("] ")?;
                    (Some(old.to_string()), rest)
                }
                None => (None, rest),
            };
            let version = rest
                .trim_start_matches('(')
                .split_whitespace()
                .next()?
                .to_string();
            Some((name.to_string(), version, old))
        })
        .collect();
    Plan { installs }
}

fn say_plan(asked: &[&str], plan: &Plan, whys: &[&str]) {
    let (upgrades, new): (Vec<_>, Vec<_>) = plan.installs.iter().partition(|(_, _, o)| o.is_some());
    let names = |v: &[&(String, String, Option<String>)]| {
        v.iter()
            .map(|(n, version, _)| format!("{n} {version}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    crate::ui::say(format!(
        "installing {} Debian packages for {} (asked for: {}): {}",
        new.len(),
        whys.join(", "),
        asked.join(" "),
        names(&new)
    ));
    if !upgrades.is_empty() {
        crate::ui::say(format!(
            "and upgrading {} that they need newer: {}",
            upgrades.len(),
            names(&upgrades)
        ));
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `apt-get ARGS` with its output in target/xtask/logs/apt.log, behind a
/// spinner that says `what`.
pub fn apt_logged(what: &str, args: &[&str]) -> Result<()> {
    let log = crate::ui::log("apt.log");
    let step = crate::ui::Step::watching(format!("{what} (log: {})", crate::ui::show(&log)), {
        let log = log.clone();
        move || crate::ui::last_line(&log, 60)
    });
    crate::ui::run_logged(
        Command::new("apt-get")
            .args(["-q"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &log,
    )?;
    step.done("done");
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
/// the machine's Debian archive, unless it exists, and says so first.
/// `kind` is `deb` or `deb-src`; `why` says what it is for. Returns
/// whether it wrote the file (`apt-get update` is then due); an error when
/// the apt sources name no archive URI.
pub fn add_apt_source(name: &str, kind: &str, suite: &str, why: &str) -> Result<bool> {
    let file = Path::new("/etc/apt/sources.list.d").join(format!("{name}.sources"));
    if file.exists() {
        return Ok(false);
    }
    let uri = archive_uri().context("no Debian archive URI in the machine's apt sources")?;
    let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    crate::ui::say(format!(
        "writing {} ({kind} {suite}, {why}; undo: rm it and apt-get update)",
        file.display()
    ));
    std::fs::write(
        &file,
        format!(
            "Types: {kind}\nURIs: {uri}\nSuites: {suite}\nComponents: main\nSigned-By: {keyring}\n"
        ),
    )
    .with_context(|| format!("writing {}", file.display()))?;
    Ok(true)
}

/// `/etc/apt/preferences.d/baton-backports`: the packages of
/// `FROM_BACKPORTS` come from the backports suite, nothing else does (the
/// suite's own default, priority 100, keeps the rest at the release).
pub const BACKPORTS_PIN: &str = "/etc/apt/preferences.d/baton-backports";

/// Adds the distribution's backports suite and the pin that takes only
/// QEMU's packages from it. Returns whether a source was written.
fn add_backports_source() -> Result<bool> {
    let suite = backports_suite()?;
    let pin = Path::new(BACKPORTS_PIN);
    if !pin.exists() {
        crate::ui::say(format!(
            "writing {} (only {} from {suite}; undo: rm it)",
            pin.display(),
            FROM_BACKPORTS.join(" ")
        ));
        std::fs::write(
            pin,
            format!(
                "# Written by baton's cargo xtask: QEMU 10 from {suite}, nothing else.\n\
                 Package: {}\nPin: release n={suite}\nPin-Priority: 500\n",
                FROM_BACKPORTS.join(" ")
            ),
        )
        .with_context(|| format!("writing {}", pin.display()))?;
    }
    match add_apt_source("baton-backports", "deb", &suite, "QEMU 10") {
        Ok(wrote) => Ok(wrote),
        Err(e) => {
            crate::ui::say(format!("{e:#}; installing QEMU from the release suite"));
            Ok(false)
        }
    }
}

/// Whether dpkg has `package` installed.
fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).ends_with(" installed"))
}

/// Installs the Debian packages of `packages` that are missing (apt-get as
/// root), else fails naming them. `what` says what they are for.
pub fn ensure_packages(what: &'static str, packages: &[&'static str]) -> Result<()> {
    let mut needs = Needs::default();
    needs.add(what, packages);
    ensure(&needs)
}

/// Runs a command, returns its stdout; failure names the command and its
/// stderr's last line.
pub fn run(cmd: &mut Command) -> Result<String> {
    let line = crate::ui::command_line(cmd);
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

/// Whether apt knows the source package `package` (a `deb-src` entry for it).
pub fn apt_has_source(package: &str) -> bool {
    run(Command::new("apt-cache").args(["showsrc", package]))
        .is_ok_and(|o| o.contains(&format!("Package: {package}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_tells_new_packages_from_upgrades() {
        let plan = parse_plan(
            "Reading package lists...\n\
             Inst seabios (1.16.3-2~bpo12+1 Debian Backports:oldstable-backports [all])\n\
             Inst libc6 [2.36-9+deb12u9] (2.36-9+deb12u10 Debian:12.11/oldstable [amd64])\n\
             Conf seabios (1.16.3-2~bpo12+1 Debian Backports:oldstable-backports [all])\n",
        );
        assert_eq!(
            plan.installs,
            [
                ("seabios".into(), "1.16.3-2~bpo12+1".into(), None),
                (
                    "libc6".into(),
                    "2.36-9+deb12u10".into(),
                    Some("2.36-9+deb12u9".into())
                ),
            ]
        );
    }

    #[test]
    fn without_root_one_line_names_every_missing_package() {
        let m = missing_message(
            &["qemu-system-x86", "grub-pc-bin", "flex"],
            &["QEMU", "booting baton through GRUB", "building coreboot"],
            Some("bookworm-backports"),
        );
        assert_eq!(
            m,
            "missing Debian packages for QEMU, booting baton through GRUB, building coreboot: \
             qemu-system-x86 grub-pc-bin flex; run xtask as root, or `sudo apt-get install \
             --no-install-recommends grub-pc-bin flex qemu-system-x86/bookworm-backports \
             qemu-system-common/bookworm-backports qemu-system-data/bookworm-backports \
             seabios/bookworm-backports` (bookworm-backports in the apt sources)"
        );
        assert!(!m.contains('\n'));
    }
}
