//! Real third-party Multiboot kernels from Debian, fetched and cached under
//! `target/kernels/` (their packages downloaded into the shared
//! `target/debs/` by `debs.rs`, as `linux.rs` does):
//!
//! - `xen`: Xen 4.17 (`xen-hypervisor-4.17-amd64`, `boot/xen-4.17-amd64.gz`,
//!   gunzipped: an ELF32 with Multiboot1 and Multiboot2 headers) with
//!   Debian's Linux as dom0 (module 0, `console=hvc0`) and the busybox
//!   initramfs of `linux.rs` (module 1). The dom0 kernel is the bzImage of
//!   the generic flavour `linux-image-6.1.0-N-amd64-unsigned`, N being the
//!   ABI of the cloud kernel in `target/linux`: the cloud flavour is built
//!   without `CONFIG_XEN_DOM0` and halts at once as dom0.
//! - `tboot`: tboot 1.10 (`tboot`, `boot/tboot.gz`) with the cloud bzImage
//!   (`target/linux/vmlinuz`) and the initramfs as modules. Without TXT it
//!   launches Linux unmeasured.
//! - `gnumach`: GNU Mach 1.8 (`gnumach-image-1.8-486`,
//!   `boot/gnumach-1.8-486.gz`): an ELF64 with a Multiboot1 header whose
//!   segments' physical addresses differ from their virtual ones (QEMU's
//!   own `-kernel` refuses it). With no bootstrap modules it prints its
//!   banner and memory map and panics; [`Check::GnumachMemoryMap`] compares
//!   that map with the one baton handed over.
//!
//! Each file is made when missing; delete `target/kernels` to start over.
//!
//! `memory_map.rs` checks GNU Mach's memory map against baton's.

mod memory_map;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};

pub use memory_map::Check;
/// The names `--kernel` and scenario rows take for these kernels.
pub const NAMES: &[&str] = &["xen", "tboot", "gnumach"];

/// Xen's own command line: its console on COM1, dom0's 512 MiB, every
/// message of Xen and of its guests.
pub const XEN_CMDLINE: &str =
    "console=com1 com1=115200,8n1 dom0_mem=512M loglvl=all guest_loglvl=all";
/// dom0's command line: Xen's console (`hvc0`, which Xen copies to COM1).
pub const XEN_DOM0_CMDLINE: &str = "console=hvc0 panic=-1";
/// tboot logs on COM1 (0x3f8, 115200 8n1).
pub const TBOOT_CMDLINE: &str = "logging=serial serial=115200,8n1,0x3f8";
/// GNU Mach's console on its first serial port.
pub const GNUMACH_CMDLINE: &str = "console=com0";

/// A real kernel with what it comes with.
pub struct Kernel {
    pub path: PathBuf,
    pub cmdline: String,
    /// Boot modules in order, each with its command line.
    pub modules: Vec<(PathBuf, Option<String>)>,
    /// The serial-log text that means the kernel got where it should: the
    /// default `--expect` of `cargo xtask run`.
    pub marker: &'static str,
    /// baton options the run needs (gnumach's check reads baton's memory
    /// map table, which is logged at debug level).
    pub baton_options: Option<&'static str>,
    /// A check of the serial log beyond the marker.
    pub check: Option<Check>,
    /// The guest RAM `cargo xtask run` gives it unless told (Xen's dom0
    /// takes 512 MiB).
    pub memory: Option<&'static str>,
}

/// One Debian package's gzipped kernel under `boot/`.
struct Package {
    package: &'static str,
    gz: &'static str,
    /// The file under target/kernels.
    out: &'static str,
}

const XEN: Package = Package {
    package: "xen-hypervisor-4.17-amd64",
    gz: "boot/xen-4.17-amd64.gz",
    out: "xen-4.17-amd64",
};
const TBOOT: Package = Package {
    package: "tboot",
    gz: "boot/tboot.gz",
    out: "tboot",
};
const GNUMACH: Package = Package {
    package: "gnumach-image-1.8-486",
    gz: "boot/gnumach-1.8-486.gz",
    out: "gnumach-1.8-486",
};

/// The kernel called `name`, fetched when missing; `None` for other names.
pub fn named(name: &str) -> Result<Option<Kernel>> {
    // One fetch at a time (scenario rows resolve from several threads).
    static FETCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = FETCH
        .lock()
        .map_err(|_| anyhow!("kernel fetch: lock poisoned"))?;
    let dir = crate::root().join("target/kernels");
    let kernel = match name {
        "xen" => {
            let linux = crate::linux::prepare()?;
            Kernel {
                path: fetch(&dir, &XEN)?,
                cmdline: XEN_CMDLINE.into(),
                modules: vec![
                    (dom0_kernel(&dir)?, Some(XEN_DOM0_CMDLINE.into())),
                    (linux.initramfs, None),
                ],
                marker: "baton-linux-init: cpus=",
                baton_options: None,
                check: None,
                memory: Some("2G"),
            }
        }
        "tboot" => {
            let linux = crate::linux::prepare()?;
            Kernel {
                path: fetch(&dir, &TBOOT)?,
                cmdline: TBOOT_CMDLINE.into(),
                modules: vec![
                    (linux.vmlinuz, Some(crate::linux::CMDLINE.into())),
                    (linux.initramfs, None),
                ],
                marker: "baton-linux-init: cpus=",
                baton_options: None,
                check: None,
                memory: Some("2G"),
            }
        }
        "gnumach" => Kernel {
            path: fetch(&dir, &GNUMACH)?,
            cmdline: GNUMACH_CMDLINE.into(),
            modules: Vec::new(),
            // The line after its memory map.
            marker: "vm_page: page table size:",
            baton_options: Some("log=debug"),
            check: Some(Check::GnumachMemoryMap),
            memory: None,
        },
        _ => return Ok(None),
    };
    Ok(Some(kernel))
}

