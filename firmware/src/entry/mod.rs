//! `BootInfo`: one normalized view of what the entry protocol told us.
//! Each protocol parser (`pvh`, `coreboot`, `multiboot`) copies its
//! structures out into this owned form, so nothing here points into memory
//! that the loader considered free.

pub mod coreboot;
pub mod multiboot;
pub mod pvh;
pub mod vga;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use payload_loader::Range;

use crate::support::phys::Unreadable;
use payload_loader::{MemoryMap, MemoryMapError};

/// How baton was entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryProtocol {
    /// PVH: `hvm_start_info` of the given version in EBX.
    Pvh {
        /// `hvm_start_info.version`.
        version: u32,
    },
    /// coreboot's payload entry: the table was found at `table` (pointer
    /// given in [esp+4] or RDI, or found by the LBIO scan); `bits` is the
    /// mode coreboot called baton in.
    Coreboot {
        /// 32 or 64: the mode coreboot entered baton in.
        bits: u8,
        /// Physical address of the coreboot table.
        table: u64,
        /// Found by the LBIO scan rather than by coreboot's pointer.
        scanned: bool,
    },
    /// Multiboot1: EAX 0x2BADB002, EBX `multiboot_info`.
    Multiboot1,
    /// Multiboot2: EAX 0x36D76289, EBX the boot information.
    Multiboot2,
}

impl fmt::Display for EntryProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pvh { version } => write!(f, "PVH (hvm_start_info version {version})"),
            Self::Coreboot {
                bits,
                table,
                scanned,
            } => {
                let how = if *scanned {
                    "found by the LBIO scan"
                } else {
                    "pointer from coreboot"
                };
                write!(f, "coreboot ({bits}-bit entry, table at {table:#x}, {how})")
            }
            Self::Multiboot1 => f.write_str("Multiboot1"),
            Self::Multiboot2 => f.write_str("Multiboot2"),
        }
    }
}

/// A serial port the firmware before baton used (coreboot's LB_TAG_SERIAL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialPort {
    /// I/O port (memory-mapped UARTs are not used by baton).
    pub port: u16,
    /// Its baud rate.
    pub baud: u32,
}

/// What the firmware or loader before baton says about the platform,
/// beyond memory and modules. Empty for PVH.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Platform {
    /// Who started baton ("coreboot 25.09 on Emulation QEMU x86 q35/ich9",
    /// "GRUB 2.06"), for the log.
    pub firmware: Option<String>,
    /// The serial console the firmware used, if it said.
    pub serial: Option<SerialPort>,
    /// Where the memory-mapped CBFS is.
    pub cbfs: Option<Range>,
    /// The linear framebuffer, if the firmware set one up.
    pub framebuffer: Option<payload_loader::LinearFramebuffer>,
    /// The CBMEM console (coreboot's log buffer), to append baton's log to.
    pub cbmem_console: Option<u64>,
}

/// A boot module (initrd, kernel, ...) left in memory by the loader.
/// Its bytes stay where they are; the frame allocator keeps them reserved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Physical address of the module.
    pub start: u64,
    /// Its length in bytes.
    pub len: u64,
    /// Its string (command line).
    pub cmdline: String,
}

/// What the entry protocol told baton, in one form for every protocol: memory
/// map, RSDP, command line, modules, console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootInfo {
    /// How baton was entered.
    pub protocol: EntryProtocol,
    /// The memory map, sanitized.
    pub memory_map: MemoryMap,
    /// Physical address of the ACPI RSDP, when the entry protocol gave one.
    pub rsdp: Option<u64>,
    /// baton's own command line.
    pub cmdline: String,
    /// The boot modules, in the loader's order.
    pub modules: Vec<Module>,
    /// Where the protocol's own structures were (already copied out; kept
    /// out of the frame allocator so they can still be inspected or passed on).
    pub boot_structures: Vec<Range>,
    /// What the firmware says about the console and screen.
    pub platform: Platform,
}

