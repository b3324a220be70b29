//! PVH: the Xen PHYS32_ENTRY note, and the `hvm_start_info` (version 1) builder and decoder.
//!
//! Layout (Xen `public/arch-x86/hvm/start_info.h`):
//! `hvm_start_info` 56 bytes, `hvm_memmap_table_entry` 24 bytes, `hvm_modlist_entry` 32 bytes.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::blob::Blob;
use crate::bootinfo::{BootInfoInput, DecodedModule, check_str};
use crate::bytes::Writer;
use crate::elf::Note;
use crate::error::{Error, Result};
use crate::memory::{MemoryKind, MemoryRegion};

/// `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;
/// XEN_ELFNOTE_PHYS32_ENTRY.
pub const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
/// Size of `hvm_start_info` version 1.
pub const START_INFO_SIZE: usize = 56;
const MEMMAP_ENTRY: usize = 24;
const MODLIST_ENTRY: usize = 32;

/// The parsed PVH note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PvhNote {
    /// Program header index of the PT_NOTE that carried it.
    pub segment: usize,
    /// 32-bit physical entry point.
    pub entry: u32,
}

/// Finds the first Xen note of type 18 and validates its descriptor (4 or 8 bytes, non-zero,
/// below 4 GiB).
pub fn find_note(notes: &[Note<'_>]) -> Result<Option<PvhNote>> {
    let Some(n) = notes
        .iter()
        .find(|n| n.name == b"Xen" && n.n_type == XEN_ELFNOTE_PHYS32_ENTRY)
    else {
        return Ok(None);
    };
    let entry = match n.desc.len() {
        4 => u64::from(crate::bytes::u32_at(n.desc, 0).unwrap_or(0)),
        8 => crate::bytes::u64_at(n.desc, 0).unwrap_or(0),
        l => return Err(Box::new(Error::PvhNoteSize { descsz: l as u32 })),
    };
    if entry == 0 || entry > u64::from(u32::MAX) {
        return Err(Box::new(Error::PvhEntryInvalid { entry }));
    }
    Ok(Some(PvhNote {
        segment: n.segment,
        entry: entry as u32,
    }))
}

/// Builds `hvm_start_info` v1 followed by the memmap, the modlist and the strings, for the blob
/// to live at physical `base`. An empty command line gives `cmdline_paddr` 0.
pub fn build_start_info(input: &BootInfoInput<'_>, base: u64) -> Result<Vec<u8>> {
    check_str("kernel command line", input.cmdline)?;
    for m in input.modules {
        check_str("module command line", m.cmdline)?;
    }
    let nr_modules = u32::try_from(input.modules.len()).map_err(|_| Error::FieldTooLarge {
        field: "PVH nr_modules",
        value: input.modules.len() as u64,
        max: u64::from(u32::MAX),
    })?;
    let memmap_entries =
        u32::try_from(input.memory_map.len()).map_err(|_| Error::FieldTooLarge {
            field: "PVH memmap_entries",
            value: input.memory_map.len() as u64,
            max: u64::from(u32::MAX),
        })?;
    let memmap_off = START_INFO_SIZE;
    let modlist_off = memmap_off + MEMMAP_ENTRY * input.memory_map.len();
    let strings_off = modlist_off + MODLIST_ENTRY * input.modules.len();
    // The strings follow: kernel cmdline first, then each module's; an empty one is left out
    // (address 0).
    let str_size = |s: &str| if s.is_empty() { 0 } else { s.len() + 1 };
    let total = strings_off
        + str_size(input.cmdline)
        + input
            .modules
            .iter()
            .map(|m| str_size(m.cmdline))
            .sum::<usize>();
    if base.checked_add(total as u64).is_none() {
        return Err(Box::new(Error::FieldTooLarge {
            field: "PVH start_info base",
            value: base,
            max: u64::MAX - total as u64,
        }));
    }
    // Offsets are at most `total`: no overflow.
    let addr = |off: usize| base + off as u64;
    let str_addr = |s: &str, off: usize| if s.is_empty() { 0 } else { addr(off) };

    let mut w = Writer::default();
    w.u32(START_INFO_MAGIC);
    w.u32(1); // version
    w.u32(0); // flags
    w.u32(nr_modules);
    w.u64(if input.modules.is_empty() {
        0
    } else {
        addr(modlist_off)
    });
    w.u64(str_addr(input.cmdline, strings_off));
    w.u64(input.rsdp.map_or(0, |r| r.addr));
    w.u64(if input.memory_map.is_empty() {
        0
    } else {
        addr(memmap_off)
    });
    w.u32(memmap_entries);
    w.u32(0); // reserved
    for r in input.memory_map {
        w.u64(r.start);
        w.u64(r.len());
        w.u32(r.kind.e820_type());
        w.u32(0);
    }
    let mut at = strings_off + str_size(input.cmdline);
    for m in input.modules {
        w.u64(m.addr);
        w.u64(m.size);
        w.u64(str_addr(m.cmdline, at));
        w.u64(0);
        at += str_size(m.cmdline);
    }
    let mut string = |s: &str| {
        if !s.is_empty() {
            w.cstr(s);
        }
    };
    string(input.cmdline);
    for m in input.modules {
        string(m.cmdline);
    }
    Ok(w.buf)
}

/// `hvm_start_info` decoded field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartInfo {
    /// `magic` (0x336ec578).
    pub magic: u32,
    /// Structure version.
    pub version: u32,
    /// SIF_* flags.
    pub flags: u32,
    /// Physical address of the RSDP.
    pub rsdp_paddr: u64,
    /// Empty when `cmdline_paddr` is 0.
    pub cmdline: Vec<u8>,
    /// The module list.
    pub modules: Vec<DecodedModule>,
    /// The memory map.
    pub memory_map: Vec<MemoryRegion>,
}

