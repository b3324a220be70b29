//! coreboot tables (coreboot's `commonlib/coreboot_tables.h`): a 24-byte
//! "LBIO" header with an IP checksum over itself and one over the records
//! that follow, each record `{u32 tag, u32 size, ...}`. coreboot leaves a
//! small table at 0x500 whose one LB_TAG_FORWARD record points at the real
//! one in CBMEM. Everything here is bounded: a forward chain of at most
//! `MAX_FORWARDS` hops that never revisits a table, records that must fit
//! inside their table, tables of at most `MAX_TABLE_BYTES`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use payload_loader::Range;

use crate::entry::BootInfoError;
use crate::support::phys::{PhysMemory, Unreadable, le_u32};

/// The coreboot table header's signature.
pub const SIGNATURE: &[u8; 4] = b"LBIO";
/// Bytes in the coreboot table header.
pub const HEADER_SIZE: usize = 24;
/// Real tables are a few KiB; more than this is corruption.
pub const MAX_TABLE_BYTES: u32 = 256 * 1024;
/// coreboot forwards once (0x500 -> CBMEM).
pub const MAX_FORWARDS: usize = 4;
/// Where the LBIO scan looks when coreboot's pointer is not a table.
pub const SCAN_RANGES: [Range; 2] = [Range::new(0, 0x1000), Range::new(0xf_0000, 0x10_0000)];

/// Record tag: the memory map.
pub const TAG_MEMORY: u32 = 0x01;
/// Record tag: the mainboard's vendor and part number.
pub const TAG_MAINBOARD: u32 = 0x03;
/// Record tag: coreboot's version string.
pub const TAG_VERSION: u32 = 0x04;
/// Record tag: the serial console.
pub const TAG_SERIAL: u32 = 0x0f;
/// Record tag: a pointer to the real table (the low-memory forward table).
pub const TAG_FORWARD: u32 = 0x11;
/// Record tag: the linear framebuffer.
pub const TAG_FRAMEBUFFER: u32 = 0x12;
/// Record tag: the CBMEM console buffer.
pub const TAG_CBMEM_CONSOLE: u32 = 0x17;
/// Record tag: where the boot medium (the ROM and its CBFS) is.
pub const TAG_BOOT_MEDIA_PARAMS: u32 = 0x30;
/// Record tag: the ACPI RSDP's address.
pub const TAG_ACPI_RSDP: u32 = 0x43;

/// coreboot memory range types.
const CB_MEM_RAM: u32 = 1;
const CB_MEM_ACPI: u32 = 3;
const CB_MEM_NVS: u32 = 4;
const CB_MEM_UNUSABLE: u32 = 5;
/// CBMEM and the coreboot tables themselves (16): reserved for baton.
pub const CB_MEM_TABLE: u32 = 16;

/// LB_SERIAL_TYPE_IO_MAPPED.
const SERIAL_IO_MAPPED: u32 = 1;

/// Why the coreboot tables could not be found or read; each names the address
/// and numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorebootError {
    /// Memory could not be read.
    Unreadable(Unreadable),
    /// Neither coreboot's pointer nor the LBIO scan found a valid header.
    NotFound {
        /// The pointer coreboot passed, if any.
        pointer: Option<u64>,
    },
    /// A header whose fields are inconsistent, and why.
    BadHeader {
        /// The table's physical address.
        addr: u64,
        /// What is wrong.
        reason: String,
    },
    /// The table's checksum does not match.
    TableChecksum {
        /// The table's physical address.
        addr: u64,
        /// The checksum computed.
        found: u16,
        /// The checksum the header gives.
        expected: u16,
    },
    /// A record whose size is below 8, or which runs past its table.
    BadRecord {
        /// The table's physical address.
        addr: u64,
        /// The record's tag.
        tag: u32,
        /// Its size field.
        size: u32,
        /// Bytes left in the table.
        room: u64,
    },
    /// A forward record points back to a table already seen.
    ForwardLoop {
        /// The table's physical address.
        addr: u64,
    },
    /// More forward records in a row than baton follows.
    TooManyForwards {
        /// The most followed.
        max: usize,
    },
    /// The table has no memory-map record.
    NoMemoryMap {
        /// The table's physical address.
        addr: u64,
    },
}

impl fmt::Display for CorebootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(at) => fmt::Display::fmt(at, f),
            Self::NotFound { pointer: Some(p) } => write!(
                f,
                "no LBIO table at coreboot's pointer {p:#x} nor in 0-0xfff or 0xf0000-0xfffff"
            ),
            Self::NotFound { pointer: None } => {
                f.write_str("no LBIO table in 0-0xfff or 0xf0000-0xfffff")
            }
            Self::BadHeader { addr, reason } => write!(f, "header at {addr:#x}: {reason}"),
            Self::TableChecksum {
                addr,
                found,
                expected,
            } => write!(
                f,
                "table at {addr:#x}: records checksum {found:#06x}, header says {expected:#06x}"
            ),
            Self::BadRecord {
                addr,
                tag,
                size,
                room,
            } => write!(
                f,
                "record at {addr:#x} (tag {tag:#x}) has size {size}, but only {room} bytes of the table are left (and 8 is the least)"
            ),
            Self::ForwardLoop { addr } => {
                write!(f, "forward records loop back to the table at {addr:#x}")
            }
            Self::TooManyForwards { max } => write!(f, "more than {max} forward records in a row"),
            Self::NoMemoryMap { addr } => write!(f, "table at {addr:#x} has no memory record"),
        }
    }
}

