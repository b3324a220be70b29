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

use crate::entry::{BootInfo, BootInfoError, EntryProtocol, Platform, SerialPort};
use crate::support::phys::{PhysMemory, Unreadable, le_u32, le_u64};
use payload_loader::{ColorField, LinearFramebuffer};
use payload_loader::{MemoryKind, MemoryMap, RawEntry};

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
            Self::Unreadable(at) => write!(f, "{at}"),
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
    // As text: the boot information's types know no parser.
    fn from(e: CorebootError) -> Self {
        Self::Coreboot(alloc::string::ToString::to_string(&e).into_boxed_str())
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
    SCAN_RANGES
        .iter()
        .flat_map(|r| (r.start..r.end).step_by(16))
        .find(|&a| read_header(mem, a).is_ok())
        .map(|a| (a, true))
        .ok_or(CorebootError::NotFound { pointer })
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

/// CBFS as coreboot describes it (LB_TAG_BOOT_MEDIA_PARAMS); offsets are
/// from the start of the boot media, which x86 maps to end at 4 GiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootMedia {
    /// Offset of the FMAP in the boot medium.
    pub fmap_offset: u64,
    /// Offset of CBFS in the boot medium.
    pub cbfs_offset: u64,
    /// Bytes of CBFS.
    pub cbfs_size: u64,
    /// Bytes of the whole boot medium.
    pub media_size: u64,
}

impl BootMedia {
    /// The CBFS's physical address range, if it lies in the 4 GiB window.
    pub fn cbfs_range(&self) -> Option<Range> {
        const TOP: u64 = 1 << 32;
        let base = TOP.checked_sub(self.media_size)?;
        let start = base.checked_add(self.cbfs_offset)?;
        let end = start.checked_add(self.cbfs_size)?;
        (end <= TOP && self.cbfs_size > 0).then_some(Range::new(start, end))
    }
}

/// Everything baton takes from the tables, copied out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tables {
    /// Every table read, forwarders included (header + records).
    pub tables: Vec<Range>,
    /// The memory-map records, as coreboot gave them.
    pub memory: Vec<RawEntry>,
    /// The serial console.
    pub serial: Option<SerialPort>,
    /// Physical address of the ACPI RSDP.
    pub rsdp: Option<u64>,
    /// Where the ROM and its CBFS are.
    pub boot_media: Option<BootMedia>,
    /// The linear framebuffer.
    pub framebuffer: Option<LinearFramebuffer>,
    /// The mainboard's vendor and part number.
    pub mainboard: Option<(String, String)>,
    /// coreboot's version string.
    pub version: Option<String>,
    /// Physical address of the CBMEM console buffer.
    pub cbmem_console: Option<u64>,
    /// Tags baton does not read, for the debug log.
    pub other_tags: Vec<u32>,
}

/// The NUL-terminated string at `at` in `bytes` (lossy UTF-8).
fn c_string(bytes: &[u8], at: usize) -> String {
    let s = bytes.get(at..).unwrap_or(&[]);
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    crate::support::text::lossy(&s[..end])
}

fn field_u64(body: &[u8], at: usize) -> Option<u64> {
    (body.len() >= at + 8).then(|| le_u64(body, at))
}

fn field_u32(body: &[u8], at: usize) -> Option<u32> {
    (body.len() >= at + 4).then(|| le_u32(body, at))
}

impl Tables {
    /// Reads the tables at `addr`, following forward records.
    pub fn read(mem: &impl PhysMemory, addr: u64) -> Result<Self, CorebootError> {
        let mut out = Self::default();
        let mut addr = addr;
        for _ in 0..=MAX_FORWARDS {
            if out.tables.iter().any(|t| t.start == addr) {
                return Err(CorebootError::ForwardLoop { addr });
            }
            let header = read_header(mem, addr)?;
            let mut table = alloc::vec![0u8; header.table_bytes as usize];
            mem.read(addr + HEADER_SIZE as u64, &mut table)
                .map_err(CorebootError::Unreadable)?;
            let sum = ip_checksum(&table);
            if sum != header.table_checksum {
                return Err(CorebootError::TableChecksum {
                    addr,
                    found: sum,
                    expected: header.table_checksum,
                });
            }
            out.tables.push(Range::new(
                addr,
                addr + (HEADER_SIZE as u64) + u64::from(header.table_bytes),
            ));
            let records = records(&header, &table)?;
            let forward = records
                .iter()
                .find(|r| r.tag == TAG_FORWARD)
                .and_then(|r| field_u64(r.body, 0));
            match forward {
                Some(next) => addr = next,
                None => {
                    for r in &records {
                        out.take(r);
                    }
                    if out.memory.is_empty() {
                        return Err(CorebootError::NoMemoryMap { addr });
                    }
                    return Ok(out);
                }
            }
        }
        Err(CorebootError::TooManyForwards { max: MAX_FORWARDS })
    }

