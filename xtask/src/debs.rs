//! Debian packages downloaded (not installed) for their files: Linux's
//! kernel image, busybox-static, grub-invaders. One cache,
//! `target/debs/`, serves `--kernel linux` (target/linux) and the host
//! tests' assets (payload-loader/tests/fetch-assets.sh), so each package
//! is downloaded once.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

/// `target/debs`.
pub fn dir() -> PathBuf {
    crate::root().join("target/debs")
}

/// The cached `PACKAGE_*.deb`, if any.
fn cached(debs: &Path, package: &str) -> Option<PathBuf> {
    std::fs::read_dir(debs)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "deb")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
        })
        .max()
}

/// The size apt expects the package's .deb to have (`apt-cache show`).
fn expected_size(package: &str) -> Option<u64> {
    let out = Command::new("apt-cache")
        .args(["show", "--no-all-versions", package])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Size: "))?
        .trim()
        .parse()
        .ok()
}

/// The .deb of `package` in target/debs, downloaded with `apt-get
/// download` (a bar with its size and elapsed time; output in
/// target/xtask/logs/apt.log) unless cached.
pub fn download(package: &str) -> Result<PathBuf> {
    let debs = dir();
    std::fs::create_dir_all(&debs).with_context(|| format!("creating {}", debs.display()))?;
    if let Some(deb) = cached(&debs, package) {
        return Ok(deb);
    }
    let log = crate::ui::log("apt.log");
    let prefix = format!("{package}_");
    let watched = debs.clone();
    let step = crate::ui::Step::bytes(
        format!("downloading {package}"),
        expected_size(package),
        move || crate::ui::bytes_in(&watched, &prefix),
    );
    crate::ui::run_logged(
        Command::new("apt-get")
            .args(["-q", "download", package])
            .current_dir(&debs),
        &log,
    )
    .context("the Linux assets need apt-get and dpkg-deb (a Debian host)")?;
    let deb = cached(&debs, package)
        .with_context(|| format!("apt-get download {package} left no {package}_*.deb"))?;
    let len = std::fs::metadata(&deb).map(|m| m.len()).unwrap_or(0);
    step.done(format!(
        "{} ({})",
        crate::ui::show(&deb),
        crate::ui::size(len)
    ));
    Ok(deb)
}
