//! The Linux `boot_params` ("zero page", Documentation/arch/x86/zero-page.rst): builder and
//! decoder.
//!
//! The blob is the 4096-byte zero page, then the NUL-terminated command line, then (for a
//! memory map of more than 128 entries) one `SETUP_E820_EXT` setup_data entry with the rest.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::blob::Blob;
use crate::bootinfo::{BootInfoInput, check_str};
use crate::bytes::{put, u16_at, u32_at, u64_at};
use crate::bzimage::{self, HEADER_START, LOADED_HIGH, SetupHeader};
use crate::error::{Error, Result};
use crate::memory::{MemoryKind, MemoryRegion};
use crate::screen_info::{self, ScreenInfo};

/// Size of `struct boot_params`.
pub const ZERO_PAGE_SIZE: usize = 4096;
/// Entries of the zero page's own e820 table; the rest go to setup_data.
pub const E820_ZERO_PAGE_MAX: usize = 128;
/// `setup_data.type` of extra e820 entries.
pub const SETUP_E820_EXT: u32 = 1;
/// `type_of_loader` of a boot loader without an assigned ID.
pub const LOADER_UNDEFINED: u8 = 0xFF;

const ACPI_RSDP_ADDR: usize = 0x070;
const EXT_RAMDISK_IMAGE: usize = 0x0C0;
const EXT_RAMDISK_SIZE: usize = 0x0C4;
const EXT_CMD_LINE_PTR: usize = 0x0C8;
const E820_ENTRIES: usize = 0x1E8;
const BOOT_FLAG: usize = 0x1FE;
const HEADER_MAGIC: usize = 0x202;
const VERSION: usize = 0x206;
const TYPE_OF_LOADER: usize = 0x210;
const LOADFLAGS: usize = 0x211;
const CODE32_START: usize = 0x214;
const RAMDISK_IMAGE: usize = 0x218;
const RAMDISK_SIZE: usize = 0x21C;
const CMD_LINE_PTR: usize = 0x228;
const SETUP_DATA: usize = 0x250;
const E820_TABLE: usize = 0x2D0;
const E820_ENTRY: usize = 20;
const SETUP_DATA_HEADER: usize = 16;
const FOUR_GIB: u64 = 1 << 32;

/// Input of [`build`].
#[derive(Debug, Clone, Copy)]
pub struct BootParamsInput<'a> {
    /// The kernel's setup header ([`crate::BootProtocol::Linux`]).
    pub header: &'a SetupHeader,
    /// Where the protected-mode kernel was placed (the plan's `segments[0].dest`).
    pub load_addr: u64,
    /// Command line, memory map, at most one module (the initrd; its command line is ignored),
    /// the RSDP (its address only) and the screen (`screen_info`).
    pub info: &'a BootInfoInput<'a>,
}