/// Why boot information could not be built. Each names the field and numbers.
/// Its texts are `Box<str>`, not `String`: 8 bytes less each, which makes
/// the error 40 bytes instead of 48 to move through every `?` of the entry
/// protocols' parsers (1.5 KB of image).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootInfoError {
    /// A structure whose magic number is not the protocol's.
    BadMagic {
        /// The structure or field.
        what: &'static str,
        /// The value found.
        found: u64,
        /// The protocol's magic.
        expected: u64,
    },
    /// A structure version baton does not take, and why.
    UnsupportedVersion {
        /// The structure or field.
        what: &'static str,
        /// The version found.
        version: u32,
        /// Why.
        reason: &'static str,
    },
    /// A structure could not be read from physical memory.
    Unreadable {
        /// The structure or field.
        what: &'static str,
        /// The bytes that could not be read.
        at: Unreadable,
    },
    /// More entries than baton accepts (a corrupt count).
    TooMany {
        /// The structure or field.
        what: &'static str,
        /// The count given.
        count: u64,
        /// The most baton accepts.
        max: u64,
    },
    /// A structure or string that lies outside RAM.
    OutsideRam {
        /// The structure or field.
        what: Box<str>,
        /// Its physical address.
        start: u64,
        /// Its length.
        len: u64,
    },
    /// A string without its terminating NUL within its limit.
    Unterminated {
        /// The structure or field.
        what: Box<str>,
        /// The string's physical address.
        addr: u64,
        /// The most baton accepts.
        max: u64,
    },
    /// The memory map is unusable.
    MemoryMap(MemoryMapError),
    /// The coreboot tables could not be found or read.
    Coreboot(Box<str>),
    /// A structure that does not decode.
    Malformed {
        /// The structure or field.
        what: &'static str,
        /// Why.
        reason: Box<str>,
    },
}

impl From<MemoryMapError> for BootInfoError {
    fn from(e: MemoryMapError) -> Self {
        Self::MemoryMap(e)
    }
}

impl fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic {
                what,
                found,
                expected,
            } => {
                write!(f, "{what}: bad magic {found:#x}, expected {expected:#x}")
            }
            Self::UnsupportedVersion {
                what,
                version,
                reason,
            } => {
                write!(f, "{what}: version {version} is not supported: {reason}")
            }
            Self::Unreadable { what, at } => write!(f, "{what}: {at}"),
            Self::TooMany { what, count, max } => {
                write!(f, "{what}: count {count} is above the limit of {max}")
            }
            Self::OutsideRam { what, start, len } => write!(
                f,
                "{what} [{start:#x}..{:#x}) lies outside the memory map",
                start.saturating_add(*len)
            ),
            Self::Unterminated { what, addr, max } => {
                write!(
                    f,
                    "{what} at {addr:#x} has no terminating NUL within {max} bytes"
                )
            }
            Self::MemoryMap(e) => fmt::Display::fmt(e, f),
            Self::Coreboot(e) => write!(f, "coreboot tables: {e}"),
            Self::Malformed { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

/// The longest command line or module string accepted.
pub const MAX_STRING: u64 = 4096;

/// Reads a NUL-terminated string that must lie in memory the map covers.
/// Invalid UTF-8 is replaced, not refused: a command line is text for humans.
/// Takes `dyn` arguments: one copy for its five callers instead of one per
/// caller's closure (saves 1.5 KB).
pub(crate) fn read_c_string(
    mem: &dyn crate::support::phys::PhysMemory,
    map: &MemoryMap,
    addr: u64,
    what: &dyn Fn() -> String,
) -> Result<String, BootInfoError> {
    let region = map
        .region_of(addr)
        .filter(|r| r.kind.is_readable())
        .ok_or_else(|| BootInfoError::OutsideRam {
            what: what().into(),
            start: addr,
            len: 1,
        })?;
    let max = (region.end - addr).min(MAX_STRING);
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 64];
    while (bytes.len() as u64) < max {
        let n = (max - bytes.len() as u64).min(chunk.len() as u64) as usize;
        let at = addr + bytes.len() as u64;
        mem.read(at, &mut chunk[..n])
            .map_err(|at| BootInfoError::Unreadable { what: "string", at })?;
        if let Some(nul) = chunk[..n].iter().position(|&b| b == 0) {
            bytes.extend_from_slice(&chunk[..nul]);
            return Ok(crate::support::text::lossy(&bytes));
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    Err(BootInfoError::Unterminated {
        what: what().into(),
        addr,
        max,
    })
}
