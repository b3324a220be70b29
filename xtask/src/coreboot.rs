//! `cargo xtask coreboot`: a real coreboot ROM for QEMU q35, built from
//! Debian's source package, and baton put into it as the payload.
//!
//! How it is made (each step only when its result is missing):
//! - a `deb-src` entry for Debian's `sid` suite (coreboot 25.09+dfsg-1), the
//!   archive URI taken from the machine's apt sources
//!   (`/etc/apt/sources.list.d/baton-sid-src.sources`), `apt-get update`,
//!   `apt-get source --download-only coreboot` into `target/coreboot/src/`,
//!   the orig tarball (21.7 MB) unpacked with tar;
//! - `.config` = the fragment below, `make olddefconfig`, `make -j2` with the
//!   host toolchain (`CONFIG_ANY_TOOLCHAIN`), objects in `build-<variant>/`
//!   of the tree; `GIT_CEILING_DIRECTORIES` keeps coreboot's Makefile from
//!   seeing baton's git repository (it would take its version string from it
//!   and run `git submodule update` there);
//! - `util/cbfstool` from the same tree;
//! - the ROM and cbfstool copied to `target/coreboot/`.
//!
//! Facts measured here (bookworm host, gcc 12.2, 2 cores):
//! - Debian packages the build needs beyond a Rust machine: flex, bison,
//!   acpica-tools (iasl 20200925 is new enough), m4, and gcc-multilib: the
//!   bootblock, romstage and postcar are 32-bit and link libgcc's
//!   `__udivdi3`/`__udivmoddi4` from `gcc -m32` (without it: "undefined
//!   reference to `__udivmoddi4'"). zlib1g-dev, make, python3, xz-utils were
//!   there already.
//! - Times from nothing (`rm -rf target/coreboot; cargo xtask coreboot
//!   --tseg`): apt-get update + source download + unpack about 10 s,
//!   util/cbfstool 16 s, the q35 ROM 46 s, the q35-tseg ROM 57 s (`make
//!   -j2`, each a clean tree), both bare boots included 2 min 9 s in all.
//! - The default SMM set-up (`CPU_QEMU_X86_ASEG_SMM`) gives `MAX_CPUS=4`:
//!   with `-smp 5` or more coreboot says "CPU count(5) exceeds
//!   CONFIG_MAX_CPUS(4)" and "MP initialization failure". With
//!   `CONFIG_CPU_QEMU_X86_TSEG_SMM=y`, `MAX_CPUS=32`: 4, 8, 16 and 32 CPUs
//!   are all initialized, 33 fails the same way (the `q35-tseg` variant).
//! - The 16 MiB ROM, `cbfstool coreboot-q35.rom layout -w`:
//!   ```text
//!   'BIOS' (read-only, size 16777216, offset 0)
//!   'FMAP' (read-only, size 512, offset 0)
//!   'COREBOOT' (CBFS, size 16776704, offset 512)
//!   ```
//!   `cbfstool coreboot-q35.rom print` (no payload):
//!   ```text
//!   Name                  Offset     Type         Size   Comp
//!   cbfs_master_header    0x0        cbfs header        32 none
//!   fallback/romstage     0x80       stage           19616 none
//!   fallback/ramstage     0x4d80     stage           73071 LZMA (149796 decompressed)
//!   config                0x16b80    raw              2482 LZMA (7767 decompressed)
//!   revision              0x17580    raw               793 none
//!   build_info            0x178c0    raw               115 none
//!   fallback/dsdt.aml     0x17980    raw              7175 none
//!   cmos_layout.bin       0x195c0    cmos_layout       640 none
//!   fallback/postcar      0x19880    stage           20960 none
//!   (empty)               0x1eac0    null         16634596 none
//!   bootblock             0xffbdc0   bootblock       16384 none
//!   ```
//!   so about 15.8 MiB of CBFS is free. The ROM is mapped at 0xff000000
//!   (16 MiB below 4 GiB); CBFS (the FMAP region COREBOOT) begins at ROM
//!   offset 0x200, i.e. at 0xff000200.
//! - Booted bare (`-smp 4 -m 512M`): bootblock, romstage, postcar, ramstage
//!   all x86_32; the forward table is written at 0x500 (0x10 bytes of
//!   entries) and the real coreboot table at 0x1fe98000 (0x300 bytes of
//!   entries) in CBMEM at the top of RAM (0x1fd89000 with the TSEG ROM at
//!   -smp 32); then "CBFS: 'fallback/payload' not
//!   found" and "Payload not loaded." (the machine halts there).
//!
//! Then a run through coreboot (`entry = coreboot`): the cached ROM with
//! the kernel, initrd and modules already in CBFS (cached under
//! `target/coreboot/cache/`, keyed by the files), copied per run, baton
//! added as `fallback/payload` (`add-payload -c lzma`), and the small
//! files (`cmdline`, `config`, `module/N/cmdline`) added raw. CBFS names
//! are fw_cfg's (`opt/baton/kernel`, ...): coreboot's build already puts its
//! own `.config` into CBFS as `config` (LZMA, 7.7 KB).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::setup::run;
use anyhow::{Context, Result, anyhow, bail};
use baton::source::fwcfg;