impl From<CorebootError> for BootInfoError {
    // As text: the boot information's types know no parser. `format!`, not
    // `to_string()`, whose `expect` brought its message and panic path
    // along (saves 320 bytes).
    fn from(e: CorebootError) -> Self {
        Self::Coreboot(format!("{e}").into_boxed_str())
    }
}

/// The Internet checksum coreboot uses: ones' complement of the ones'
/// complement sum of little-endian 16-bit words (odd byte padded with 0).
pub fn ip_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = u16::from_le_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
        sum += u32::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Makes `table` (a header followed by its records) valid in every header
/// field but `table_entries`: signature, sizes and both checksums. For
/// tests and fuzzing, which build or edit tables.
pub fn seal(table: &mut [u8]) {
    assert!(table.len() >= HEADER_SIZE, "a table is at least its header");
    let table_bytes = (table.len() - HEADER_SIZE) as u32;
    table[..4].copy_from_slice(SIGNATURE);
    table[4..8].copy_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
    table[12..16].copy_from_slice(&table_bytes.to_le_bytes());
    let sum = ip_checksum(&table[HEADER_SIZE..]);
    table[16..20].copy_from_slice(&u32::from(sum).to_le_bytes());
    table[8..12].copy_from_slice(&[0; 4]);
    let header_sum = ip_checksum(&table[..HEADER_SIZE]);
    table[8..12].copy_from_slice(&u32::from(header_sum).to_le_bytes());
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    addr: u64,
    table_bytes: u32,
    table_checksum: u16,
}

fn read_header(mem: &impl PhysMemory, addr: u64) -> Result<Header, CorebootError> {
    let mut raw = [0u8; HEADER_SIZE];
    mem.read(addr, &mut raw)
        .map_err(CorebootError::Unreadable)?;
    let bad = |reason: String| CorebootError::BadHeader { addr, reason };
    if &raw[..4] != SIGNATURE {
        return Err(bad(format!(
            "signature {} is not \"LBIO\"",
            crate::support::quote::HexBytes(&raw[..4])
        )));
    }
    let header_bytes = le_u32(&raw, 4);
    if header_bytes != HEADER_SIZE as u32 {
        return Err(bad(format!("header_bytes {header_bytes}, expected 24")));
    }
    if ip_checksum(&raw) != 0 {
        return Err(bad(format!(
            "header checksum field {:#06x} does not check",
            le_u32(&raw, 8)
        )));
    }
    let table_bytes = le_u32(&raw, 12);
    if table_bytes > MAX_TABLE_BYTES {
        return Err(bad(format!(
            "table_bytes {table_bytes} is above the limit of {MAX_TABLE_BYTES}"
        )));
    }
    Ok(Header {
        addr,
        table_bytes,
        table_checksum: le_u32(&raw, 16) as u16,
    })
}

/// Where the tables are: coreboot's pointer if a valid header is there,
/// else the first valid header of the LBIO scan. Returns (address, scanned).
pub fn find(mem: &impl PhysMemory, pointer: Option<u64>) -> Result<(u64, bool), CorebootError> {
    if let Some(p) = pointer.filter(|&p| read_header(mem, p).is_ok()) {
        return Ok((p, false));
    }
    // Plain loops, not `flat_map(..).find(..)` (saves 384 bytes).
    for r in SCAN_RANGES {
        for a in (r.start..r.end).step_by(16) {
            if read_header(mem, a).is_ok() {
                return Ok((a, true));
            }
        }
    }
    Err(CorebootError::NotFound { pointer })
}

/// The raw records of one table.
struct Record<'a> {
    tag: u32,
    /// The record after its 8-byte tag and size.
    body: &'a [u8],
}

fn records<'t>(header: &Header, table: &'t [u8]) -> Result<Vec<Record<'t>>, CorebootError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < table.len() {
        let addr = header.addr + (HEADER_SIZE + at) as u64;
        let room = (table.len() - at) as u64;
        let (tag, size) = match table.get(at..at + 8) {
            Some(h) => (le_u32(h, 0), le_u32(h, 4)),
            None => {
                return Err(CorebootError::BadRecord {
                    addr,
                    tag: 0,
                    size: 0,
                    room,
                });
            }
        };
        if size < 8 || u64::from(size) > room {
            return Err(CorebootError::BadRecord {
                addr,
                tag,
                size,
                room,
            });
        }
        let end = at + size as usize;
        out.push(Record {
            tag,
            body: &table[at + 8..end],
        });
        at = end;
    }
    Ok(out)
}

pub mod cbmem_console;
pub mod tables;

#[cfg(test)]
mod tests;
