//! coreboot built from Debian's source package: the source fetched and
//! unpacked, each variant's ROM and cbfstool made, once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow, bail};

use super::paths::{cbfstool_path, dir, rom_path};
use super::variant::Variant;
use crate::setup::run;

/// The Debian packages the coreboot build needs.
pub const BUILD_PACKAGES: &[&str] = &[
    "gcc",
    "gcc-multilib",
    "make",
    "flex",
    "bison",
    "m4",
    "zlib1g-dev",
    "acpica-tools",
    "python3",
    "xz-utils",
];

/// The unpacked source tree (`target/coreboot/src/coreboot-*`), fetched when
/// missing.
fn source_tree() -> Result<PathBuf> {
    let src = dir().join("src");
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(&src)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.is_dir()
                    && p.join("Makefile").exists()
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("coreboot-"))
            })
    };
    if let Some(tree) = find() {
        return Ok(tree);
    }
    std::fs::create_dir_all(&src)?;
    let orig = |src: &Path| -> Option<PathBuf> {
        std::fs::read_dir(src)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with("coreboot_") && n.contains(".orig.tar")
                })
            })
    };
    if orig(&src).is_none() {
        fetch_source(&src)?;
    }
    let tarball = orig(&src).context("apt-get source left no coreboot_*.orig.tar.*")?;
    let step = crate::ui::Step::start(format!("unpacking {}", crate::ui::show(&tarball)));
    // As the current user: root's tar would otherwise keep the tarball's
    // owners.
    run(Command::new("tar")
        .arg("--no-same-owner")
        .arg("-xf")
        .arg(&tarball)
        .current_dir(&src))?;
    let tree = find().context("the coreboot orig tarball held no coreboot-*/Makefile")?;
    step.done(crate::ui::show(&tree));
    Ok(tree)
}

fn fetch_source(src: &Path) -> Result<()> {
    if !crate::setup::apt_has_source("coreboot") {
        if !crate::setup::is_root() {
            bail!(
                "coreboot's source package is not in the apt sources: as root add a deb-src entry for Debian's sid (see xtask/src/coreboot/mod.rs) and run `apt-get update`"
            );
        }
        crate::setup::add_apt_source(
            "baton-sid-src",
            "deb-src",
            "sid",
            "coreboot's source package; source only, no binary package comes from it",
        )?;
        crate::setup::apt_logged("apt-get update (sid's deb-src for coreboot)", &["update"])?;
    }
    let dir = src.to_path_buf();
    let log = crate::ui::log("apt.log");
    let step = crate::ui::Step::bytes(
        "downloading coreboot's source package (apt-get source --download-only coreboot)",
        None,
        move || crate::ui::bytes_in(&dir, "coreboot_"),
    );
    crate::ui::run_logged(
        Command::new("apt-get")
            .args(["-q", "source", "--download-only", "coreboot"])
            .current_dir(src),
        &log,
    )?;
    step.done(format!(
        "{} in {}",
        crate::ui::size(crate::ui::bytes_in(src, "coreboot_")),
        crate::ui::show(src)
    ));
    Ok(())
}

/// A `make` in the coreboot tree, blind to baton's git repository.
fn make(tree: &Path) -> Command {
    let mut cmd = Command::new("make");
    cmd.current_dir(tree).env(
        "GIT_CEILING_DIRECTORIES",
        tree.parent().unwrap_or(tree).as_os_str(),
    );
    cmd
}

/// Builds (when missing) the ROM of `variant` and cbfstool; one build at a
/// time per process.
pub fn ensure(variant: Variant) -> Result<PathBuf> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK
        .lock()
        .map_err(|_| anyhow!("coreboot: lock poisoned"))?;
    let rom = rom_path(variant);
    if rom.exists() && cbfstool_path().exists() {
        return Ok(rom);
    }
    crate::setup::ensure_packages("building coreboot", BUILD_PACKAGES)?;
    let tree = source_tree()?;
    std::fs::create_dir_all(dir())?;
    if !cbfstool_path().exists() {
        let log = crate::ui::log("coreboot-cbfstool.log");
        let step = build_step("building coreboot's util/cbfstool (make -j2", &log);
        crate::ui::run_logged(
            make(&tree).args(["-C", "util/cbfstool", "-j2", "cbfstool"]),
            &log,
        )?;
        std::fs::copy(tree.join("util/cbfstool/cbfstool"), cbfstool_path())
            .context("copying util/cbfstool/cbfstool")?;
        step.done(crate::ui::show(&cbfstool_path()));
    }
    if !rom.exists() {
        let obj = format!("build-{}", variant.name());
        let log = crate::ui::log(&format!("coreboot-{}.log", variant.name()));
        let _ = std::fs::remove_dir_all(tree.join(&obj));
        std::fs::create_dir_all(tree.join(&obj))?;
        std::fs::write(tree.join(&obj).join(".config"), variant.config())?;
        let step = build_step(
            &format!(
                "building coreboot {} (make -j2, about 1 min on 2 cores",
                variant.name()
            ),
            &log,
        );
        let vars = [format!("obj={obj}"), format!("DOTCONFIG={obj}/.config")];
        crate::ui::run_logged(make(&tree).args(&vars).arg("olddefconfig"), &log)?;
        let config = std::fs::read_to_string(tree.join(&obj).join(".config"))?;
        for want in variant.config().lines() {
            if !config.lines().any(|l| l == want) {
                bail!("coreboot's olddefconfig dropped {want:?} ({obj}/.config)");
            }
        }
        crate::ui::run_logged(make(&tree).args(&vars).arg("-j2"), &log)?;
        let tmp = rom.with_extension("rom.tmp");
        std::fs::copy(tree.join(&obj).join("coreboot.rom"), &tmp)
            .with_context(|| format!("copying {obj}/coreboot.rom"))?;
        std::fs::rename(&tmp, &rom)?;
        step.done(crate::ui::show(&rom));
    }
    Ok(rom)
}

/// A spinner for a make run: `what; log: LOG)` and the log's last line.
fn build_step(what: &str, log: &Path) -> crate::ui::Step {
    let watched = log.to_path_buf();
    crate::ui::Step::watching(
        format!("{what}; log: {})", crate::ui::show(log)),
        move || crate::ui::last_line(&watched, 50),
    )
}

/// Whether target/coreboot/src holds the unpacked tree or the orig tarball.
pub fn source_present() -> bool {
    std::fs::read_dir(dir().join("src")).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("coreboot-")
                || name.starts_with("coreboot_") && name.contains(".orig.tar")
        })
    })
}
