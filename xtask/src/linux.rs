//! The real-Linux assets, cached under `target/linux/`:
//!
//! - `vmlinuz`, `PACKAGE`: Debian's newest `linux-image-6.1.0-*-cloud-amd64-unsigned`
//!   (`apt-get download` into the shared `target/debs/`, `dpkg-deb -x`), as
//!   `payload-loader/tests/fetch-assets.sh` does
//! - `vmlinux`: the ELF inside it (the bzImage payload, lz4 legacy frames), which
//!   carries the PVH note
//! - `busybox`: `bin/busybox` of Debian's `busybox-static`
//! - `initramfs.cpio`: an uncompressed newc archive with `/bin/busybox`, `/init`
//!   (mounts devtmpfs, prints the framebuffer Linux registered and
//!   `baton-linux-init: cpus=N memtotal=KkB` through /dev/kmsg and powers off,
//!   or with `baton.hold` on the command line stays up) and `/dev/console`
//!
//! Each is made when missing; delete `target/linux` to start over.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};

/// The kernel command line `--kernel linux` gets unless one is given, for
/// baton and for the direct boot the benchmark compares it with. Linux's
/// boot under TCG on two busy host cores fails in three ways, with or without
/// baton (all seen booting this vmlinux with QEMU's own `-kernel`):
/// - the IO-APIC timer check panics (`IO-APIC + timer doesn't work!`: it
///   counts PIT ticks in a busy-wait window a starved vCPU overruns):
///   `no_timer_check` skips it, as Linux does itself on KVM;
/// - the i8042 AUX port's IRQ test was where the third was most often fatal:
///   `i8042.noaux` (no mouse port: nothing here uses one);
/// - an idle vCPU's one-shot timer interrupt is lost and nothing wakes that
///   CPU again (RCU: `timer wakeup didn't happen ... on cpu=N`, the CPU in
///   `native_safe_halt`; about 1 Linux boot in 400 in the test matrix).
///   `nohz=off highres=off lapic=notscdeadline` run the local APIC timer in
///   periodic mode, which QEMU re-arms itself every tick, so a lost
///   interrupt costs one tick instead of the CPU.
///
/// A run that still times out leaves its local APICs in `hang-state.txt`.
pub const CMDLINE: &str =
    "console=ttyS0 panic=-1 no_timer_check i8042.noaux nohz=off highres=off lapic=notscdeadline";