/// The Debian packages the coreboot build needs.
const BUILD_PACKAGES: &[&str] = &[
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

/// What every variant sets (the rest are the board's defaults).
const CONFIG: &str = "\
CONFIG_ANY_TOOLCHAIN=y
CONFIG_VENDOR_EMULATION=y
CONFIG_BOARD_EMULATION_QEMU_X86_Q35=y
CONFIG_COREBOOT_ROMSIZE_KB_16384=y
CONFIG_PAYLOAD_NONE=y
CONFIG_CONSOLE_SERIAL=y
";

/// The ROMs this module builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The board's default SMM set-up (ASEG): at most 4 CPUs.
    Q35,
    /// `CONFIG_CPU_QEMU_X86_TSEG_SMM=y`: up to 32 CPUs.
    Q35Tseg,
    /// `CONFIG_GENERIC_LINEAR_FRAMEBUFFER=y`: coreboot's QEMU VGA driver
    /// (`DRIVERS_EMULATION_QEMU_BOCHS`, on by default) sets an 800x600x32
    /// linear framebuffer on QEMU's standard VGA and describes it in the
    /// coreboot table (without it: VGA text mode). At most 4 CPUs.
    Q35Framebuffer,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Q35 => "q35",
            Variant::Q35Tseg => "q35-tseg",
            Variant::Q35Framebuffer => "q35-fb",
        }
    }

    fn config(self) -> String {
        match self {
            Variant::Q35 => CONFIG.to_string(),
            Variant::Q35Tseg => format!("{CONFIG}CONFIG_CPU_QEMU_X86_TSEG_SMM=y\n"),
            Variant::Q35Framebuffer => format!("{CONFIG}CONFIG_GENERIC_LINEAR_FRAMEBUFFER=y\n"),
        }
    }

    /// The most CPUs the ROM starts.
    pub fn max_cpus(self) -> u32 {
        match self {
            Variant::Q35 | Variant::Q35Framebuffer => 4,
            Variant::Q35Tseg => 32,
        }
    }

    /// The ROM for a machine with `smp` CPUs, with a linear framebuffer or
    /// VGA text.
    pub fn for_machine(smp: u32, framebuffer: bool) -> Result<Self> {
        if !framebuffer {
            return Ok(Self::for_smp(smp));
        }
        let fb = Variant::Q35Framebuffer;
        if smp > fb.max_cpus() {
            anyhow::bail!(
                "coreboot with a framebuffer ({}) starts at most {} CPUs, not {smp}",
                fb.name(),
                fb.max_cpus()
            );
        }
        Ok(fb)
    }

    /// The ROM for a machine with `smp` CPUs.
    pub fn for_smp(smp: u32) -> Self {
        if smp <= Variant::Q35.max_cpus() {
            Variant::Q35
        } else {
            Variant::Q35Tseg
        }
    }
}

/// target/coreboot
pub fn dir() -> PathBuf {
    crate::root().join("target/coreboot")
}

