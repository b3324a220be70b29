//! `cargo xtask`: builds baton, boots it under QEMU, judges what it did.
//!
//! - `build`: the firmware ELF (its path is the last line printed)
//! - `run`:   boot it once, serial log on the terminal; exit 0 on a pass
//! - `test`:  host unit tests, then every QEMU scenario of tests/scenarios.toml
//! - `bench`: speed figures, each comparison measured side by side
//! - `coreboot`: a coreboot ROM for QEMU q35 from Debian's source package

mod bad_input;
mod bench;
mod bochs;
mod checks;
mod code_size;
mod coreboot;
mod debs;
mod deps;
mod entry;
mod firmware;
mod fixtures;
mod iso;
mod kernels;
mod linux;
mod machine;
mod monitor;
mod payload;
mod probe;
mod qemu;
mod ram;
mod scenarios;
mod screendump;
mod setup;
mod storm;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "baton's build, run and test driver")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the firmware; prints the ELF's path as the last line.
    Build {
        /// Debug build instead of release.
        #[arg(long)]
        debug: bool,
        /// With the AML interpreter (cargo feature `aml`).
        #[arg(long)]
        aml: bool,
    },
    /// Build and boot baton once under QEMU; exit 0 only if it reports success
    /// (with --direct: if the kernel powers the machine off).
    Run(Box<RunArgs>),
    /// Host unit tests and the QEMU scenarios; ends with `N host tests
    /// passed, M QEMU runs passed, K failed`.
    Test(TestArgs),
    /// Speed figures (AP bring-up, ...), printed as a table; never pass/fail.
    Bench(BenchArgs),
    /// Build (when missing) coreboot for QEMU q35 and cbfstool under
    /// target/coreboot, boot the bare ROM once, print its layout.
    Coreboot(CorebootArgs),
    /// Each crate's module graph (modules, arrows, import circles, arrows
    /// back up the stage order); exits 1 on a circle or an arrow back up.
    Deps(DepsArgs),
}

#[derive(clap::Args)]
pub struct DepsArgs {
    /// Read the crates under this folder instead of the workspace (an old
    /// checkout, for a before-and-after).
    #[arg(long)]
    root: Option<std::path::PathBuf>,
    /// Also print each crate's graph as a Mermaid flowchart (Markdown), one
    /// box per module, grouped by stage.
    #[arg(long)]
    mermaid: bool,
}