    fn take(&mut self, r: &Record<'_>) {
        let b = r.body;
        match r.tag {
            TAG_MEMORY => {
                // lb_memory_range: u64 start, u64 size (as two u32 halves,
                // same bytes), u32 type: 20 bytes each.
                for e in b.chunks_exact(20) {
                    self.memory.push(RawEntry {
                        base: le_u64(e, 0),
                        size: le_u64(e, 8),
                        kind: kind(le_u32(e, 16)),
                    });
                }
            }
            TAG_MAINBOARD if b.len() >= 2 => {
                let strings = &b[2..];
                self.mainboard = Some((
                    c_string(strings, b[0].into()),
                    c_string(strings, b[1].into()),
                ));
            }
            TAG_VERSION => self.version = Some(c_string(b, 0)),
            TAG_SERIAL => {
                // lb_serial: u32 type, u32 baseaddr, u32 baud, u32 regwidth, ...
                if let (Some(SERIAL_IO_MAPPED), Some(base), Some(baud)) =
                    (field_u32(b, 0), field_u32(b, 4), field_u32(b, 8))
                    && let Ok(port) = u16::try_from(base)
                {
                    self.serial = Some(SerialPort { port, baud });
                }
            }
            TAG_FRAMEBUFFER => {
                // lb_framebuffer: u64 address, u32 x and y resolution, u32 bytes a line,
                // u8 bits per pixel, then position and size of red, green, blue, reserved.
                if let (
                    Some(addr),
                    Some(width),
                    Some(height),
                    Some(pitch),
                    Some(&[bpp, rp, rs, gp, gs, bp, bs, xp, xs]),
                ) = (
                    field_u64(b, 0),
                    field_u32(b, 8),
                    field_u32(b, 12),
                    field_u32(b, 16),
                    b.get(20..29),
                ) {
                    let field = |position, size| ColorField { position, size };
                    self.framebuffer = Some(LinearFramebuffer {
                        addr,
                        pitch,
                        width,
                        height,
                        bits_per_pixel: bpp,
                        red: field(rp, rs),
                        green: field(gp, gs),
                        blue: field(bp, bs),
                        reserved: field(xp, xs),
                    });
                }
            }
            TAG_CBMEM_CONSOLE => self.cbmem_console = field_u64(b, 0),
            TAG_BOOT_MEDIA_PARAMS => {
                if let (Some(fmap_offset), Some(cbfs_offset), Some(cbfs_size), Some(media_size)) = (
                    field_u64(b, 0),
                    field_u64(b, 8),
                    field_u64(b, 16),
                    field_u64(b, 24),
                ) {
                    self.boot_media = Some(BootMedia {
                        fmap_offset,
                        cbfs_offset,
                        cbfs_size,
                        media_size,
                    });
                }
            }
            TAG_ACPI_RSDP => self.rsdp = field_u64(b, 0).filter(|&a| a != 0),
            other => self.other_tags.push(other),
        }
    }

    /// The table's memory map, sanitized.
    pub fn memory_map(&self) -> Result<MemoryMap, BootInfoError> {
        Ok(MemoryMap::from_entries(&self.memory)?)
    }

    /// "coreboot 25.09 on Emulation QEMU x86 q35/ich9".
    pub fn firmware(&self) -> String {
        let mut s = String::from("coreboot");
        if let Some(v) = &self.version {
            s.push(' ');
            s.push_str(v);
        }
        if let Some((vendor, part)) = &self.mainboard {
            s.push_str(&format!(" on {vendor} {part}"));
        }
        s
    }