pub fn rom_path(variant: Variant) -> PathBuf {
    dir().join(format!("coreboot-{}.rom", variant.name()))
}

pub fn cbfstool_path() -> PathBuf {
    dir().join("cbfstool")
}

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
                "coreboot's source package is not in the apt sources: as root add a deb-src entry for Debian's sid (see xtask/src/coreboot.rs) and run `apt-get update`"
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

/// `cbfstool ARGS...`, its stdout.
pub fn cbfstool(args: &[&std::ffi::OsStr]) -> Result<String> {
    run(Command::new(cbfstool_path()).args(args))
}

/// What to compress a CBFS file with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    None,
    Lz4,
    #[default]
    Lzma,
}

impl Compression {
    fn arg(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lz4 => "lz4",
            Compression::Lzma => "lzma",
        }
    }
}

/// Files smaller than this go into CBFS uncompressed.
const COMPRESS_FROM: u64 = 64 << 10;

/// `cbfstool ROM add -t raw -n NAME -f FILE [-c C]`.
fn add_raw(rom: &Path, name: &str, file: &Path, c: Compression) -> Result<()> {
    let mut cmd = Command::new(cbfstool_path());
    cmd.arg(rom)
        .args(["add", "-t", "raw", "-n", name, "-f"])
        .arg(file);
    if c != Compression::None {
        cmd.args(["-c", c.arg()]);
    }
    run(&mut cmd).map(|_| ())
}

fn add_string(rom: &Path, name: &str, text: &str, scratch: &Path) -> Result<()> {
    let file = scratch.join(name.replace('/', "_"));
    std::fs::write(&file, text)?;
    add_raw(rom, name, &file, Compression::None)
}

/// What goes into CBFS for one run: baton's files scheme without fw_cfg's
/// `opt/baton/` prefix.
pub struct Contents<'a> {
    pub payload: &'a crate::payload::Payload,
    /// baton's own command line (the CBFS `config` file).
    pub config: &'a str,
    pub compression: Compression,
}

/// Identity of a file for the cache key: path, length, modification time.
fn identity(path: &Path, h: &mut DefaultHasher) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    path.hash(h);
    meta.len().hash(h);
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .hash(h);
    Ok(())
}

/// The ROM for one run at `out`: baton (`elf`) as the payload, the kernel
/// and friends in CBFS. Returns a line of what it did.
pub fn payload_rom(
    variant: Variant,
    elf: &Path,
    contents: &Contents,
    out: &Path,
) -> Result<String> {
    let base = ensure(variant)?;
    let cached = cached_files_rom(variant, &base, contents)?;
    let scratch = out.with_extension("files");
    std::fs::create_dir_all(&scratch)?;
    std::fs::copy(&cached, out).with_context(|| format!("copying {}", cached.display()))?;
    let started = Instant::now();
    // A ROM built with a payload has one already; ours have none.
    let _ = cbfstool(&[
        out.as_ref(),
        "remove".as_ref(),
        "-n".as_ref(),
        "fallback/payload".as_ref(),
    ]);
    run(Command::new(cbfstool_path())
        .arg(out)
        .args(["add-payload", "-n", "fallback/payload", "-c", "lzma", "-f"])
        .arg(elf))?;
    let p = contents.payload;
    if let Some(c) = p.cmdline.as_deref().filter(|c| !c.is_empty()) {
        add_string(out, fwcfg::CMDLINE, c, &scratch)?;
    }
    if !contents.config.is_empty() {
        add_string(out, fwcfg::CONFIG, contents.config, &scratch)?;
    }
    for (i, (_, cmdline)) in p.modules.iter().enumerate() {
        if let Some(c) = cmdline.as_deref().filter(|c| !c.is_empty()) {
            add_string(out, &fwcfg::module_cmdline_name(i), c, &scratch)?;
        }
    }
    let listing = cbfstool(&[out.as_ref(), "print".as_ref()])?;
    std::fs::write(out.with_extension("cbfs.txt"), &listing)?;
    Ok(format!(
        "coreboot ROM {} ({}): payload and small files added in {:.2} s",
        out.display(),
        variant.name(),
        started.elapsed().as_secs_f64()
    ))
}

