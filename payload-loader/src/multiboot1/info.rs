//! The `multiboot_info` builder and decoder.

use alloc::vec::Vec;

use crate::blob::Blob;
use crate::bootinfo::{BootInfoInput, DecodedModule, check_multiboot_input, fits_u32};
use crate::bytes::Writer;
use crate::display::MultibootFramebuffer;
use crate::error::{Error, Result};
use crate::memory::{MemoryKind, MemoryRegion, mem_lower_upper};

/// Size of `multiboot_info` including the framebuffer fields.
pub const INFO_SIZE: usize = 116;
/// Offset of `framebuffer_addr` in `multiboot_info` (flag 12).
pub const FRAMEBUFFER_OFFSET: usize = 88;

/// Builds `multiboot_info` (flags: mem, cmdline, mods, mmap, boot_loader_name), then the mmap,
/// the module list and the strings, for the blob to live at physical `base` (below 4 GiB).
pub fn build_info(input: &BootInfoInput<'_>, base: u64) -> Result<Vec<u8>> {
    check_multiboot_input(input, "Multiboot1 module end")?;
    let mmap_off = INFO_SIZE + 4; // keep the u64 fields 8-aligned
    let mmap_len = 24 * input.memory_map.len();
    let mods_off = mmap_off + mmap_len;
    let cmdline_off = mods_off + 16 * input.modules.len();
    let loader_off = cmdline_off + input.cmdline.len() + 1;
    // The modules' strings follow, each at a running offset (written below).
    let mod_strings_off = loader_off + input.loader_name.len() + 1;
    let end = mod_strings_off
        + input
            .modules
            .iter()
            .map(|m| m.cmdline.len() + 1)
            .sum::<usize>();
    let base32 = fits_u32("Multiboot1 info end", base, end as u64)?;
    let p = |off: usize| base32 + off as u32;
    let (mem_lower, mem_upper) = mem_lower_upper(input.meminfo_map());

    let mut w = Writer::default();
    let framebuffer = input.display.as_ref().map(MultibootFramebuffer::from);
    let flags = 1 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 9 | u32::from(framebuffer.is_some()) << 12;
    w.u32(flags);
    w.u32(mem_lower);
    w.u32(mem_upper);
    w.u32(0); // boot_device
    w.u32(p(cmdline_off));
    w.u32(input.modules.len() as u32);
    w.u32(if input.modules.is_empty() {
        0
    } else {
        p(mods_off)
    });
    w.bytes(&[0; 16]); // syms
    w.u32(mmap_len as u32);
    w.u32(p(mmap_off));
    w.bytes(&[0; 12]); // drives_length, drives_addr, config_table
    w.u32(p(loader_off));
    w.zeros_to(FRAMEBUFFER_OFFSET); // apm_table, the VBE fields
    if let Some(fb) = framebuffer {
        fb.write(&mut w, false);
    }
    w.zeros_to(mmap_off);
    for r in input.memory_map {
        w.u32(20);
        w.u64(r.start);
        w.u64(r.len());
        w.u32(r.kind.e820_type());
    }
    let mut string_off = mod_strings_off;
    for m in input.modules {
        w.u32(m.addr as u32);
        w.u32((m.addr + m.size) as u32);
        w.u32(p(string_off));
        w.u32(0);
        string_off += m.cmdline.len() + 1;
    }
    w.cstr(input.cmdline);
    w.cstr(input.loader_name);
    for m in input.modules {
        w.cstr(m.cmdline);
    }
    Ok(w.buf)
}

/// `multiboot_info` decoded field by field (only the parts whose flag is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mb1Info {
    /// The info's flags.
    pub flags: u32,
    /// `mem_lower` (KiB), when its flag is set.
    pub mem_lower: Option<u32>,
    /// `mem_upper` (KiB), when its flag is set.
    pub mem_upper: Option<u32>,
    /// The command line, when its flag is set.
    pub cmdline: Option<Vec<u8>>,
    /// The modules.
    pub modules: Vec<DecodedModule>,
    /// The memory map.
    pub memory_map: Vec<MemoryRegion>,
    /// The loader's name, when its flag is set.
    pub loader_name: Option<Vec<u8>>,
    /// The framebuffer fields, when flag 12 is set.
    pub framebuffer: Option<MultibootFramebuffer>,
}

/// Decodes a `multiboot_info` blob living at physical `base`.
pub fn decode_info(bytes: &[u8], base: u64) -> Result<Mb1Info> {
    let b = Blob { bytes, base };
    let flags = b.u32("mbi.flags", base)?;
    let has = |bit: u32| flags & (1 << bit) != 0;
    let (mem_lower, mem_upper) = if has(0) {
        (
            Some(b.u32("mbi.mem_lower", base + 4)?),
            Some(b.u32("mbi.mem_upper", base + 8)?),
        )
    } else {
        (None, None)
    };
    let cmdline = if has(2) {
        Some(b.cstr("mbi.cmdline", u64::from(b.u32("mbi.cmdline", base + 16)?))?)
    } else {
        None
    };
    let mut modules = Vec::new();
    if has(3) {
        let count = b.u32("mbi.mods_count", base + 20)?;
        let addr = u64::from(b.u32("mbi.mods_addr", base + 24)?);
        if count > 0 {
            b.slice("mbi.mods", addr, u64::from(count) * 16)?;
        }
        for i in 0..u64::from(count) {
            let e = addr + 16 * i;
            let start = b.u32("mods.mod_start", e)?;
            let end = b.u32("mods.mod_end", e + 4)?;
            let s = b.u32("mods.string", e + 8)?;
            modules.push(DecodedModule {
                addr: u64::from(start),
                size: u64::from(
                    end.checked_sub(start)
                        .ok_or_else(|| Error::bad_value("mods.mod_end", u64::from(end)))?,
                ),
                cmdline: if s == 0 {
                    Vec::new()
                } else {
                    b.cstr("mods.string", u64::from(s))?
                },
            });
        }
    }
    let mut memory_map = Vec::new();
    if has(6) {
        let len = u64::from(b.u32("mbi.mmap_length", base + 44)?);
        let addr = u64::from(b.u32("mbi.mmap_addr", base + 48)?);
        if len > 0 {
            b.slice("mbi.mmap", addr, len)?;
        }
        let mut e = addr;
        while e < addr + len {
            let size = u64::from(b.u32("mmap.size", e)?);
            if size < 20 {
                return Err(Error::bad_value("mmap.size", size));
            }
            let start = b.u64("mmap.base_addr", e + 4)?;
            let length = b.u64("mmap.length", e + 12)?;
            let kind = MemoryKind::from_e820_type(b.u32("mmap.type", e + 20)?);
            let end = start
                .checked_add(length)
                .ok_or_else(|| Error::bad_value("mmap.base_addr + length", start))?;
            memory_map.push(MemoryRegion { start, end, kind });
            e += size + 4;
        }
    }
    let loader_name = if has(9) {
        Some(b.cstr(
            "mbi.boot_loader_name",
            u64::from(b.u32("mbi.boot_loader_name", base + 64)?),
        )?)
    } else {
        None
    };
    let framebuffer = if has(12) {
        let at = base + FRAMEBUFFER_OFFSET as u64;
        let fields = b.slice(
            "mbi.framebuffer",
            at,
            (INFO_SIZE - FRAMEBUFFER_OFFSET) as u64,
        )?;
        MultibootFramebuffer::read(fields, false)
    } else {
        None
    };
    Ok(Mb1Info {
        flags,
        mem_lower,
        mem_upper,
        cmdline,
        modules,
        memory_map,
        loader_name,
        framebuffer,
    })
}