/// Decodes a start_info blob that lives at physical `base`; every pointer must lead back into
/// the blob. Checks magic and version >= 1.
pub fn decode_start_info(bytes: &[u8], base: u64) -> Result<StartInfo> {
    let b = Blob { bytes, base };
    let magic = b.u32("start_info.magic", base)?;
    if magic != START_INFO_MAGIC {
        return Err(Error::bad_value("start_info.magic", u64::from(magic)));
    }
    let version = b.u32("start_info.version", base + 4)?;
    if version < 1 {
        return Err(Error::bad_value("start_info.version", u64::from(version)));
    }
    let flags = b.u32("start_info.flags", base + 8)?;
    let nr_modules = b.u32("start_info.nr_modules", base + 12)?;
    let modlist = b.u64("start_info.modlist_paddr", base + 16)?;
    let cmdline_paddr = b.u64("start_info.cmdline_paddr", base + 24)?;
    let rsdp_paddr = b.u64("start_info.rsdp_paddr", base + 32)?;
    let memmap = b.u64("start_info.memmap_paddr", base + 40)?;
    let memmap_entries = b.u32("start_info.memmap_entries", base + 48)?;
    let cmdline = if cmdline_paddr == 0 {
        Vec::new()
    } else {
        b.cstr("start_info.cmdline", cmdline_paddr)?
    };
    let mut modules = Vec::new();
    if nr_modules > 0 {
        b.slice(
            "modlist",
            modlist,
            u64::from(nr_modules) * MODLIST_ENTRY as u64,
        )?;
        for i in 0..u64::from(nr_modules) {
            let e = modlist + i * MODLIST_ENTRY as u64;
            let cl = b.u64("modlist.cmdline_paddr", e + 16)?;
            modules.push(DecodedModule {
                addr: b.u64("modlist.paddr", e)?,
                size: b.u64("modlist.size", e + 8)?,
                cmdline: if cl == 0 {
                    Vec::new()
                } else {
                    b.cstr("modlist.cmdline", cl)?
                },
            });
        }
    }
    let mut memory_map = Vec::new();
    if memmap_entries > 0 {
        b.slice(
            "memmap",
            memmap,
            u64::from(memmap_entries) * MEMMAP_ENTRY as u64,
        )?;
        for i in 0..u64::from(memmap_entries) {
            let e = memmap + i * MEMMAP_ENTRY as u64;
            let start = b.u64("memmap.addr", e)?;
            let size = b.u64("memmap.size", e + 8)?;
            let end = start
                .checked_add(size)
                .ok_or_else(|| Error::bad_value("memmap.addr + size", start))?;
            let kind = MemoryKind::from_e820_type(b.u32("memmap.type", e + 16)?);
            memory_map.push(MemoryRegion { start, end, kind });
        }
    }
    Ok(StartInfo {
        magic,
        version,
        flags,
        rsdp_paddr,
        cmdline,
        modules,
        memory_map,
    })
}