/// The base ROM with the kernel, initrd and module files in CBFS, cached
/// under target/coreboot/cache/ by the files' identities, so that a big
/// kernel is compressed once.
fn cached_files_rom(variant: Variant, base: &Path, contents: &Contents) -> Result<PathBuf> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK
        .lock()
        .map_err(|_| anyhow!("coreboot cache: lock poisoned"))?;
    let p = contents.payload;
    let mut h = DefaultHasher::new();
    identity(base, &mut h)?;
    contents.compression.arg().hash(&mut h);
    // The rule for what goes in raw (bzImages since it came in).
    "bzimage-raw".hash(&mut h);
    let mut files: Vec<(String, &Path)> = Vec::new();
    if let Some(k) = &p.kernel {
        files.push((fwcfg::KERNEL.into(), k));
    }
    if let Some(i) = &p.initrd {
        files.push((fwcfg::INITRD.into(), i));
    }
    for (i, (path, _)) in p.modules.iter().enumerate() {
        files.push((fwcfg::module_name(i), path));
    }
    for (name, path) in &files {
        name.hash(&mut h);
        identity(path, &mut h)?;
    }
    let cache = dir().join("cache");
    std::fs::create_dir_all(&cache)?;
    let rom = cache.join(format!("{}-{:016x}.rom", variant.name(), h.finish()));
    if rom.exists() {
        return Ok(rom);
    }
    let tmp = rom.with_extension("tmp");
    std::fs::copy(base, &tmp)?;
    let started = Instant::now();
    let mut report = Vec::new();
    for (name, path) in &files {
        let len = std::fs::metadata(path)?.len();
        // A bzImage is compressed already (and decompresses itself with
        // the kernel's own code): it goes in raw.
        let c = match len >= COMPRESS_FROM && !is_bzimage(path) {
            true => contents.compression,
            false => Compression::None,
        };
        let t = Instant::now();
        let step = crate::ui::Step::start(format!(
            "compressing {} ({}, {}) into CBFS as {name}",
            crate::ui::show(path),
            crate::ui::size(len),
            c.arg()
        ));
        add_raw(&tmp, name, path, c)
            .with_context(|| format!("adding {} to CBFS as {name}", path.display()))?;
        step.done("done");
        report.push(format!(
            "{name} {len} bytes ({}, {:.1} s)",
            c.arg(),
            t.elapsed().as_secs_f64()
        ));
    }
    let listing = cbfstool(&[tmp.as_ref(), "print".as_ref()])?;
    std::fs::write(
        rom.with_extension("txt"),
        format!("{}\n\n{listing}", report.join("\n")),
    )?;
    std::fs::rename(&tmp, &rom)?;
    crate::ui::say(format!(
        "cached {} in {:.1} s: {}",
        crate::ui::show(&rom),
        started.elapsed().as_secs_f64(),
        report.join(", ")
    ));
    Ok(rom)
}

/// Whether `path` is a Linux bzImage (the setup header's "HdrS" at 0x202).
fn is_bzimage(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(0x202))?;
            f.read_exact(&mut magic)
        })
        .is_ok()
        && &magic == b"HdrS"
}

/// Boots `rom` under QEMU q35 with a monitor socket; returns the serial log
/// once `until` appears (or at `timeout`), with the QEMU process still
/// running so the caller can use the monitor, which it then ends.
pub struct BareBoot {
    child: std::process::Child,
    pub serial: String,
    pub monitor: PathBuf,
    pub reached: bool,
}

