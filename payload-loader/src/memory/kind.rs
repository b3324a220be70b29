//! [`MemoryKind`]: what a memory-map region holds, its e820 number, name and priority.

use crate::error::MemoryKindName;

/// What a memory-map region holds. The firmware converts its own map (e820, coreboot, PVH,
/// Multiboot) into these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// RAM the kernel may use (e820 type 1).
    Usable,
    /// Reserved (e820 type 2).
    Reserved,
    /// ACPI reclaimable tables (e820 type 3).
    Acpi,
    /// ACPI NVS (e820 type 4).
    Nvs,
    /// Anything else; the number is the e820-style type handed through unchanged
    /// (5 = unusable, 7 = persistent memory, ...). Decoders turn 1..=4 into the named kinds.
    Other(u32),
}

impl MemoryKind {
    /// The e820 / Multiboot / `hvm_memmap_table_entry` type number.
    pub fn e820_type(self) -> u32 {
        match self {
            MemoryKind::Usable => 1,
            MemoryKind::Reserved => 2,
            MemoryKind::Acpi => 3,
            MemoryKind::Nvs => 4,
            MemoryKind::Other(t) => t,
        }
    }

    /// The inverse of [`MemoryKind::e820_type`].
    pub fn from_e820_type(t: u32) -> Self {
        match t {
            1 => MemoryKind::Usable,
            2 => MemoryKind::Reserved,
            3 => MemoryKind::Acpi,
            4 => MemoryKind::Nvs,
            t => MemoryKind::Other(t),
        }
    }

    /// Which kind wins where a firmware's entries overlap: the more restrictive, so RAM that
    /// any entry calls reserved is never handed out. Unusable (defective, disabled) beats
    /// everything, then unknown types, reserved, persistent memory, ACPI NVS, ACPI tables,
    /// usable RAM.
    pub fn priority(self) -> u8 {
        match self {
            MemoryKind::Usable => 0,
            MemoryKind::Acpi => 1,
            MemoryKind::Nvs => 2,
            MemoryKind::Other(PERSISTENT) => 3,
            MemoryKind::Reserved => 4,
            MemoryKind::Other(UNUSABLE | DISABLED) => 6,
            MemoryKind::Other(_) => 5,
        }
    }

    /// RAM of some use: usable, ACPI tables and NVS, persistent memory (what an identity map
    /// must cover).
    pub fn is_ram(self) -> bool {
        matches!(
            self,
            MemoryKind::Usable | MemoryKind::Acpi | MemoryKind::Nvs | MemoryKind::Other(PERSISTENT)
        )
    }

    /// Backed by something that can be read: everything but defective or disabled RAM (MMIO
    /// that firmware lists as reserved is included: firmware tables live there).
    pub fn is_readable(self) -> bool {
        !matches!(self, MemoryKind::Other(UNUSABLE | DISABLED))
    }

    pub(crate) fn name(self) -> MemoryKindName {
        MemoryKindName(match self {
            MemoryKind::Usable => "usable",
            MemoryKind::Reserved => "reserved",
            MemoryKind::Acpi => "ACPI reclaimable",
            MemoryKind::Nvs => "ACPI NVS",
            MemoryKind::Other(_) => "non-RAM",
        })
    }
}

/// e820 type 5: defective RAM.
const UNUSABLE: u32 = 5;
/// e820 type 6: disabled memory.
const DISABLED: u32 = 6;
/// e820 type 7: persistent memory.
const PERSISTENT: u32 = 7;

impl core::fmt::Display for MemoryKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = match self {
            MemoryKind::Usable => "usable",
            MemoryKind::Reserved => "reserved",
            MemoryKind::Acpi => "ACPI reclaimable",
            MemoryKind::Nvs => "ACPI NVS",
            MemoryKind::Other(PERSISTENT) => "persistent",
            MemoryKind::Other(UNUSABLE) => "unusable",
            MemoryKind::Other(DISABLED) => "disabled",
            MemoryKind::Other(t) => return write!(f, "type {}", *t),
        };
        f.write_str(name)
    }
}
