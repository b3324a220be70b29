//! The Multiboot2 boot information (MBI): builder and decoder.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::blob::Blob;
use crate::bootinfo::{BootInfoInput, DecodedModule, check_multiboot_input, fits_u32, rsdp_parts};
use crate::bytes::{Writer, u32_at};
use crate::display::MultibootFramebuffer;
use crate::error::{Error, Result};
use crate::memory::{MemoryKind, MemoryRegion, mem_lower_upper};

/// MBI tag types baton provides.
pub const TAG_CMDLINE: u32 = 1;
/// Tag: the loader's name.
pub const TAG_LOADER_NAME: u32 = 2;
/// Tag: a boot module.
pub const TAG_MODULE: u32 = 3;
/// Tag: lower and upper memory in KiB.
pub const TAG_BASIC_MEMINFO: u32 = 4;
/// Tag: the memory map.
pub const TAG_MMAP: u32 = 6;
/// Tag: the framebuffer (or EGA text console) the firmware set up.
pub const TAG_FRAMEBUFFER: u32 = 8;
/// Tag: a copy of the ACPI 1.0 RSDP.
pub const TAG_ACPI_OLD: u32 = 14;
/// Tag: a copy of the ACPI 2.0+ RSDP.
pub const TAG_ACPI_NEW: u32 = 15;

fn string(s: &str) -> impl FnOnce(&mut Writer) + '_ {
    move |w: &mut Writer| w.cstr(s)
}

fn tag(w: &mut Writer, t: u32, body: impl FnOnce(&mut Writer)) {
    let start = tag_start(w, t);
    body(w);
    tag_end(w, start);
}

// The parts of `tag` that do not depend on the body: one copy each, not one per tag written.
fn tag_start(w: &mut Writer, t: u32) -> usize {
    w.pad_to(8);
    let start = w.len();
    w.u32(t);
    w.u32(0);
    start
}

fn tag_end(w: &mut Writer, start: usize) {
    let size = (w.len() - start) as u32;
    w.put_u32(start + 4, size);
}

/// Builds a Multiboot2 MBI (cmdline, loader name, modules, basic meminfo, mmap, ACPI old RSDP
/// and, for revision >= 2, new RSDP) for the blob to live at physical `base` (below 4 GiB).
pub fn build_info(input: &BootInfoInput<'_>, base: u64) -> Result<Vec<u8>> {
    check_multiboot_input(input, "Multiboot2 module end")?;
    let rsdp = match input.rsdp {
        Some(r) => Some((r.bytes, rsdp_parts(r.bytes)?)),
        None => None,
    };
    let (mem_lower, mem_upper) = mem_lower_upper(input.meminfo_map());
    let mut w = Writer::default();
    w.u32(0); // total_size, patched below
    w.u32(0);
    tag(&mut w, TAG_CMDLINE, string(input.cmdline));
    tag(&mut w, TAG_LOADER_NAME, string(input.loader_name));
    for m in input.modules {
        tag(&mut w, TAG_MODULE, |w| {
            w.u32(m.addr as u32);
            w.u32((m.addr + m.size) as u32);
            string(m.cmdline)(w);
        });
    }
    tag(&mut w, TAG_BASIC_MEMINFO, |w| {
        w.u32(mem_lower);
        w.u32(mem_upper);
    });
    tag(&mut w, TAG_MMAP, |w| {
        w.u32(24);
        w.u32(0);
        for r in input.memory_map {
            w.u64(r.start);
            w.u64(r.len());
            w.u32(r.kind.e820_type());
            w.u32(0);
        }
    });
    if let Some(display) = &input.display {
        tag(&mut w, TAG_FRAMEBUFFER, |w| {
            MultibootFramebuffer::from(display).write(w, true)
        });
    }
    if let Some((bytes, (revision, len))) = rsdp {
        tag(&mut w, TAG_ACPI_OLD, |w| w.bytes(&bytes[..20]));
        if revision >= 2 {
            tag(&mut w, TAG_ACPI_NEW, |w| w.bytes(&bytes[..len]));
        }
    }
    tag(&mut w, 0, |_| {});
    let total = w.len();
    fits_u32("Multiboot2 info end", base, total as u64)?;
    w.put_u32(0, total as u32);
    Ok(w.buf)
}