/// Builds `boot_params`, the command line and the e820 setup_data for the blob to live at
/// physical `base`; pass `base` in RSI (ESI for the 32-bit entry).
pub fn build(input: &BootParamsInput<'_>, base: u64) -> Result<Vec<u8>> {
    let header = input.header;
    let info = input.info;
    check_str("kernel command line", info.cmdline)?;
    if info.cmdline.len() > header.cmdline_size as usize {
        return Err(Box::new(Error::BzCmdlineTooLong {
            len: info.cmdline.len(),
            max: header.cmdline_size,
        }));
    }
    if info.modules.len() > 1 {
        return Err(Box::new(Error::BzTooManyModules {
            count: info.modules.len(),
        }));
    }
    let map = info.memory_map;
    let extra = map.len().saturating_sub(E820_ZERO_PAGE_MAX);
    if extra > 0 && header.version < 0x0209 {
        return Err(Box::new(Error::BzTooManyE820 {
            entries: map.len(),
            version: header.version,
        }));
    }

    let cmdline_off = ZERO_PAGE_SIZE;
    let setup_data_off = (cmdline_off + info.cmdline.len() + 1).next_multiple_of(8);
    let total = if extra > 0 {
        setup_data_off + SETUP_DATA_HEADER + extra * E820_ENTRY
    } else {
        cmdline_off + info.cmdline.len() + 1
    };
    let end = base.checked_add(total as u64).ok_or(Error::FieldTooLarge {
        field: "boot_params base",
        value: base,
        max: u64::MAX - total as u64,
    })?;
    if !header.above_4g() && end > FOUR_GIB {
        return Err(Box::new(Error::FieldTooLarge {
            field: "boot_params end (kernel without XLF_CAN_BE_LOADED_ABOVE_4G)",
            value: end,
            max: FOUR_GIB,
        }));
    }

    let mut blob = alloc::vec![0u8; total];
    let page = &mut blob[..ZERO_PAGE_SIZE];
    put(page, 0, &screen_info::encode(info.display.as_ref()));
    put(page, HEADER_START, &header.raw);
    // What the boot loader writes (boot.rst "Details of header fields"): no heap, segments
    // reloaded by the kernel, entry relocated to where the kernel is.
    page[TYPE_OF_LOADER] = LOADER_UNDEFINED;
    page[LOADFLAGS] = LOADED_HIGH;
    let code32 = input
        .load_addr
        .wrapping_add(u64::from(header.code32_start).wrapping_sub(bzimage::HIGH_LOAD_ADDR));
    put(page, CODE32_START, &(code32 as u32).to_le_bytes());
    put(page, 0x224, &[0; 4]); // heap_end_ptr, ext_loader_ver, ext_loader_type
    // hardware_subarch (PC) and its data, and setup_data: the loader's to write, and a file
    // of an older protocol may have anything there.
    put(page, 0x23C, &[0; 12]);
    put(page, SETUP_DATA, &[0; 8]);
    let split = |v: u64| ((v as u32).to_le_bytes(), ((v >> 32) as u32).to_le_bytes());

    let cmdline_at = base + cmdline_off as u64;
    let (lo, hi) = split(cmdline_at);
    put(page, CMD_LINE_PTR, &lo);
    put(page, EXT_CMD_LINE_PTR, &hi);

    if let Some(m) = info.modules.first() {
        let initrd_end = m.addr.checked_add(m.size).ok_or(Error::FieldTooLarge {
            field: "initrd end",
            value: m.addr,
            max: u64::MAX - m.size,
        })?;
        if initrd_end > header.initrd_limit() {
            return Err(Box::new(Error::BzInitrdAboveMax {
                start: m.addr,
                end: initrd_end,
                max: header.initrd_addr_max,
            }));
        }
        let (lo, hi) = split(m.addr);
        put(page, RAMDISK_IMAGE, &lo);
        put(page, EXT_RAMDISK_IMAGE, &hi);
        let (lo, hi) = split(m.size);
        put(page, RAMDISK_SIZE, &lo);
        put(page, EXT_RAMDISK_SIZE, &hi);
    }
    if let Some(rsdp) = info.rsdp.filter(|_| header.version >= 0x020E) {
        put(page, ACPI_RSDP_ADDR, &rsdp.addr.to_le_bytes());
    }

    let entry = |r: &MemoryRegion| {
        let mut e = [0u8; E820_ENTRY];
        e[..8].copy_from_slice(&r.start.to_le_bytes());
        e[8..16].copy_from_slice(&r.len().to_le_bytes());
        e[16..].copy_from_slice(&r.kind.e820_type().to_le_bytes());
        e
    };
    let in_page = map.len().min(E820_ZERO_PAGE_MAX);
    page[E820_ENTRIES] = in_page as u8;
    for (i, r) in map.iter().take(in_page).enumerate() {
        put(page, E820_TABLE + i * E820_ENTRY, &entry(r));
    }
    if extra > 0 {
        let len = u32::try_from(extra * E820_ENTRY).map_err(|_| Error::FieldTooLarge {
            field: "SETUP_E820_EXT length",
            value: (extra * E820_ENTRY) as u64,
            max: u64::from(u32::MAX),
        })?;
        put(
            page,
            SETUP_DATA,
            &(base + setup_data_off as u64).to_le_bytes(),
        );
        let sd = &mut blob[setup_data_off..];
        put(sd, 8, &SETUP_E820_EXT.to_le_bytes());
        put(sd, 12, &len.to_le_bytes());
        for (i, r) in map.iter().skip(in_page).enumerate() {
            put(sd, SETUP_DATA_HEADER + i * E820_ENTRY, &entry(r));
        }
    }
    put(
        &mut blob,
        cmdline_off,
        info.cmdline.as_bytes(), // the NUL is already there
    );
    Ok(blob)
}

/// Size of [`build`]'s blob (it does not depend on `base`).
pub fn size(input: &BootParamsInput<'_>) -> Result<usize> {
    build(input, 0).map(|b| b.len())
}

/// `boot_params` decoded: what baton writes, and the setup header as handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootParams {
    /// The header's protocol `version`.
    pub version: u16,
    /// `type_of_loader` (0xFF from baton).
    pub type_of_loader: u8,
    /// `loadflags` as handed over.
    pub loadflags: u8,
    /// `code32_start`: the 32-bit entry, relocated to the load address.
    pub code32_start: u32,
    /// `cmd_line_ptr` with `ext_cmd_line_ptr` as its high half.
    pub cmd_line_ptr: u64,
    /// Empty when `cmd_line_ptr` is 0.
    pub cmdline: Vec<u8>,
    /// `ramdisk_image` / `ramdisk_size` with their `ext_` high halves.
    pub ramdisk_image: u64,
    /// Bytes of the initrd (0 without one).
    pub ramdisk_size: u64,
    /// `acpi_rsdp_addr` (0x070).
    pub acpi_rsdp_addr: u64,
    /// The zero page's e820 table, then every SETUP_E820_EXT entry's.
    pub memory_map: Vec<MemoryRegion>,
    /// Types of the setup_data entries, in list order.
    pub setup_data_types: Vec<u32>,
    /// Bytes `[0x1F1, 0x290)` of the zero page.
    pub header: Vec<u8>,
    /// `screen_info`, the zero page's first 64 bytes.
    pub screen_info: ScreenInfo,
}