const INIT: &str = r#"#!/bin/busybox sh
# baton's Linux test init: count the CPUs the kernel brought up, say so, power off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
cpus=$(/bin/busybox grep -c '^processor' /proc/cpuinfo)
mem=$(/bin/busybox awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
# The framebuffer Linux registered from what the loader handed over.
fb=$(/bin/busybox cat /proc/fb)
size=$(/bin/busybox cat /sys/class/graphics/fb0/virtual_size 2>/dev/null)
# Through the kernel log: printk writes the console synchronously, while a
# plain echo sits in the serial driver's buffer and poweroff -f may beat it.
echo "baton-linux-init: /proc/fb: ${fb:-none}; fb0 virtual_size: ${size:-none}" > /dev/kmsg
echo "baton-linux-init: cpus=$cpus memtotal=${mem}kB" > /dev/kmsg
# baton.hold: stay up (the harness looks at the screen, then ends the run).
if /bin/busybox grep -q baton.hold /proc/cmdline; then
    while :; do /bin/busybox sleep 3600; done
fi
/bin/busybox poweroff -f
"#;

pub struct Assets {
    pub vmlinux: PathBuf,
    /// The bzImage it came from (tboot loads Linux from this).
    pub vmlinuz: PathBuf,
    pub initramfs: PathBuf,
}

/// The assets, made once per process (scenarios ask from several threads).
pub fn prepare() -> Result<Assets> {
    static ONCE: std::sync::Mutex<Option<std::result::Result<(), String>>> =
        std::sync::Mutex::new(None);
    let dir = crate::root().join("target/linux");
    let mut done = ONCE
        .lock()
        .map_err(|_| anyhow!("Linux assets: lock poisoned"))?;
    let result = done.get_or_insert_with(|| make(&dir).map_err(|e| format!("{e:#}")));
    match result {
        Ok(()) => Ok(Assets {
            vmlinux: dir.join("vmlinux"),
            vmlinuz: dir.join("vmlinuz"),
            initramfs: dir.join("initramfs.cpio"),
        }),
        Err(e) => bail!("{e}"),
    }
}

fn make(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if !dir.join("vmlinux").exists() {
        if !dir.join("vmlinuz").exists() {
            fetch_kernel(dir)?;
        }
        let bz = std::fs::read(dir.join("vmlinuz"))
            .with_context(|| format!("reading {}", dir.join("vmlinuz").display()))?;
        let step = crate::ui::Step::start(format!(
            "extracting target/linux/vmlinux from the bzImage ({}, lz4)",
            crate::ui::size(bz.len() as u64)
        ));
        let elf = extract_vmlinux(&bz).context("extracting vmlinux from target/linux/vmlinuz")?;
        crate::setup::write_atomically(&dir.join("vmlinux"), &elf)?;
        step.done(format!("{} ELF", crate::ui::size(elf.len() as u64)));
    }
    if !dir.join("busybox").exists() {
        let x = unpack(dir, "busybox-static")?;
        std::fs::copy(x.join("bin/busybox"), dir.join("busybox"))
            .context("copying bin/busybox out of busybox-static")?;
    }
    // Made every time (a few ms) and written when it differs, so a change
    // of /init reaches a cached target/linux.
    let busybox = std::fs::read(dir.join("busybox")).context("reading target/linux/busybox")?;
    let cpio = initramfs(&busybox);
    if std::fs::read(dir.join("initramfs.cpio")).ok().as_ref() != Some(&cpio) {
        crate::setup::write_atomically(&dir.join("initramfs.cpio"), &cpio)?;
        crate::ui::say(format!(
            "target/linux/initramfs.cpio: {} (busybox, /init)",
            crate::ui::size(cpio.len() as u64)
        ));
    }
    Ok(())
}

/// `setup::run`, with the hint that these steps need a Debian host.
fn run(cmd: &mut Command) -> Result<String> {
    crate::setup::run(cmd).context("the Linux assets need apt-get and dpkg-deb (a Debian host)")
}

/// The newest `linux-image-6.1.0-N-cloud-amd64-unsigned` apt knows.
fn newest_kernel_package() -> Result<Option<String>> {
    let list = run(Command::new("apt-cache").args([
        "search",
        "--names-only",
        r"^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$",
    ]))?;
    Ok(list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|name| {
            let n = name
                .strip_prefix("linux-image-6.1.0-")?
                .strip_suffix("-cloud-amd64-unsigned")?;
            Some((n.parse::<u32>().ok()?, name.to_string()))
        })
        .max()
        .map(|(_, name)| name))
}

fn fetch_kernel(dir: &Path) -> Result<()> {
    let mut package = newest_kernel_package()?;
    if package.is_none() {
        crate::setup::apt_logged("apt-get update (no Linux 6.1 package known)", &["update"])?;
        package = newest_kernel_package()?;
    }
    let package = package.context(
        "no linux-image-6.1.0-*-cloud-amd64-unsigned package in the apt sources (`apt-cache search` found none)",
    )?;
    let x = unpack(dir, &package)?;
    let vmlinuz = vmlinuz_in(&x, &package)?;
    std::fs::copy(&vmlinuz, dir.join("vmlinuz"))
        .with_context(|| format!("copying {}", vmlinuz.display()))?;
    std::fs::write(dir.join("PACKAGE"), format!("{package}\n"))?;
    Ok(())
}

/// The .deb of PACKAGE (downloaded once into target/debs, shared with the
/// host tests' assets), unpacked into target/linux/debs/PACKAGE; returns
/// that folder.
fn unpack(dir: &Path, package: &str) -> Result<PathBuf> {
    let deb = crate::debs::download(package)?;
    let x = dir.join("debs").join(package);
    let _ = std::fs::remove_dir_all(&x);
    std::fs::create_dir_all(dir.join("debs"))?;
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&x))?;
    Ok(x)
}

fn le32(b: &[u8], at: usize) -> Result<u32> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
        .with_context(|| format!("bzImage too short for a u32 at {at:#x}"))
}