/// A Multiboot2 MBI decoded tag by tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mb2Info {
    /// The information's total size.
    pub total_size: u32,
    /// The command line tag.
    pub cmdline: Option<Vec<u8>>,
    /// The loader-name tag.
    pub loader_name: Option<Vec<u8>>,
    /// The module tags.
    pub modules: Vec<DecodedModule>,
    /// `mem_lower` (KiB) of the basic-meminfo tag.
    pub mem_lower: Option<u32>,
    /// `mem_upper` (KiB) of the basic-meminfo tag.
    pub mem_upper: Option<u32>,
    /// The memory-map tag.
    pub memory_map: Vec<MemoryRegion>,
    /// The framebuffer tag.
    pub framebuffer: Option<MultibootFramebuffer>,
    /// The ACPI 1.0 RSDP copy.
    pub rsdp_old: Option<Vec<u8>>,
    /// The ACPI 2.0+ RSDP copy.
    pub rsdp_new: Option<Vec<u8>>,
    /// Types of tags this decoder does not know.
    pub other_tags: Vec<u32>,
}

fn cstring(body: &[u8], field: &'static str) -> Result<Vec<u8>> {
    match body.iter().position(|&b| b == 0) {
        Some(n) => Ok(body[..n].to_vec()),
        None => Err(Error::bad_value(field, body.len() as u64)),
    }
}

/// Decodes an MBI blob living at physical `base` (the MBI has no internal pointers, `base` is
/// only checked for alignment).
pub fn decode_info(bytes: &[u8], base: u64) -> Result<Mb2Info> {
    if !base.is_multiple_of(8) {
        return Err(Error::bad_value("MBI address (8-aligned)", base));
    }
    let b = Blob { bytes, base };
    let total = b.u32("mbi.total_size", base)?;
    let all = b.slice("mbi", base, u64::from(total))?;
    let mut info = Mb2Info {
        total_size: total,
        ..Default::default()
    };
    let mut at = 8usize;
    loop {
        let (Some(t), Some(size)) = (u32_at(all, at), u32_at(all, at + 4)) else {
            return Err(Box::new(Error::DecodeOutOfBounds {
                field: "mbi tag",
                addr: base + at as u64,
                len: 8,
                base,
                blob_len: all.len(),
            }));
        };
        let size = size as usize;
        let body = all
            .get(at + 8..at.saturating_add(size))
            .filter(|_| size >= 8)
            .ok_or_else(|| Error::bad_value("mbi tag size", size as u64))?;
        match t {
            0 => break,
            TAG_CMDLINE => info.cmdline = Some(cstring(body, "cmdline tag")?),
            TAG_LOADER_NAME => info.loader_name = Some(cstring(body, "loader name tag")?),
            TAG_MODULE => {
                let (Some(start), Some(end)) = (u32_at(body, 0), u32_at(body, 4)) else {
                    return Err(Error::bad_value("module tag size", size as u64));
                };
                info.modules.push(DecodedModule {
                    addr: u64::from(start),
                    size: u64::from(
                        end.checked_sub(start)
                            .ok_or_else(|| Error::bad_value("module mod_end", u64::from(end)))?,
                    ),
                    cmdline: cstring(body.get(8..).unwrap_or(&[]), "module string")?,
                });
            }
            TAG_BASIC_MEMINFO => {
                info.mem_lower = u32_at(body, 0);
                info.mem_upper = u32_at(body, 4);
            }
            TAG_MMAP => {
                let entry_size = u32_at(body, 0).unwrap_or(0) as usize;
                if entry_size < 24 {
                    return Err(Error::bad_value("mmap entry_size", entry_size as u64));
                }
                for e in body.get(8..).unwrap_or(&[]).chunks_exact(entry_size) {
                    let start = crate::bytes::u64_at(e, 0).unwrap_or(0);
                    let len = crate::bytes::u64_at(e, 8).unwrap_or(0);
                    let end = start
                        .checked_add(len)
                        .ok_or_else(|| Error::bad_value("mmap base + length", start))?;
                    let kind = MemoryKind::from_e820_type(u32_at(e, 16).unwrap_or(0));
                    info.memory_map.push(MemoryRegion { start, end, kind });
                }
            }
            TAG_FRAMEBUFFER => {
                info.framebuffer = Some(
                    MultibootFramebuffer::read(body, true)
                        .ok_or_else(|| Error::bad_value("framebuffer tag size", size as u64))?,
                )
            }
            TAG_ACPI_OLD => info.rsdp_old = Some(body.to_vec()),
            TAG_ACPI_NEW => info.rsdp_new = Some(body.to_vec()),
            other => info.other_tags.push(other),
        }
        at = crate::bytes::align_up(at + size, 8)
            .ok_or_else(|| Error::bad_value("mbi tag size", size as u64))?;
    }
    Ok(info)
}
