//! The entry protocols a kernel can be handed over by (docs/HANDOFF.md), by name.

use alloc::string::String;
use core::fmt;

/// An entry protocol (what the kernel is handed; docs/HANDOFF.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Xen's PVH entry (ELF note type 18): 32-bit, EBX = `hvm_start_info`.
    Pvh,
    /// Multiboot2 (header magic 0xE85250D6): 32-bit, EBX = the MBI.
    Multiboot2,
    /// Multiboot1 (header magic 0x1BADB002): 32-bit, EBX = `multiboot_info`.
    Multiboot1,
    /// Plain ELF64: long mode, identity map, RDI = Multiboot2-format info.
    Elf64,
    /// The Linux x86 boot protocol for a bzImage: RSI = `boot_params` (the "zero page").
    Linux,
}

impl Protocol {
    /// Detection order of the ELF protocols without an override. A bzImage is recognised by
    /// its setup header before any of these (it is not ELF).
    pub const PRECEDENCE: [Protocol; 4] = [
        Protocol::Pvh,
        Protocol::Multiboot2,
        Protocol::Multiboot1,
        Protocol::Elf64,
    ];

    /// Parses a config value: `pvh`, `multiboot2`, `multiboot1` (or `multiboot`), `elf64` (or
    /// `elf`), `linux`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "pvh" => Some(Protocol::Pvh),
            "multiboot2" | "mb2" => Some(Protocol::Multiboot2),
            "multiboot1" | "multiboot" | "mb1" => Some(Protocol::Multiboot1),
            "elf64" | "elf" => Some(Protocol::Elf64),
            "linux" => Some(Protocol::Linux),
            _ => None,
        }
    }

    /// The string the kernel is given for a file `name` with arguments `args` (its own command
    /// line, or a module's). Multiboot kernels get the name first, as GRUB and QEMU give the
    /// image's path: kernels of that era (Xen, tboot) drop the first word unless the loader calls
    /// itself GRUB 2, and would otherwise lose their first option. The other protocols have no
    /// such convention: their kernels get `args` alone.
    pub fn command_line(self, name: &str, args: &str) -> String {
        match self {
            Protocol::Multiboot1 | Protocol::Multiboot2 if args.is_empty() => name.into(),
            Protocol::Multiboot1 | Protocol::Multiboot2 => alloc::format!("{name} {args}"),
            Protocol::Pvh | Protocol::Elf64 | Protocol::Linux => args.into(),
        }
    }

    /// Whether the kernel is entered in 32-bit protected mode (entry and boot info below 4 GiB).
    /// Linux: false here, the image decides ([`crate::LoadPlan::enters_long_mode`]).
    pub fn is_32bit(self) -> bool {
        !matches!(self, Protocol::Elf64 | Protocol::Linux)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Pvh => "PVH",
            Protocol::Multiboot2 => "Multiboot2",
            Protocol::Multiboot1 => "Multiboot1",
            Protocol::Elf64 => "plain ELF64",
            Protocol::Linux => "Linux boot protocol",
        })
    }
}