    /// The BootInfo; `cmdline` is baton's own (coreboot passes none: the
    /// firmware reads it from the CBFS file `opt/baton/config`).
    pub fn boot_info(
        &self,
        memory_map: MemoryMap,
        protocol: EntryProtocol,
        cmdline: String,
    ) -> BootInfo {
        BootInfo {
            protocol,
            memory_map,
            rsdp: self.rsdp,
            cmdline,
            modules: Vec::new(),
            boot_structures: self.tables.clone(),
            platform: Platform {
                firmware: Some(self.firmware()),
                serial: self.serial,
                cbfs: self.boot_media.and_then(|m| m.cbfs_range()),
                framebuffer: self.framebuffer,
                cbmem_console: self.cbmem_console,
            },
        }
    }
}

/// A coreboot memory type as baton's kind: CBMEM and the tables (16) and
/// everything unknown are reserved.
fn kind(cb: u32) -> MemoryKind {
    match cb {
        CB_MEM_RAM => MemoryKind::Usable,
        CB_MEM_ACPI => MemoryKind::Acpi,
        CB_MEM_NVS => MemoryKind::Nvs,
        CB_MEM_UNUSABLE => MemoryKind::Other(5), // e820 "unusable"
        _ => MemoryKind::Reserved,
    }
}

/// The CBMEM console: `{u32 size, u32 cursor, u8 body[size]}`. The cursor's
/// low 28 bits are the write position; bit 31 says the ring has wrapped.
pub mod cbmem_console {
    /// The cursor's write position.
    pub const CURSOR_MASK: u32 = (1 << 28) - 1;
    /// Set when the ring buffer has wrapped.
    pub const OVERFLOW: u32 = 1 << 31;
    /// Larger than this is not a console buffer (coreboot's are 128 KiB-1 MiB).
    pub const MAX_SIZE: u32 = 16 << 20;

