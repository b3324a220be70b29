//! What a run is, whatever boots it (QEMU or Bochs): the machine and what
//! it is handed, how the run ended, what it logged, and the verdict in words.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use baton::support::exit::DEBUG_EXIT_PORT;

use crate::coreboot::Compression;
use crate::entry::Entry;
use crate::payload::Payload;

/// Which x86 a run boots on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Emulator {
    #[default]
    Qemu,
    Bochs,
}

impl std::fmt::Display for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Emulator::Qemu => "qemu",
            Emulator::Bochs => "bochs",
        })
    }
}

/// A machine to boot baton on.
#[derive(Clone, Debug)]
pub struct Machine {
    pub machine: String,
    pub smp: u32,
    pub memory: String,
    pub cpu: String,
    /// baton's command line.
    pub cmdline: String,
    /// Tell baton (`debug-exit=PORT`) to report its end through isa-debug-exit.
    pub debug_exit: bool,
    pub qemu_args: Vec<String>,
    pub timeout: Duration,
    pub gdb: bool,
    /// The kernel (initrd, modules) baton is handed through fw_cfg, or
    /// with `direct` boots QEMU itself instead of baton.
    pub payload: Payload,
    /// Read the VGA text screen through the QEMU monitor when the timeout
    /// comes (for kernels that only draw there, like grub-invaders); its
    /// lines are appended to the serial log as `screen: ...`.
    pub screen: bool,
    /// An NMI storm (`storm.rs`) from the first line of output to the end.
    pub nmi_storm: bool,
    /// coreboot entry: the ROM that sets up a linear framebuffer on QEMU's
    /// standard VGA. The run's end (its `until` marker or the timeout)
    /// takes a screendump (`screendump.ppm`) and logs what it shows.
    pub framebuffer: bool,
    /// Inject an NMI (monitor `nmi`) each time the next of these texts
    /// appears in the serial log, in order; each is logged as
    /// `xtask: NMI injected after "..."`.
    pub nmi_after: Vec<String>,
    /// How baton is entered (QEMU -kernel by PVH or Multiboot1, a coreboot
    /// ROM, GRUB).
    pub entry: Entry,
    /// GRUB entries: hand the kernel, initrd and modules to baton as the
    /// loader's boot modules (the kernel's line begins `kernel`) instead of
    /// fw_cfg files.
    pub boot_modules: bool,
    /// coreboot entry: how big CBFS files (kernel, initrd, modules) are
    /// compressed.
    pub compression: Compression,
    /// End the run as soon as this text appears on the serial port: the
    /// outcome is then [`Outcome::Marker`] (a triple fault, baton's
    /// debug-exit codes and the timeout end it first as usual).
    pub until: Option<String>,
    /// The x86 it runs on: QEMU (everything above) or Bochs (`bochs/`:
    /// GRUB from an ISO, the payload as boot modules, no monitor).
    pub emulator: Emulator,
    /// GRUB entries under QEMU: GRUB boots from a rescue ISO (`-cdrom`,
    /// `iso.rs`) with the payload as boot modules from the CD, instead of
    /// `-kernel grub.bin` (whose memdisk holds at most 480 KiB: no Linux).
    pub grub_iso: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Error,
    Panic,
    Exception,
    TripleFault,
    /// QEMU exited 0 without a triple fault and without a debug-exit code.
    Shutdown,
    Hang,
    /// The probe test kernel (tests/probe) passed its checks: debug-exit 0x20.
    KernelPass,
    /// The probe test kernel found something wrong: debug-exit 0x21.
    KernelFail,
    /// The run's `until` text appeared on the serial port and the run was
    /// ended there.
    Marker,
    /// QEMU itself failed (bad arguments, crash): its exit status.
    #[serde(skip)]
    QemuFailed(i32),
    /// Bochs itself stopped (a `>>PANIC<<` in its log).
    #[serde(skip)]
    BochsFailed,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pass => f.write_str("pass"),
            Self::Error => f.write_str("error"),
            Self::Panic => f.write_str("panic"),
            Self::Exception => f.write_str("exception"),
            Self::TripleFault => f.write_str("triple fault"),
            Self::Shutdown => f.write_str("shutdown without a code"),
            Self::Hang => f.write_str("hang (timeout)"),
            Self::KernelPass => f.write_str("kernel pass"),
            Self::KernelFail => f.write_str("kernel fail"),
            Self::Marker => f.write_str("marker seen"),
            Self::QemuFailed(status) => write!(f, "QEMU failed with status {status}"),
            Self::BochsFailed => f.write_str("Bochs failed (a panic in its log)"),
        }
    }
}

