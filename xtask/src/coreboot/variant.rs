//! The ROMs coreboot is built as: each variant's `.config` and how many
//! CPUs it starts.

use anyhow::Result;

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

    /// The `.config` fragment of the variant.
    pub fn config(self) -> String {
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
