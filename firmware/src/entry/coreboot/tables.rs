//! The records of a coreboot table read into `Tables`: memory, serial
//! port, framebuffer, CBMEM console, boot media, RSDP, and the strings;
//! and `Tables` turned into baton's `BootInfo`. The table format itself
//! (header, checksums, the forward chain) is `coreboot.rs`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use payload_loader::Range;

use super::{
    CB_MEM_ACPI, CB_MEM_NVS, CB_MEM_RAM, CB_MEM_UNUSABLE, CorebootError, HEADER_SIZE, MAX_FORWARDS,
    Record, SERIAL_IO_MAPPED, TAG_ACPI_RSDP, TAG_BOOT_MEDIA_PARAMS, TAG_CBMEM_CONSOLE, TAG_FORWARD,
    TAG_FRAMEBUFFER, TAG_MAINBOARD, TAG_MEMORY, TAG_SERIAL, TAG_VERSION, ip_checksum, read_header,
    records,
};
use crate::entry::{BootInfo, BootInfoError, EntryProtocol, Platform, SerialPort};
use crate::support::phys::{PhysMemory, le_u32, le_u64};
use payload_loader::{ColorField, LinearFramebuffer};
use payload_loader::{MemoryKind, MemoryMap, RawEntry};

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
            // Written in place, not `format!` then copied (saves 64 bytes).
            // Writing to a String cannot fail.
            let _ = write!(s, " on {vendor} {part}");
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