/// The name of the exception baton reported (`#PF`), from its log line
/// `baton: EXCEPTION vector 14 (#PF page fault) ...`.
pub fn exception_name(serial: &str) -> Option<&str> {
    let line = serial.lines().find(|l| l.contains("EXCEPTION vector"))?;
    let name = line.split_once('(')?.1.split_whitespace().next()?;
    Some(name.trim_end_matches(')'))
}

/// Whether the serial log shows the Linux test /init's report.
pub fn linux_reached_init(serial: &str) -> bool {
    serial.contains("baton-linux-init: cpus=")
}

/// What a run's end means, in words: `pass (probe)`, `pass (Linux reached
/// init)`, `pass (expected exception #PF)`, `exception #PF`, ... A run
/// expected to end in `expected` and that did says `pass (expected ...)`.
pub fn verdict(outcome: Outcome, serial: &str, expected: Option<Outcome>) -> String {
    let named = match (outcome, exception_name(serial)) {
        (Outcome::Exception, Some(name)) => format!("exception {name}"),
        (Outcome::Hang, _) if expected == Some(Outcome::Hang) => "hang".into(),
        (o, _) => o.to_string(),
    };
    match outcome {
        Outcome::Pass => "pass (baton's own checks, no kernel)".into(),
        Outcome::KernelPass => "pass (probe)".into(),
        Outcome::KernelFail => "fail (probe)".into(),
        Outcome::Shutdown if linux_reached_init(serial) => "pass (Linux reached init)".into(),
        o if Some(o) == expected => format!("pass (expected {named})"),
        _ => named,
    }
}

pub struct Run {
    pub outcome: Outcome,
    pub serial: String,
    pub elapsed: Duration,
    pub dir: PathBuf,
    /// When (since QEMU started) each serial line arrived, for benchmarks.
    pub line_times: Vec<(Duration, String)>,
}

impl Run {
    /// When the first serial line containing `text` arrived.
    pub fn seen_at(&self, text: &str) -> Option<Duration> {
        self.line_times
            .iter()
            .find(|(_, line)| line.contains(text))
            .map(|(at, _)| *at)
    }
}

/// baton's command line for a run: the kernel's own needs, the run's
/// options, `debug-exit=` where the machine has the device and
/// `no-kernel=ok` for a run of baton's own checks.
pub fn baton_cmdline(machine: &Machine, debug_exit_device: bool) -> String {
    // The kernel's own needs (gnumach's check reads baton's debug-level
    // memory map) before the run's options, which may override them.
    let own = match &machine.payload.baton_options {
        Some(options) => format!("{options} {}", machine.cmdline),
        None => machine.cmdline.clone(),
    };
    let mut cmdline = match machine.debug_exit && debug_exit_device {
        true => format!("debug-exit={DEBUG_EXIT_PORT:#x} {own}"),
        false => own,
    }
    .trim()
    .to_string();
    // A run without a kernel is a run of baton's own checks: tell baton
    // that no kernel is no error (unless the row says otherwise).
    if machine.payload.kernel.is_none() && !cmdline.contains("no-kernel=") {
        cmdline = format!("no-kernel=ok {cmdline}").trim().to_string();
    }
    cmdline
}
