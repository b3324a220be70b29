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

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};

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

/// A check of a run's serial log beyond its marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// GNU Mach's `biosmem:` memory map is the one baton handed over:
    /// baton's own map (its debug-level table) with the boot information
    /// and the park area reserved.
    GnumachMemoryMap,
}

impl Check {
    /// `Ok(what was found)` or `Err(what differs)`.
    pub fn run(self, serial: &str) -> Result<String, String> {
        match self {
            Check::GnumachMemoryMap => gnumach_memory_map(serial),
        }
    }
}

const PAGE: u64 = 4096;

/// One memory range of a map: `[start, end)`, usable or not, and its kind's
/// name as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Region {
    start: u64,
    end: u64,
    usable: bool,
    kind: String,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok()
}

/// baton's memory map: the debug-level table after `memory map (N regions):`
/// (`  0x0000000000000000  0x000000000009fc00  639  usable`).
fn baton_map(serial: &str) -> Result<Vec<Region>, String> {
    let mut lines = serial.lines();
    let count = lines
        .by_ref()
        .find_map(|l| {
            let rest = l.split_once("memory map (")?.1;
            rest.split_once(" regions)")?.0.parse::<usize>().ok()
        })
        .ok_or("baton's log has no `memory map (N regions)` line")?;
    let rows: Vec<Region> = lines
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_once("] ")?.1.split_whitespace().collect();
            let [start, end, _kib, kind @ ..] = fields.as_slice() else {
                return None;
            };
            Some(Region {
                start: hex(start.strip_prefix("0x")?)?,
                end: hex(end.strip_prefix("0x")?)?,
                usable: kind.first() == Some(&"usable"),
                kind: kind.join(" "),
            })
        })
        .take(count)
        .collect();
    if rows.len() != count {
        return Err(format!(
            "baton's memory map has {count} regions but the log shows {} rows (run baton with log=debug)",
            rows.len()
        ));
    }
    Ok(rows)
}

/// GNU Mach's map: `biosmem: 000000000000100000:00000000001ffdf000, available`.
fn gnumach_map(serial: &str) -> Result<Vec<Region>, String> {
    let rows: Vec<Region> = serial
        .lines()
        .filter_map(|l| {
            let (range, kind) = l.split_once("biosmem: ")?.1.split_once(", ")?;
            let (start, end) = range.split_once(':')?;
            Some(Region {
                start: hex(start)?,
                end: hex(end)?,
                usable: kind.trim() == "available",
                kind: kind.trim().to_string(),
            })
        })
        .collect();
    if rows.is_empty() {
        return Err("GNU Mach printed no `biosmem:` memory map".into());
    }
    Ok(rows)
}

/// What baton may keep from the kernel: `boot information at 0x...` and
/// `park area [0x...` (reserved where the IDTR or parked APs still use it).
fn kept_addresses(serial: &str) -> Result<(u64, Option<(u64, u64)>), String> {
    let line = serial
        .lines()
        .find(|l| l.contains("baton: handoff prepared: "))
        .ok_or("baton's log has no `handoff prepared` line")?;
    let after = |key: &str| {
        let rest = line.split_once(key)?.1;
        let end = rest.find(|c: char| !c.is_ascii_hexdigit() && c != 'x')?;
        hex(&rest[..end])
    };
    let info = after("boot information at ").ok_or("no boot information address")?;
    // `park area [0x3000..0xd000)`
    let park = line.split_once("park area [").and_then(|(_, rest)| {
        let (start, rest) = rest.split_once("..")?;
        Some((hex(start)?, hex(rest.split_once(')')?.0)?))
    });
    Ok((info, park))
}