    /// Appends `bytes` to a ring of `body.len()` bytes at `cursor`; returns
    /// the new cursor word (flags kept, OVERFLOW set on a wrap).
    pub fn append(body: &mut [u8], cursor: u32, bytes: &[u8]) -> u32 {
        let size = body.len();
        if size == 0 {
            return cursor;
        }
        let mut flags = cursor & !CURSOR_MASK;
        let mut at = (cursor & CURSOR_MASK) as usize;
        if at >= size {
            at = 0;
            flags |= OVERFLOW;
        }
        for &b in bytes {
            body[at] = b;
            at += 1;
            if at == size {
                at = 0;
                flags |= OVERFLOW;
            }
        }
        flags | at as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::phys::FakeMemory;

    /// A table at `addr` with these records (tag, body): header + records
    /// with correct checksums.
    pub(crate) fn table(records: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (tag, b) in records {
            body.extend_from_slice(&tag.to_le_bytes());
            body.extend_from_slice(&((b.len() + 8) as u32).to_le_bytes());
            body.extend_from_slice(b);
        }
        let mut h = alloc::vec![0u8; HEADER_SIZE];
        h[20..24].copy_from_slice(&(records.len() as u32).to_le_bytes());
        h.extend_from_slice(&body);
        seal(&mut h);
        h
    }

    fn memory_record(ranges: &[(u64, u64, u32)]) -> (u32, Vec<u8>) {
        let mut b = Vec::new();
        for (start, size, t) in ranges {
            b.extend_from_slice(&start.to_le_bytes());
            b.extend_from_slice(&size.to_le_bytes());
            b.extend_from_slice(&t.to_le_bytes());
        }
        (TAG_MEMORY, b)
    }

    fn forward(to: u64) -> (u32, Vec<u8>) {
        (TAG_FORWARD, to.to_le_bytes().to_vec())
    }

    fn u32s(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn full_table() -> Vec<u8> {
        let mut media = Vec::new();
        for v in [0u64, 0x200, 0xfe_0000, 0x100_0000] {
            media.extend_from_slice(&v.to_le_bytes());
        }
        let mut mainboard = alloc::vec![0u8, 5];
        mainboard.extend_from_slice(b"QEMU\0q35\0");
        table(&[
            memory_record(&[
                (0, 0xa0000, 1),
                (0x100000, 0x1f00_0000, 1),
                (0x1f00_0000, 0x100_0000, 16),
                (0xfec0_0000, 0x1000, 2),
            ]),
            (TAG_SERIAL, u32s(&[1, 0x3f8, 115200, 1, 1843200])),
            (TAG_ACPI_RSDP, 0x1f7f_0000u64.to_le_bytes().to_vec()),
            (TAG_BOOT_MEDIA_PARAMS, media),
            (TAG_CBMEM_CONSOLE, 0x1f6f_0000u64.to_le_bytes().to_vec()),
            (TAG_MAINBOARD, mainboard),
            (TAG_VERSION, b"25.09\0".to_vec()),
            (0x99, alloc::vec![1, 2, 3, 4]),
        ])
    }

    fn memory_with(parts: &[(u64, Vec<u8>)]) -> FakeMemory {
        let mut mem = FakeMemory::new(0, 0x11_0000);
        for (at, bytes) in parts {
            mem.write(*at, bytes);
        }
        mem
    }

    #[test]
    fn follows_the_forward_record_and_reads_every_record() {
        let mem = memory_with(&[(0x500, table(&[forward(0x8000)])), (0x8000, full_table())]);
        assert_eq!(find(&mem, Some(0x500)).unwrap(), (0x500, false));
        let t = Tables::read(&mem, 0x500).unwrap();
        assert_eq!(t.tables.len(), 2);
        assert_eq!(t.tables[0].start, 0x500);
        assert_eq!(t.tables[1].start, 0x8000);
        assert_eq!(t.memory.len(), 4);
        assert_eq!(
            t.memory[2].kind,
            MemoryKind::Reserved,
            "type 16 is reserved"
        );
        assert_eq!(
            t.serial,
            Some(SerialPort {
                port: 0x3f8,
                baud: 115200
            })
        );
        assert_eq!(t.rsdp, Some(0x1f7f_0000));
        assert_eq!(t.cbmem_console, Some(0x1f6f_0000));
        let media = t.boot_media.unwrap();
        assert_eq!(
            media.cbfs_range(),
            Some(Range::new(0xff00_0200, 0xfffe_0200))
        );
        assert_eq!(t.firmware(), "coreboot 25.09 on QEMU q35");
        assert_eq!(t.other_tags, [0x99]);
        let map = t.memory_map().unwrap();
        let info = t.boot_info(
            map,
            EntryProtocol::Coreboot {
                bits: 32,
                table: 0x500,
                scanned: false,
            },
            "log=debug".into(),
        );
        assert_eq!(
            info.platform.cbfs,
            Some(Range::new(0xff00_0200, 0xfffe_0200))
        );
        assert_eq!(info.boot_structures.len(), 2);
        assert!(info.memory_map.usable_bytes() > 0x1e00_0000);
    }

    /// lb_framebuffer as coreboot's QEMU VGA driver fills it (800x600, 32 bpp, xRGB).
    fn framebuffer_record() -> (u32, Vec<u8>) {
        let mut b = 0xfd00_0000u64.to_le_bytes().to_vec();
        b.extend_from_slice(&u32s(&[800, 600, 3200]));
        b.extend_from_slice(&[32, 16, 8, 8, 8, 0, 8, 24, 8, 0, 0]);
        (TAG_FRAMEBUFFER, b)
    }

    #[test]
    fn reads_the_framebuffer_field_by_field() {
        let ram = memory_record(&[(0x100000, 0x1f00_0000, 1)]);
        let mem = memory_with(&[(0x8000, table(&[ram.clone(), framebuffer_record()]))]);
        let t = Tables::read(&mem, 0x8000).unwrap();
        let field = |position, size| ColorField { position, size };
        assert_eq!(
            t.framebuffer,
            Some(LinearFramebuffer {
                addr: 0xfd00_0000,
                pitch: 3200,
                width: 800,
                height: 600,
                bits_per_pixel: 32,
                red: field(16, 8),
                green: field(8, 8),
                blue: field(0, 8),
                reserved: field(24, 8),
            })
        );
        // A record cut short before its colour fields is ignored, not misread.
        let (tag, mut short) = framebuffer_record();
        short.truncate(24);
        let mem = memory_with(&[(0x8000, table(&[ram, (tag, short)]))]);
        assert_eq!(Tables::read(&mem, 0x8000).unwrap().framebuffer, None);
    }

    #[test]
    fn scans_when_the_pointer_is_not_a_table() {
        let mem = memory_with(&[(0xf_1230, full_table())]);
        assert_eq!(find(&mem, Some(0x7000)).unwrap(), (0xf_1230, true));
        assert_eq!(find(&mem, None).unwrap(), (0xf_1230, true));
        let empty = memory_with(&[]);
        assert_eq!(
            find(&empty, Some(0x7000)),
            Err(CorebootError::NotFound {
                pointer: Some(0x7000)
            })
        );
    }

    #[test]
    fn a_forward_loop_is_refused() {
        let mem = memory_with(&[
            (0x500, table(&[forward(0x8000)])),
            (0x8000, table(&[forward(0x500)])),
        ]);
        assert_eq!(
            Tables::read(&mem, 0x500),
            Err(CorebootError::ForwardLoop { addr: 0x500 })
        );
        let selfloop = memory_with(&[(0x500, table(&[forward(0x500)]))]);
        assert!(matches!(
            Tables::read(&selfloop, 0x500),
            Err(CorebootError::ForwardLoop { .. })
        ));
    }

    #[test]
    fn a_long_forward_chain_is_refused() {
        let parts: Vec<(u64, Vec<u8>)> = (0..8u64)
            .map(|i| (0x1000 * (i + 1), table(&[forward(0x1000 * (i + 2))])))
            .collect();
        let mem = memory_with(&parts);
        assert_eq!(
            Tables::read(&mem, 0x1000),
            Err(CorebootError::TooManyForwards { max: MAX_FORWARDS })
        );
    }

    #[test]
    fn a_record_running_past_its_table_is_refused() {
        let mut t = full_table();
        // Grow the first record's size beyond the table, then fix the checksums.
        t[HEADER_SIZE + 4..HEADER_SIZE + 8].copy_from_slice(&0x10000u32.to_le_bytes());
        seal(&mut t);
        let mem = memory_with(&[(0x8000, t)]);
        let e = Tables::read(&mem, 0x8000).unwrap_err();
        assert!(
            matches!(e, CorebootError::BadRecord { size: 0x10000, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("size 65536"), "{e}");
    }

    #[test]
    fn checksums_are_checked() {
        let mut t = full_table();
        let last = t.len() - 1;
        t[last] ^= 0xff;
        let mem = memory_with(&[(0x8000, t.clone())]);
        assert!(matches!(
            Tables::read(&mem, 0x8000),
            Err(CorebootError::TableChecksum { .. })
        ));
        t[last] ^= 0xff;
        t[20] ^= 1; // table_entries: covered by the header checksum
        let mem = memory_with(&[(0x8000, t)]);
        assert!(matches!(
            Tables::read(&mem, 0x8000),
            Err(CorebootError::BadHeader { .. })
        ));
    }

    #[test]
    fn a_table_without_memory_is_refused() {
        let mem = memory_with(&[(0x8000, table(&[(TAG_VERSION, b"x\0".to_vec())]))]);
        assert_eq!(
            Tables::read(&mem, 0x8000),
            Err(CorebootError::NoMemoryMap { addr: 0x8000 })
        );
    }

    #[test]
    fn cbmem_console_appends_and_wraps() {
        use cbmem_console::*;
        let mut body = [0u8; 8];
        let c = append(&mut body, 5, b"abc");
        assert_eq!(c, OVERFLOW);
        assert_eq!(&body[5..], b"abc");
        let c = append(&mut body, c, b"xy");
        assert_eq!(c, OVERFLOW | 2);
        assert_eq!(&body[..2], b"xy");
        // A cursor beyond the buffer restarts at 0 instead of writing past it.
        assert_eq!(append(&mut body, 100, b"q"), OVERFLOW | 1);
    }
}
