//! What every boot-info builder takes, and what every decoder gives back.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::display::Screen;
use crate::error::{Error, Result};
use crate::memory::MemoryRegion;

/// A module (initrd, Xen dom0 kernel, ...) already placed in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Module<'a> {
    /// Physical start.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// The module's own command line (may be empty).
    pub cmdline: &'a str,
}

/// The ACPI RSDP: where it is, and a copy of its bytes (Multiboot2 copies them into the info).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rsdp<'a> {
    /// Physical address of the RSDP.
    pub addr: u64,
    /// At least 20 bytes; at least the structure's `length` (>= 36) when revision >= 2.
    pub bytes: &'a [u8],
}

/// Input of every builder. Builders lay the structure out in one blob meant to be copied to a
/// chosen physical address; every pointer inside points into that blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BootInfoInput<'a> {
    /// Kernel command line (no NUL inside).
    pub cmdline: &'a str,
    /// Boot loader name (Multiboot); PVH has no such field.
    pub loader_name: &'a str,
    /// The memory map handed to the kernel, in order.
    pub memory_map: &'a [MemoryRegion],
    /// The machine's map before the loader reserved its own blocks in it
    /// (boot information, park area): Multiboot's `mem_lower`/`mem_upper`
    /// describe the machine, as GRUB's do (GRUB reports 639 KiB of lower
    /// memory whatever it placed there). Empty: `memory_map`.
    pub machine_map: &'a [MemoryRegion],
    /// The boot modules, in order.
    pub modules: &'a [Module<'a>],
    /// The RSDP, if there is one.
    pub rsdp: Option<Rsdp<'a>>,
    /// The screen the firmware set up, passed on where the protocol has room for it.
    pub display: Option<Screen>,
}

impl BootInfoInput<'_> {
    /// The map `mem_lower`/`mem_upper` are computed from.
    pub(crate) fn meminfo_map(&self) -> &[MemoryRegion] {
        match self.machine_map {
            [] => self.memory_map,
            map => map,
        }
    }
}

/// A module as a decoder found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedModule {
    /// Physical address of the module.
    pub addr: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Its string, without the NUL.
    pub cmdline: Vec<u8>,
}

impl DecodedModule {
    /// True if this is the decoded form of `m`.
    pub fn matches(&self, m: &Module<'_>) -> bool {
        self.addr == m.addr && self.size == m.size && self.cmdline == m.cmdline.as_bytes()
    }
}

/// Rejects strings with interior NUL bytes (they would be cut short).
pub(crate) fn check_str(field: &'static str, s: &str) -> Result<()> {
    match s.bytes().position(|b| b == 0) {
        Some(at) => Err(Box::new(Error::NulInString { field, at })),
        None => Ok(()),
    }
}

/// What both Multiboot builders check first: no NUL in the command line, the loader name and
/// the module command lines, every module ending below 4 GiB (`module_end` names the field).
pub(crate) fn check_multiboot_input(
    input: &BootInfoInput<'_>,
    module_end: &'static str,
) -> Result<()> {
    check_str("kernel command line", input.cmdline)?;
    check_str("boot loader name", input.loader_name)?;
    for m in input.modules {
        check_str("module command line", m.cmdline)?;
        fits_u32(module_end, m.addr, m.size)?;
    }
    Ok(())
}

/// The RSDP revision (byte 15) and the number of bytes that revision covers.
pub(crate) fn rsdp_parts(bytes: &[u8]) -> Result<(u8, usize)> {
    if bytes.len() < 20 {
        return Err(Box::new(Error::RsdpTooShort {
            len: bytes.len(),
            need: 20,
        }));
    }
    let revision = bytes[15];
    if revision < 2 {
        return Ok((revision, 20));
    }
    let len = crate::bytes::u32_at(bytes, 20).ok_or(Error::RsdpTooShort {
        len: bytes.len(),
        need: 36,
    })? as usize;
    let need = len.max(36);
    if bytes.len() < need {
        return Err(Box::new(Error::RsdpTooShort {
            len: bytes.len(),
            need,
        }));
    }
    Ok((revision, need))
}

/// `addr + len` must stay below 4 GiB (32-bit protocols).
pub(crate) fn fits_u32(field: &'static str, addr: u64, len: u64) -> Result<u32> {
    let end = addr.saturating_add(len);
    if end > u64::from(u32::MAX) {
        return Err(Box::new(Error::FieldTooLarge {
            field,
            value: end,
            max: u64::from(u32::MAX),
        }));
    }
    Ok(addr as u32)
}