/// Page-granular usable ranges, sorted and merged (GNU Mach rounds each
/// available range inward to whole pages).
fn usable_pages(map: &[Region]) -> Vec<(u64, u64)> {
    let mut r: Vec<(u64, u64)> = map
        .iter()
        .filter(|m| m.usable)
        .map(|m| (m.start.next_multiple_of(PAGE), m.end / PAGE * PAGE))
        .filter(|(s, e)| s < e)
        .collect();
    r.sort();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (s, e) in r {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// `a` minus `b`, both sorted and disjoint.
fn subtract(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(mut s, e) in a {
        for &(bs, be) in b {
            if be <= s || bs >= e {
                continue;
            }
            if bs > s {
                out.push((s, bs));
            }
            s = s.max(be);
        }
        if s < e {
            out.push((s, e));
        }
    }
    out
}

fn gnumach_memory_map(serial: &str) -> Result<String, String> {
    let baton = baton_map(serial)?;
    let mach = gnumach_map(serial)?;
    let (info, park) = kept_addresses(serial)?;
    let mut problems = Vec::new();
    // Every range baton does not call usable reaches GNU Mach as it was.
    for r in baton.iter().filter(|r| !r.usable) {
        if !mach
            .iter()
            .any(|m| !m.usable && m.start == r.start && m.end == r.end)
        {
            problems.push(format!(
                "baton's {} [{:#x}..{:#x}) is not in GNU Mach's map",
                r.kind, r.start, r.end
            ));
        }
    }
    let (ours, theirs) = (usable_pages(&baton), usable_pages(&mach));
    for (s, e) in subtract(&theirs, &ours) {
        problems.push(format!(
            "GNU Mach calls [{s:#x}..{e:#x}) available, which baton's map does not"
        ));
    }
    // What baton's map calls usable and GNU Mach does not: only what baton
    // kept: its boot information (its size rounded up, at most 64 KiB) and
    // the park area, apart or as one range where they touch.
    let holes = subtract(&ours, &theirs);
    let mut kept = vec![(info, info + 64 * 1024)];
    kept.extend(park);
    kept.sort();
    for &(s, e) in &holes {
        let starts_right = s == info || park.is_some_and(|(p, _)| p == s);
        if !starts_right || !subtract(&[(s, e)], &kept).is_empty() {
            problems.push(format!(
                "[{s:#x}..{e:#x}) is usable in baton's map but not in GNU Mach's, and is not what baton kept (boot information at {info:#x}, park area {park:x?})"
            ));
        }
    }
    let Some(&(is, ie)) = holes.iter().find(|(s, _)| *s == info) else {
        problems.push(format!(
            "the boot information at {info:#x} is not reserved in GNU Mach's map"
        ));
        return Err(problems.join("; "));
    };
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let available: u64 = theirs.iter().map(|(s, e)| e - s).sum();
    let park = match park {
        Some((p, pe)) if is < p && p < ie => {
            format!(" and the park area [{p:#x}..{pe:#x}) in one range")
        }
        Some((p, _)) => match holes.iter().find(|(s, _)| *s == p) {
            Some((s, e)) => format!(" and the park area [{s:#x}..{e:#x})"),
            None => String::new(),
        },
        None => String::new(),
    };
    Ok(format!(
        "GNU Mach's memory map ({} entries, {} KiB available) is baton's ({} regions) with the boot information [{is:#x}..{ie:#x}){park} reserved",
        mach.len(),
        available / 1024,
        baton.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From a run of GNU Mach 1.8 through baton (q35, 512M, log=debug).
    const SERIAL: &str = "\
[     7000us INFO ] memory map (9 regions):
[     7100us DEBUG]                start                 end    size KiB  kind
[     7869us DEBUG]   0x0000000000000000  0x000000000009fc00         639  usable
[     8098us DEBUG]   0x000000000009fc00  0x00000000000a0000           1  reserved
[     8176us DEBUG]   0x00000000000f0000  0x0000000000100000          64  reserved
[     8232us DEBUG]   0x0000000000100000  0x000000001ffdf000      523132  usable
[     8283us DEBUG]   0x000000001ffdf000  0x0000000020000000         132  reserved
[     8340us DEBUG]   0x00000000b0000000  0x00000000c0000000      262144  reserved
[     8391us DEBUG]   0x00000000fed1c000  0x00000000fed20000          16  reserved
[     8444us DEBUG]   0x00000000fffc0000  0x0000000100000000         256  reserved
[     8496us DEBUG]   0x000000fd00000000  0x0000010000000000    12582912  reserved
[     8625us INFO ] usable RAM 511 MiB, identity-mapped up to 0x100000000
[    80452us INFO ] baton: handoff prepared: park area [0x1ff25000..0x1ff2e000), boot information at 0x1000 (411 bytes), 3 copies, 0 modules
GNU Mach 1.8+git20221224-486
biosmem: physical memory map:
biosmem: 000000000000000000:000000000000001000, available
biosmem: 000000000000001000:000000000000002000, reserved
biosmem: 000000000000002000:00000000000009f000, available
biosmem: 00000000000009fc00:0000000000000a0000, reserved
biosmem: 0000000000000f0000:000000000000100000, reserved
biosmem: 000000000000100000:00000000001ffdf000, available
biosmem: 00000000001ffdf000:000000000020000000, reserved
biosmem: 0000000000b0000000:0000000000c0000000, reserved
biosmem: 0000000000fed1c000:0000000000fed20000, reserved
biosmem: 0000000000fffc0000:000000000100000000, reserved
biosmem: 00000000fd00000000:000000010000000000, reserved
vm_page: page table size: 131023 entries (12284k)
";

    #[test]
    fn gnumach_map_matches_what_baton_handed_over() {
        let found = Check::GnumachMemoryMap.run(SERIAL).unwrap();
        assert!(
            found.contains("(11 entries, 523764 KiB available) is baton's (9 regions) with the boot information [0x1000..0x2000) reserved"),
            "{found}"
        );
    }

    #[test]
    fn the_park_area_may_be_reserved_too() {
        let parked = SERIAL.replace(
            "biosmem: 000000000000100000:00000000001ffdf000, available\n",
            "biosmem: 000000000000100000:00000000001ff25000, available\n\
             biosmem: 00000000001ff25000:00000000001ff2e000, reserved\n\
             biosmem: 00000000001ff2e000:00000000001ffdf000, available\n",
        );
        let found = Check::GnumachMemoryMap.run(&parked).unwrap();
        assert!(
            found.ends_with("boot information [0x1000..0x2000) and the park area [0x1ff25000..0x1ff2e000) reserved"),
            "{found}"
        );
    }

    #[test]
    fn the_park_area_may_touch_the_boot_information() {
        let merged = SERIAL
            .replace(
                "park area [0x1ff25000..0x1ff2e000), boot information at 0x1000",
                "park area [0x2000..0xc000), boot information at 0x1000",
            )
            .replace(
                "biosmem: 000000000000001000:000000000000002000, reserved\n\
                 biosmem: 000000000000002000:00000000000009f000, available",
                "biosmem: 000000000000001000:00000000000000c000, reserved\n\
                 biosmem: 00000000000000c000:00000000000009f000, available",
            );
        let found = Check::GnumachMemoryMap.run(&merged).unwrap();
        assert!(
            found.ends_with("boot information [0x1000..0xc000) and the park area [0x2000..0xc000) in one range reserved"),
            "{found}"
        );
        // A hole past both is not theirs.
        let wide = merged
            .replace(
                ":00000000000000c000, reserved",
                ":00000000000001c000, reserved",
            )
            .replace(
                "00000000000000c000:00000000000009f000",
                "00000000000001c000:00000000000009f000",
            );
        let e = Check::GnumachMemoryMap.run(&wide).unwrap_err();
        assert!(
            e.contains("[0x1000..0x1c000) is usable in baton's map but not in GNU Mach's"),
            "{e}"
        );
    }

    #[test]
    fn gnumach_map_differences_are_named() {
        // GNU Mach sees more RAM than baton has.
        let more = SERIAL.replace(
            "000000000000100000:00000000001ffdf000, available",
            "000000000000100000:00000000002ffdf000, available",
        );
        let e = Check::GnumachMemoryMap.run(&more).unwrap_err();
        assert!(
            e.contains("GNU Mach calls [0x1ffdf000..0x2ffdf000) available"),
            "{e}"
        );
        // The boot information not reserved.
        let open = SERIAL
            .replace(
                "biosmem: 000000000000001000:000000000000002000, reserved\n",
                "",
            )
            .replace(
                "000000000000002000:00000000000009f000",
                "000000000000001000:00000000000009f000",
            );
        let e = Check::GnumachMemoryMap.run(&open).unwrap_err();
        assert!(
            e.contains("the boot information at 0x1000 is not reserved"),
            "{e}"
        );
        // A reserved range lost, a usable one cut short.
        let lost = SERIAL
            .replace(
                "biosmem: 0000000000b0000000:0000000000c0000000, reserved\n",
                "",
            )
            .replace(
                "00000000001ffdf000, available",
                "00000000001f000000, available",
            );
        let e = Check::GnumachMemoryMap.run(&lost).unwrap_err();
        assert!(
            e.contains("baton's reserved [0xb0000000..0xc0000000) is not in GNU Mach's map"),
            "{e}"
        );
        assert!(
            e.contains("[0x1f000000..0x1ffdf000) is usable in baton's map but not in GNU Mach's"),
            "{e}"
        );
        // Without baton's table (no log=debug).
        let e = Check::GnumachMemoryMap
            .run("GNU Mach\nbiosmem: 0:1000, available\n")
            .unwrap_err();
        assert!(e.contains("memory map (N regions)"), "{e}");
    }

    #[test]
    fn dom0_is_the_generic_flavour_of_the_cloud_abi() {
        assert_eq!(
            dom0_package("linux-image-6.1.0-57-cloud-amd64-unsigned").unwrap(),
            "linux-image-6.1.0-57-amd64-unsigned"
        );
        assert!(dom0_package("linux-image-6.1.0-57-amd64").is_err());
    }
}
