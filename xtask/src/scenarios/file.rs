//! The rows of `tests/scenarios.toml` as written: one row names a machine
//! shape, baton's command line and the expected outcome; its list-valued
//! fields (`dimensions.rs`) expand into one run per combination.

use anyhow::{Result, bail};
use serde::Deserialize;

use crate::coreboot::Compression;
use crate::entry::Entry;
use crate::firmware::Hole;
use crate::machine::{Emulator, Outcome};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub scenario: Vec<Row>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// How many values it gives.
    pub fn len(&self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Many(v) => v.len(),
        }
    }

    /// Its `i`th value.
    pub fn get(&self, i: usize) -> &T {
        match self {
            Self::One(v) => v,
            Self::Many(v) => &v[i],
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub name: String,
    #[serde(default = "defaults::machine")]
    pub machine: OneOrMany<String>,
    #[serde(default = "defaults::smp")]
    pub smp: OneOrMany<u32>,
    #[serde(default = "defaults::memory")]
    pub memory: OneOrMany<String>,
    #[serde(default = "defaults::cpu")]
    pub cpu: OneOrMany<String>,
    #[serde(default = "defaults::cmdline")]
    pub cmdline: OneOrMany<String>,
    #[serde(default)]
    pub qemu_args: Vec<String>,
    pub expect: Outcome,
    /// Text that must appear in the serial log.
    #[serde(default)]
    pub log: Vec<String>,
    /// Text that must not appear.
    #[serde(default)]
    pub absent: Vec<String>,
    /// A negative control: also run against the unsafe-takeover build
    /// (`true`: Linux's takeover bugs brought back) or the finer build it
    /// names (`"unsafe-park-nmi"`: one hole back), where it must end in one
    /// of `negative_expect` with every `negative_log` line: the bug's own
    /// symptom, not a build failure, an error or a timeout.
    #[serde(default)]
    pub negative_control: NegativeControl,
    #[serde(default)]
    pub negative_expect: Vec<Outcome>,
    #[serde(default = "defaults::negative_log")]
    pub negative_log: Vec<String>,
    /// Run on the build with the AML interpreter (cargo feature `aml`).
    #[serde(default)]
    pub aml: bool,
    /// Read the VGA text screen at the timeout (lines `screen: ...` join
    /// the log the `log` lines are looked for in).
    #[serde(default)]
    pub screen: bool,
    /// NMIs from the QEMU monitor: one when each of these texts appears in
    /// the serial log, in order.
    #[serde(default)]
    pub nmi_after: Vec<String>,
    /// An NMI storm (monitor `nmi` every 2-20 ms) from the first line on.
    #[serde(default)]
    pub nmi_storm: bool,
    /// coreboot entry: the ROM with a linear framebuffer (QEMU -vga std);
    /// the run's end takes a screendump (an `xtask: screendump ...` line).
    #[serde(default)]
    pub framebuffer: bool,
    /// Only with `--full`.
    #[serde(default)]
    pub full: bool,
    #[serde(default = "defaults::timeout")]
    pub timeout: u64,
    /// Tell baton about the isa-debug-exit device (off to test the
    /// policies a real machine gets).
    #[serde(default = "defaults::yes")]
    pub debug_exit: bool,
    /// The kernel baton boots (fw_cfg): a file (relative to the workspace)
    /// or a name (`linux`).
    #[serde(default)]
    pub kernel: Option<OneOrMany<String>>,
    #[serde(default)]
    pub initrd: Option<String>,
    #[serde(default)]
    pub kernel_cmdline: Option<String>,
    /// `"PATH=CMDLINE"` or `"PATH"`, in order.
    #[serde(default)]
    pub modules: Vec<String>,
    /// QEMU boots `kernel` itself (-kernel/-initrd/-append), no baton: the
    /// reference runs.
    #[serde(default)]
    pub direct: bool,
    /// How baton is entered: pvh (default), multiboot1, coreboot,
    /// grub-multiboot1, grub-multiboot2; list-valued.
    #[serde(default = "defaults::entry")]
    pub entry: OneOrMany<Entry>,
    /// GRUB entries: the kernel (initrd, modules) as GRUB boot modules
    /// instead of fw_cfg files.
    #[serde(default)]
    pub boot_modules: bool,
    /// coreboot entry: compression of the big CBFS files (lzma, lz4, none).
    #[serde(default)]
    pub cbfs_compression: Compression,
    /// End the run when this text appears on the serial port (then its
    /// outcome is `marker`).
    #[serde(default)]
    pub until: Option<String>,
    /// The x86 it runs on: qemu (default) or bochs (baton from a GRUB ISO,
    /// the kernel as a boot module; `bochs/`); list-valued.
    #[serde(default = "defaults::emulator")]
    pub emulator: OneOrMany<Emulator>,
    /// GRUB entries under QEMU: GRUB from a rescue ISO (`-cdrom`), the
    /// payload as boot modules on the CD (room for Linux).
    #[serde(default)]
    pub grub_iso: bool,
}

/// `negative_control = true` (the unsafe-takeover build) or the name of a
/// negative-control build.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum NegativeControl {
    Flag(bool),
    Build(String),
}

impl Default for NegativeControl {
    fn default() -> Self {
        Self::Flag(false)
    }
}

impl NegativeControl {
    /// The build the row must fail on, if any; an unknown name is an error.
    pub fn hole(&self) -> Result<Option<Hole>> {
        match self {
            Self::Flag(false) => Ok(None),
            Self::Flag(true) => Ok(Some(Hole::Takeover)),
            Self::Build(name) => match Hole::named(name) {
                Some(hole) => Ok(Some(hole)),
                None => bail!(
                    "negative_control = {name:?} names no negative-control build; they are {}",
                    Hole::ALL.map(Hole::feature).join(", ")
                ),
            },
        }
    }
}

mod defaults {
    // The whole path: `cargo xtask deps` reads `super::` as this file's
    // parent module, which would draw an arrow back to `scenarios`.
    use crate::scenarios::file::OneOrMany;
    pub fn machine() -> OneOrMany<String> {
        OneOrMany::One("q35".into())
    }
    pub fn smp() -> OneOrMany<u32> {
        OneOrMany::One(4)
    }
    pub fn memory() -> OneOrMany<String> {
        OneOrMany::One("256M".into())
    }
    pub fn cpu() -> OneOrMany<String> {
        OneOrMany::One("qemu64".into())
    }
    pub fn cmdline() -> OneOrMany<String> {
        OneOrMany::One(String::new())
    }
    pub fn entry() -> OneOrMany<crate::entry::Entry> {
        OneOrMany::One(Default::default())
    }
    pub fn emulator() -> OneOrMany<crate::machine::Emulator> {
        OneOrMany::One(Default::default())
    }
    /// A negative control fails after the handoff, where the bugs bite.
    pub fn negative_log() -> Vec<String> {
        vec!["baton: jumping to the".into()]
    }
    pub fn timeout() -> u64 {
        60
    }
    pub fn yes() -> bool {
        true
    }
}