impl BareBoot {
    pub fn start(
        rom: &Path,
        smp: u32,
        memory: &str,
        until: &str,
        timeout: Duration,
    ) -> Result<Self> {
        let monitor =
            std::env::temp_dir().join(format!("baton-coreboot-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&monitor);
        let mut child = Command::new(crate::setup::QEMU)
            .args(["-machine", "q35", "-m", memory, "-smp", &smp.to_string()])
            .arg("-bios")
            .arg(rom)
            .args(["-serial", "stdio", "-display", "none", "-no-reboot"])
            .arg("-monitor")
            .arg(format!("unix:{},server=on,wait=off", monitor.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting QEMU")?;
        let stdout = child.stdout.take().context("QEMU's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        let started = Instant::now();
        let mut serial = String::new();
        let mut reached = false;
        while let Some(left) = timeout.checked_sub(started.elapsed()) {
            match rx.recv_timeout(left) {
                Ok(line) => {
                    serial.push_str(line.trim_end_matches('\r'));
                    serial.push('\n');
                    if line.contains(until) {
                        reached = true;
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        Ok(Self {
            child,
            serial,
            monitor,
            reached,
        })
    }

    pub fn monitor(&self, command: &str) -> Result<String> {
        crate::monitor::exchange(&self.monitor, command)
    }
}

impl Drop for BareBoot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.monitor);
    }
}

/// coreboot's serial log has ANSI colours; without them.
pub fn strip_ansi(text: &str) -> String {
    crate::ui::strip_ansi(text)
}

/// Adds what building the ROM of `variant` needs from Debian, unless it
/// is built already.
pub fn add_needs(variant: Variant, needs: &mut crate::setup::Needs) {
    if !(rom_path(variant).exists() && cbfstool_path().exists()) {
        needs.add("building coreboot", BUILD_PACKAGES);
        needs.coreboot_source |= !source_present();
    }
}

/// Whether target/coreboot/src holds the unpacked tree or the orig tarball.
fn source_present() -> bool {
    std::fs::read_dir(dir().join("src")).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("coreboot-")
                || name.starts_with("coreboot_") && name.contains(".orig.tar")
        })
    })
}

/// `cargo xtask coreboot`.
pub fn command(args: &crate::CorebootArgs) -> Result<std::process::ExitCode> {
    let mut variants = vec![Variant::Q35];
    if args.tseg {
        variants.push(Variant::Q35Tseg);
    }
    if args.framebuffer {
        variants.push(Variant::Q35Framebuffer);
    }
    let mut needs = crate::setup::Needs::qemu();
    for &variant in &variants {
        if args.rebuild {
            needs.add("building coreboot", BUILD_PACKAGES);
        }
        add_needs(variant, &mut needs);
    }
    crate::setup::ensure(&needs)?;
    for &variant in &variants {
        if args.rebuild {
            let _ = std::fs::remove_file(rom_path(variant));
        }
        let rom = ensure(variant)?;
        println!("{}: {}", variant.name(), rom.display());
        let smp = args.smp.unwrap_or(variant.max_cpus());
        let boot = BareBoot::start(
            &rom,
            smp,
            "512M",
            "Payload not loaded",
            Duration::from_secs(120),
        )?;
        let log = strip_ansi(&boot.serial);
        let log_file = dir().join(format!("bare-{}-smp{smp}.log", variant.name()));
        std::fs::write(&log_file, &log)?;
        let cpus = log
            .lines()
            .filter(|l| l.contains("CPU #") && l.contains(" initialized"))
            .count();
        let table = log
            .lines()
            .find(|l| l.contains("Writing coreboot table at"))
            .map(|l| l.trim().to_string())
            .unwrap_or_default();
        println!(
            "  bare boot at -smp {smp}: {} ({cpus} CPUs initialized; {table}; log {})",
            if boot.reached {
                "reached \"Payload not loaded\""
            } else {
                "did NOT reach the payload stage"
            },
            log_file.display()
        );
        if !boot.reached {
            bail!(
                "coreboot ({}) did not reach its payload stage",
                variant.name()
            );
        }
    }
    println!("cbfstool: {}", cbfstool_path().display());
    print!(
        "{}",
        cbfstool(&[
            rom_path(Variant::Q35).as_ref(),
            "layout".as_ref(),
            "-w".as_ref()
        ])?
    );
    print!(
        "{}",
        cbfstool(&[rom_path(Variant::Q35).as_ref(), "print".as_ref()])?
    );
    Ok(std::process::ExitCode::SUCCESS)
}