#[derive(clap::Args)]
pub struct CorebootArgs {
    /// Also the TSEG-SMM variant (up to 32 CPUs instead of 4).
    #[arg(long)]
    tseg: bool,
    /// Also the variant with a linear framebuffer (q35-fb).
    #[arg(long)]
    framebuffer: bool,
    /// Rebuild the ROM(s) even when cached.
    #[arg(long)]
    rebuild: bool,
    /// Also regenerate firmware/tests/fixtures/coreboot/ (a CBFS image and
    /// the coreboot table of a q35 boot).
    #[arg(long)]
    fixtures: bool,
    /// CPUs for the bare boot (default: the variant's most).
    #[arg(long)]
    smp: Option<u32>,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Runs of each variant per comparison (alternating A, B, A, B, ...).
    #[arg(long, default_value_t = 5)]
    pairs: u32,
    /// Only the QEMU figures, or only the Bochs ones (default: both).
    #[arg(long, value_enum)]
    emulator: Option<machine::Emulator>,
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[arg(long, default_value = "q35", value_parser = ["q35", "pc", "microvm"])]
    machine: String,
    #[arg(long, default_value_t = 4)]
    smp: u32,
    /// Guest RAM, as QEMU's -m takes it (512M, 6G, ...); default 512M, 2G
    /// for `--kernel xen` and `tboot`.
    #[arg(long)]
    memory: Option<String>,
    /// QEMU -cpu model.
    #[arg(long, default_value = "qemu64")]
    cpu: String,
    /// baton's own command line (log=debug, test=fault:ud, ...).
    #[arg(long, default_value = "")]
    cmdline: String,
    /// Extra QEMU argument, passed through (repeatable).
    #[arg(long = "qemu-arg", allow_hyphen_values = true)]
    qemu_args: Vec<String>,
    /// An NMI storm: QEMU's monitor `nmi` every 2-20 ms (random), from
    /// baton's first line until the run ends.
    #[arg(long)]
    nmi_storm: bool,
    /// Wait for gdb on tcp::1234 before the first instruction (no timeout).
    #[arg(long)]
    gdb: bool,
    /// Seconds before the run is called a hang.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Debug build of the firmware.
    #[arg(long)]
    debug: bool,
    /// The firmware with the AML interpreter (cargo feature `aml`).
    #[arg(long)]
    aml: bool,
    /// The kernel baton boots (fw_cfg opt/baton/kernel): a file, or a name:
    /// `probe` (the test kernel, tests/probe; also `probe-pvh`, `probe-mb1`,
    /// `probe-mb2`, `probe-elf64`), `linux` (Debian's Linux 6.1 with a
    /// busybox initramfs, fetched and cached under target/linux), `xen`
    /// (Xen 4.17 with Linux as dom0), `tboot` (tboot 1.10 launching Linux),
    /// `gnumach` (GNU Mach 1.8), Debian's, cached under target/kernels, the broken
    /// `malformed-truncated`, `malformed-machine`, `malformed-phdrs` (made
    /// from the probe), or `none`.
    #[arg(
        long,
        value_name = "PATH|probe|linux|xen|tboot|gnumach|none",
        default_value = "probe"
    )]
    kernel: String,
    /// The initrd (fw_cfg opt/baton/initrd); `--kernel linux` brings its own;
    /// `initramfs-truncated` is Linux's cut in half (a bad-input test).
    #[arg(long, value_name = "PATH")]
    initrd: Option<String>,
    /// The kernel's command line (fw_cfg opt/baton/cmdline); `--kernel linux`
    /// defaults to "console=ttyS0 panic=-1 no_timer_check i8042.noaux nohz=off
    /// highres=off lapic=notscdeadline".
    #[arg(long, value_name = "STR")]
    kernel_cmdline: Option<String>,
    /// A boot module with its command line (fw_cfg opt/baton/module/N and
    /// opt/baton/module/N/cmdline), in order (repeatable).
    #[arg(long = "module", value_name = "PATH[=CMDLINE]")]
    modules: Vec<String>,
    /// Boot the kernel with QEMU's own -kernel/-initrd instead of baton
    /// (the reference the benchmarks compare with).
    #[arg(long)]
    direct: bool,
    /// How baton is entered: QEMU -kernel by its PVH note (its Multiboot1
    /// header disabled in a copy) or by Multiboot1, a coreboot ROM (-bios;
    /// the kernel and friends in CBFS), or GRUB by Multiboot1/Multiboot2.
    #[arg(long, value_enum, default_value_t = entry::Entry::Pvh)]
    entry: entry::Entry,
    /// Shorthand for `--entry coreboot`.
    #[arg(long)]
    coreboot: bool,
    /// coreboot entry: the ROM that sets up a linear framebuffer (800x600,
    /// 32 bpp on QEMU's standard VGA) instead of VGA text mode; the run
    /// ends with a screendump (screendump.ppm in the run's folder).
    #[arg(long)]
    framebuffer: bool,
    /// GRUB entries: the kernel, initrd and modules as GRUB boot modules
    /// (`module2 /kernel kernel CMDLINE`) instead of fw_cfg files.
    #[arg(long)]
    boot_modules: bool,
    /// GRUB entries: GRUB from a rescue ISO (-cdrom) with the kernel,
    /// initrd and modules as boot modules on the CD (room for Linux, where
    /// -kernel grub.bin's memdisk holds 480 KiB).
    #[arg(long)]
    grub_iso: bool,
    /// coreboot entry: compression of the big CBFS files.
    #[arg(long, value_enum, default_value_t = coreboot::Compression::Lzma)]
    cbfs_compression: coreboot::Compression,
    /// The x86 to boot on: QEMU's TCG, or Bochs (baton from a GRUB ISO by
    /// Multiboot2, or Multiboot1 with --entry grub-multiboot1; the payload
    /// as GRUB boot modules; 1 to 15 CPUs; no QEMU options).
    #[arg(long, value_enum, default_value_t = machine::Emulator::Qemu)]
    emulator: machine::Emulator,
    /// Pass when TEXT appears on the serial port (the run ends there; a
    /// triple fault, an error or exception in baton, or the timeout before
    /// it still fail). The named real kernels bring their own marker
    /// (`xen`, `tboot`: Linux's init line; `gnumach`: the line after its
    /// memory map).
    #[arg(long, value_name = "TEXT")]
    expect: Option<String>,
}

#[derive(clap::Args)]
pub struct TestArgs {
    /// Also the big configurations (many CPUs, slow).
    #[arg(long)]
    full: bool,
    /// Only scenarios whose name contains this (one that matches none is
    /// an error that lists the close names).
    #[arg(long)]
    filter: Option<String>,
    /// Run each scenario this many times.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// QEMU instances at once (plus as many again of the rows that wait
    /// out their timeout, expect = hang: a halted guest costs no CPU).
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Skip the host unit tests.
    #[arg(long)]
    no_host: bool,
    /// Print each chosen run (its name, machine, payload, build and what
    /// its verdict looks for) instead of running anything.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Build { debug, aml } => {
            setup::ensure_target()?;
            let elf = firmware::build_variant(!debug, firmware::Variant::with_aml(aml))?;
            println!("{}", elf.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => qemu::run_interactive(&args),
        Command::Test(args) => scenarios::test(&args),
        Command::Bench(args) => bench::bench(&args),
        Command::Coreboot(args) => {
            let code = coreboot::command(&args)?;
            // The fixtures come from the ROM just built and booted.
            if args.fixtures {
                fixtures::make()?;
            }
            Ok(code)
        }
        Command::Deps(args) => deps::command(args.root.as_deref(), args.mermaid),
    }
}

/// The workspace root (xtask's parent directory).
pub fn root() -> PathBuf {
    let xtask = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = xtask.join("..");
    root.canonicalize().unwrap_or(root)
}