/// The ELF inside a bzImage: payload_offset (0x248) and payload_length
/// (0x24c) of the setup header count from the protected-mode code at
/// (setup_sects + 1) * 512. lz4 "legacy" frames only (Debian's cloud
/// flavour; the generic one is xz).
pub fn extract_vmlinux(bz: &[u8]) -> Result<Vec<u8>> {
    if bz.get(0x202..0x206) != Some(b"HdrS") {
        bail!("not a bzImage (no HdrS at 0x202)");
    }
    let setup_sects = match bz.get(0x1f1).copied().unwrap_or(0) {
        0 => 4,
        n => usize::from(n),
    };
    let start = (setup_sects + 1) * 512 + le32(bz, 0x248)? as usize;
    let len = le32(bz, 0x24c)? as usize;
    let payload = bz.get(start..start.saturating_add(len)).with_context(|| {
        format!(
            "payload [{start:#x}+{len:#x}] lies past the file's {:#x} bytes",
            bz.len()
        )
    })?;
    const LEGACY_MAGIC: u32 = 0x184c_2102;
    if payload.get(..4) != Some(&LEGACY_MAGIC.to_le_bytes()[..]) {
        bail!(
            "payload magic {:02x?} is not lz4 legacy (the generic flavour's xz is not supported)",
            payload.get(..6)
        );
    }
    let mut out = Vec::new();
    let mut block = vec![0u8; 8 << 20];
    let mut pos = 4;
    while pos + 4 <= payload.len() {
        let size = le32(payload, pos)? as usize;
        if size == LEGACY_MAGIC as usize {
            pos += 4;
            continue;
        }
        let Some(data) = payload.get(pos + 4..pos + 4 + size) else {
            break; // the trailing uncompressed-size word
        };
        let n = lz4_flex::block::decompress_into(data, &mut block)
            .map_err(|e| anyhow!("lz4 block at payload offset {pos:#x}: {e}"))?;
        out.extend_from_slice(&block[..n]);
        pos += 4 + size;
    }
    if out.get(..4) != Some(b"\x7fELF") {
        bail!(
            "the decompressed payload ({} bytes) is not an ELF",
            out.len()
        );
    }
    Ok(out)
}

/// The initramfs: an uncompressed newc cpio archive.
pub fn initramfs(busybox: &[u8]) -> Vec<u8> {
    let mut c = Cpio::default();
    for d in ["bin", "dev", "proc", "sys"] {
        c.entry(d, 0o040_755, 0, &[]);
    }
    c.entry("dev/console", 0o020_600, (5 << 8) | 1, &[]);
    c.entry("bin/busybox", 0o100_755, 0, busybox);
    c.entry("init", 0o100_755, 0, INIT.as_bytes());
    c.finish()
}

#[derive(Default)]
struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    /// One newc entry; `rdev` is major << 8 | minor for device nodes.
    fn entry(&mut self, name: &str, mode: u32, rdev: u32, data: &[u8]) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            if mode & 0o170_000 == 0o040_000 { 2 } else { 1 },
            0, // mtime
            data.len() as u32,
            0, // devmajor
            0, // devminor
            rdev >> 8,
            rdev & 0xff,
            name.len() as u32 + 1,
            0, // check
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, 0, &[]);
        self.out
    }
}

/// The `boot/vmlinuz-*` of a Linux image package unpacked at `x`.
pub fn vmlinuz_in(x: &std::path::Path, package: &str) -> Result<PathBuf> {
    let boot = x.join("boot");
    std::fs::read_dir(&boot)
        .with_context(|| format!("reading {}", boot.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .with_context(|| format!("{package} has no boot/vmlinuz-*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_is_newc_with_aligned_entries() {
        let c = initramfs(b"BB");
        assert!(c.starts_with(b"070701"));
        assert!(c.len().is_multiple_of(4));
        let text = String::from_utf8_lossy(&c);
        for name in ["bin/busybox", "init", "dev/console", "TRAILER!!!"] {
            assert!(text.contains(name), "{name}");
        }
        // The first header: ino 1, mode dir 0755, name "bin" (4 bytes with NUL).
        assert_eq!(&c[6..22], b"00000001000041ed");
        assert_eq!(&c[6 + 11 * 8..6 + 12 * 8], b"00000004");
        assert_eq!(&c[110..114], b"bin\0");
    }

    #[test]
    fn extract_refuses_what_is_not_a_bzimage() {
        assert!(extract_vmlinux(&[0; 16]).is_err());
        let mut bz = vec![0u8; 0x1000];
        bz[0x202..0x206].copy_from_slice(b"HdrS");
        bz[0x248..0x24c].copy_from_slice(&0x10_0000u32.to_le_bytes());
        bz[0x24c..0x250].copy_from_slice(&16u32.to_le_bytes());
        let e = extract_vmlinux(&bz).unwrap_err().to_string();
        assert!(e.contains("lies past"), "{e}");
    }
}