/// `package`'s gzipped kernel, gunzipped into `dir` once.
fn fetch(dir: &Path, package: &Package) -> Result<PathBuf> {
    let out = dir.join(package.out);
    if out.exists() {
        return Ok(out);
    }
    let x = unpack(dir, package.package, "./boot/*")?;
    let gz = x.join(package.gz);
    let elf = gunzip(&gz)?;
    if elf.get(..4) != Some(b"\x7fELF") {
        bail!("{} is no gzipped ELF", gz.display());
    }
    crate::setup::write_atomically(&out, &elf)?;
    eprintln!(
        "xtask: target/kernels/{}: {} bytes (from {}, {})",
        package.out,
        elf.len(),
        package.package,
        package.gz
    );
    Ok(out)
}

/// Xen's dom0: the generic flavour's bzImage of the cloud kernel's ABI.
fn dom0_kernel(dir: &Path) -> Result<PathBuf> {
    let out = dir.join("vmlinuz-dom0");
    if out.exists() {
        return Ok(out);
    }
    let cloud = std::fs::read_to_string(crate::root().join("target/linux/PACKAGE"))
        .context("reading target/linux/PACKAGE")?;
    let package = dom0_package(cloud.trim())?;
    let x = unpack(dir, &package, "./boot/vmlinuz-*")?;
    let vmlinuz = crate::linux::vmlinuz_in(&x, &package)?;
    std::fs::copy(&vmlinuz, &out).with_context(|| format!("copying {}", vmlinuz.display()))?;
    std::fs::write(dir.join("DOM0-PACKAGE"), format!("{package}\n"))?;
    eprintln!("xtask: target/kernels/vmlinuz-dom0 from {package}");
    Ok(out)
}

/// `linux-image-6.1.0-N-cloud-amd64-unsigned` -> `linux-image-6.1.0-N-amd64-unsigned`.
fn dom0_package(cloud: &str) -> Result<String> {
    match cloud.strip_suffix("-cloud-amd64-unsigned") {
        Some(stem) => Ok(format!("{stem}-amd64-unsigned")),
        None => bail!("target/linux/PACKAGE names {cloud:?}, not a cloud-amd64-unsigned kernel"),
    }
}

/// `PACKAGE`'s .deb from the shared cache (`debs::download`, target/debs);
/// the members of its data matching `pattern` (a tar wildcard) are
/// extracted into target/kernels/debs/PACKAGE, which is returned (the
/// generic Linux package holds 400 MB of modules around its 8 MB vmlinuz).
fn unpack(dir: &Path, package: &str, pattern: &str) -> Result<PathBuf> {
    let deb = crate::debs::download(package)
        .with_context(|| format!("the real kernels need {package} (apt-get download)"))?;
    let x = dir.join("debs").join(package);
    let _ = std::fs::remove_dir_all(&x);
    std::fs::create_dir_all(&x).with_context(|| format!("creating {}", x.display()))?;
    let mut tarfile = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(&deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("running dpkg-deb --fsys-tarfile (a Debian host)")?;
    let data = tarfile.stdout.take().context("dpkg-deb's output")?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&x)
        .args(["--wildcards", pattern])
        .stdin(data)
        .output()
        .context("running tar")?;
    let status = tarfile.wait()?;
    if !status.success() || !tar.status.success() {
        bail!(
            "extracting {pattern} from {} failed (dpkg-deb {status}, tar {}): {}",
            deb.display(),
            tar.status,
            String::from_utf8_lossy(&tar.stderr).trim()
        );
    }
    Ok(x)
}

fn gunzip(gz: &Path) -> Result<Vec<u8>> {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(gz)
        .output()
        .context("running gzip -dc")?;
    if !out.status.success() {
        bail!(
            "gzip -dc {} failed ({}): {}",
            gz.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom0_is_the_generic_flavour_of_the_cloud_abi() {
        assert_eq!(
            dom0_package("linux-image-6.1.0-57-cloud-amd64-unsigned").unwrap(),
            "linux-image-6.1.0-57-amd64-unsigned"
        );
        assert!(dom0_package("linux-image-6.1.0-57-amd64").is_err());
    }
}