fn e820_entries(bytes: &[u8], count: usize, out: &mut Vec<MemoryRegion>) -> Result<()> {
    for i in 0..count {
        let at = i * E820_ENTRY;
        let (Some(start), Some(size), Some(t)) = (
            u64_at(bytes, at),
            u64_at(bytes, at + 8),
            u32_at(bytes, at + 16),
        ) else {
            return Err(Error::bad_value("e820 entry", i as u64));
        };
        let end = start
            .checked_add(size)
            .ok_or_else(|| Error::bad_value("e820 addr + size", start))?;
        out.push(MemoryRegion::new(start, end, MemoryKind::from_e820_type(t)));
    }
    Ok(())
}

/// Decodes a `boot_params` blob that lives at physical `base`; the command line and every
/// setup_data entry must lie inside the blob. Checks boot_flag and "HdrS".
pub fn decode(bytes: &[u8], base: u64) -> Result<BootParams> {
    let b = Blob { bytes, base };
    let page = b.slice("boot_params", base, ZERO_PAGE_SIZE as u64)?;
    let u8_of = |at: usize| page.get(at).copied().unwrap_or(0);
    let u16_of = |at| u16_at(page, at).unwrap_or(0);
    let u32_of = |at| u64::from(u32_at(page, at).unwrap_or(0));
    let boot_flag = u16_of(BOOT_FLAG);
    if boot_flag != bzimage::BOOT_FLAG {
        return Err(Error::bad_value(
            "boot_params.hdr.boot_flag",
            u64::from(boot_flag),
        ));
    }
    if page.get(HEADER_MAGIC..HEADER_MAGIC + 4) != Some(&bzimage::HEADER_MAGIC) {
        return Err(Error::bad_value(
            "boot_params.hdr.header",
            u32_of(HEADER_MAGIC),
        ));
    }
    let cmd_line_ptr = u32_of(CMD_LINE_PTR) | u32_of(EXT_CMD_LINE_PTR) << 32;
    let cmdline = if cmd_line_ptr == 0 {
        Vec::new()
    } else {
        b.cstr("boot_params.cmd_line_ptr", cmd_line_ptr)?
    };
    let in_page = usize::from(u8_of(E820_ENTRIES));
    if in_page > E820_ZERO_PAGE_MAX {
        return Err(Error::bad_value("boot_params.e820_entries", in_page as u64));
    }
    let mut memory_map = Vec::new();
    e820_entries(
        page.get(E820_TABLE..).unwrap_or(&[]),
        in_page,
        &mut memory_map,
    )?;
    let mut setup_data_types = Vec::new();
    let mut next = u64_at(page, SETUP_DATA).unwrap_or(0);
    while next != 0 {
        // Each entry takes at least its 16-byte header: more entries than that is a cycle.
        if setup_data_types.len() > bytes.len() / SETUP_DATA_HEADER {
            return Err(Error::bad_value("setup_data list (cycle)", next));
        }
        let head = b.slice("setup_data", next, SETUP_DATA_HEADER as u64)?;
        let (following, kind, len) = (
            u64_at(head, 0).unwrap_or(0),
            u32_at(head, 8).unwrap_or(0),
            u32_at(head, 12).unwrap_or(0),
        );
        let data = b.slice(
            "setup_data.data",
            next.saturating_add(SETUP_DATA_HEADER as u64),
            u64::from(len),
        )?;
        if kind == SETUP_E820_EXT {
            e820_entries(data, data.len() / E820_ENTRY, &mut memory_map)?;
        }
        setup_data_types.push(kind);
        next = following;
    }
    Ok(BootParams {
        version: u16_of(VERSION),
        type_of_loader: u8_of(TYPE_OF_LOADER),
        loadflags: u8_of(LOADFLAGS),
        code32_start: u32_of(CODE32_START) as u32,
        cmd_line_ptr,
        cmdline,
        ramdisk_image: u32_of(RAMDISK_IMAGE) | u32_of(EXT_RAMDISK_IMAGE) << 32,
        ramdisk_size: u32_of(RAMDISK_SIZE) | u32_of(EXT_RAMDISK_SIZE) << 32,
        acpi_rsdp_addr: u64_at(page, ACPI_RSDP_ADDR).unwrap_or(0),
        memory_map,
        setup_data_types,
        header: page
            .get(HEADER_START..bzimage::HEADER_ROOM_END)
            .unwrap_or(&[])
            .to_vec(),
        screen_info: screen_info::decode(page),
    })
}
