//! From a kernel's bytes to its load plan: a bzImage by its setup header (`linux_plan`),
//! else an ELF whose entry protocol is detected by precedence and whose segments are placed
//! (an ET_DYN one where free memory allows).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::bzimage;
use crate::elf::{self, ElfClass, ElfImage, ElfType};
use crate::error::{Error, Result};
use crate::linux_plan;
use crate::load_plan::{
    BootProtocol, FLAG_R, FLAG_W, FLAG_X, LoadPlan, PlanConfig, PlannedSegment, Relocation,
    check_destination, taken_by,
};
use crate::memory::{self, Range};
use crate::multiboot1::{self, AddressLoad};
use crate::multiboot2::{self, Mb2Header};
use crate::protocol::Protocol;
use crate::pvh;

/// Picks the entry protocol. With `override_` only that protocol is tried (and must be present);
/// otherwise [`Protocol::PRECEDENCE`]: PVH note > Multiboot2 > Multiboot1 > plain ELF64.
/// A malformed header of a protocol that is tried is an error even if a later one would fit.
// Not inlined into `plan`: 0.5 KB less code (a smaller frame there).
#[inline(never)]
pub fn detect(image: &ElfImage<'_>, override_: Option<Protocol>) -> Result<BootProtocol> {
    let one;
    let order: &[Protocol] = match override_ {
        Some(p) => {
            one = [p];
            &one
        }
        None => &Protocol::PRECEDENCE,
    };
    for p in order {
        match p {
            Protocol::Pvh => {
                if let Some(n) = pvh::find_note(&image.notes()?)? {
                    return Ok(BootProtocol::Pvh(n));
                }
            }
            Protocol::Multiboot2 => {
                if let Some(h) = multiboot2::find_header(image.bytes)? {
                    return Ok(BootProtocol::Multiboot2(h));
                }
            }
            Protocol::Multiboot1 => {
                if let Some(h) = multiboot1::find_header(image.bytes)? {
                    return Ok(BootProtocol::Multiboot1(h));
                }
            }
            Protocol::Elf64 => {
                if image.class == ElfClass::Elf64 {
                    return Ok(BootProtocol::Elf64);
                }
                return Err(Box::new(Error::PlainElfNeeds64 {
                    class_bits: image.class.bits(),
                }));
            }
            // An ELF file has no setup header.
            Protocol::Linux => {}
        }
    }
    match override_ {
        Some(protocol) => Err(Box::new(Error::ProtocolNotPresent { protocol })),
        None => Err(Box::new(Error::PlainElfNeeds64 {
            class_bits: image.class.bits(),
        })),
    }
}

/// Validates `kernel`, detects its protocol and plans its load against `config`.
// Not inlined: in the firmware's one caller (boot_first_kernel, a large function) it made that
// frame larger and every stack access there longer: 0.4 KB more code (2 KB before the
// firmware's own size cuts).
#[inline(never)]
pub fn plan(kernel: &[u8], config: &PlanConfig<'_>) -> Result<LoadPlan> {
    memory::check_regions(config.memory_map)?;
    memory::check_ranges("firmware range", config.firmware)?;
    if let Some(header) = bzimage::find_header(kernel)? {
        return match config.protocol {
            None | Some(Protocol::Linux) => linux_plan::plan(kernel, header, config),
            Some(protocol) => Err(Box::new(Error::ProtocolNotPresent { protocol })),
        };
    }
    let image = elf::parse(kernel)?;
    let protocol = detect(&image, config.protocol)?;
    let kind = protocol.kind();

    // Address fields (Multiboot1 flag 16, Multiboot2 address tag) replace the program headers.
    let address_load = match &protocol {
        BootProtocol::Multiboot1(h) => h.address_load(kernel.len())?,
        BootProtocol::Multiboot2(h) => h.address_load(kernel.len())?,
        _ => None,
    };
    let relocatable = match &protocol {
        BootProtocol::Elf64 => true,
        BootProtocol::Multiboot2(h) => h.relocatable.is_some(),
        _ => false,
    };
    if image.elf_type == ElfType::Dyn && (!relocatable || address_load.is_some()) {
        return Err(Box::new(Error::DynNotAllowed { protocol: kind }));
    }

    // Lists are made only once the checks above passed: fewer to free on each error return.
    let usable = memory::usable_ram(config.memory_map);
    let mut segments = Vec::new();
    let mut load_bias = 0u64;
    let mut relocations = Vec::new();
    let entry;
    if let Some(AddressLoad {
        file_offset,
        file_len,
        load_addr,
        mem_len,
        entry: e,
    }) = address_load
    {
        segments.push(PlannedSegment {
            phdr: None,
            file_offset,
            file_size: file_len,
            dest: load_addr,
            mem_size: mem_len,
            flags: FLAG_R | FLAG_W | FLAG_X,
            overlaps_firmware: false,
        });
        entry = match (&protocol, e) {
            (BootProtocol::Multiboot2(h), _) if h.entry.is_none() => {
                image.entry_physical(image.entry)
            }
            _ => Some(e),
        };
    } else {
        if image.elf_type == ElfType::Dyn {
            load_bias = choose_bias(&image, &protocol, &usable, config)?;
        }
        for p in image.loads() {
            // ET_EXEC loads at p_paddr; ET_DYN at p_vaddr + bias (modular: the bias may be
            // "negative", choose_bias placed the whole span in free memory).
            let dest = match image.elf_type {
                ElfType::Dyn => p.vaddr.wrapping_add(load_bias),
                ElfType::Exec => p.paddr,
            };
            if dest.checked_add(p.memsz).is_none() {
                return Err(Box::new(Error::SegmentWraps {
                    segment: p.index,
                    addr: dest,
                    memsz: p.memsz,
                }));
            }
            segments.push(PlannedSegment {
                phdr: Some(p.index),
                file_offset: p.offset,
                file_size: p.filesz,
                dest,
                mem_size: p.memsz,
                flags: p.flags & (FLAG_R | FLAG_W | FLAG_X),
                overlaps_firmware: false,
            });
        }
        let elf_entry = || match image.elf_type {
            ElfType::Exec => image.entry_physical(image.entry),
            ElfType::Dyn => Some(image.entry.wrapping_add(load_bias)),
        };
        entry = match &protocol {
            BootProtocol::Pvh(n) => Some(u64::from(n.entry)),
            BootProtocol::Multiboot2(Mb2Header { entry: Some(e), .. }) => Some(u64::from(*e)),
            _ => elf_entry(),
        };
        if image.elf_type == ElfType::Dyn {
            for (index, (r_offset, addend)) in image.relative_relocations()?.into_iter().enumerate()
            {
                let found = image.loads().enumerate().find(|(_, p)| {
                    r_offset >= p.vaddr && p.memsz >= 8 && r_offset - p.vaddr <= p.memsz - 8
                });
                let Some((segment, p)) = found else {
                    return Err(Box::new(Error::RelocationOutOfSegment { index, r_offset }));
                };
                relocations.push(Relocation {
                    segment,
                    offset: r_offset - p.vaddr,
                    value: (addend as u64).wrapping_add(load_bias),
                });
            }
        }
    }

    // The entry must lie in an executable segment (or the address-field load).
    let entry = entry
        .filter(|&e| {
            segments
                .iter()
                .any(|s| s.flags & FLAG_X != 0 && s.dest <= e && e - s.dest < s.mem_size)
        })
        .ok_or(Error::EntryOutsideSegments {
            entry: entry.unwrap_or(image.entry),
        })?;
    if kind.is_32bit() && entry >= 1 << 32 {
        return Err(Box::new(Error::EntryAbove4G {
            protocol: kind,
            entry,
        }));
    }

    for (i, s) in segments.iter_mut().enumerate() {
        let segment = s.phdr.unwrap_or(i);
        check_destination(config, &usable, segment, s)?;
    }
    let taken = taken_by(config, &segments);

    Ok(LoadPlan {
        protocol,
        class: image.class,
        elf_type: image.elf_type,
        entry,
        segments,
        load_bias,
        relocations,
        module_align: 4096,
        usable,
        taken,
        allocated: Vec::new(),
        alloc_min: config.alloc_min,
        alloc_max: config.alloc_max,
    })
}

/// ET_DYN: place the whole image span in free memory (Multiboot2's relocatable tag bounds and
/// preference honoured) and return the bias.
// Not inlined into `plan` (ET_DYN only): 0.1 KB less code.
#[inline(never)]
fn choose_bias(
    image: &ElfImage<'_>,
    protocol: &BootProtocol,
    usable: &[Range],
    config: &PlanConfig<'_>,
) -> Result<u64> {
    // One pass over the PT_LOADs (`parse` made sure there is one).
    let (mut lo, mut hi, mut p_align) = (u64::MAX, 0, 4096);
    for p in image.loads() {
        lo = lo.min(p.vaddr);
        hi = hi.max(p.vaddr + p.memsz);
        p_align = p_align.max(p.align);
    }
    let span = hi - lo;
    let mut align = p_align;
    let (mut min, mut max, mut top_down) = (config.alloc_min, config.alloc_max, false);
    if let BootProtocol::Multiboot2(Mb2Header {
        relocatable: Some(r),
        ..
    }) = protocol
    {
        min = min.max(u64::from(r.min_addr));
        max = max.min(u64::from(r.max_addr).saturating_add(1));
        if r.align.is_power_of_two() {
            align = align.max(u64::from(r.align));
        }
        top_down = r.preference == 2;
    }
    if !align.is_power_of_two() {
        return Err(Box::new(Error::BadAllocAlign { align }));
    }
    // `lo % p_align` may be non-zero: keep it, so every segment keeps its p_align congruence.
    // (p_align was checked to be a power of two, so `p_align - 1` is a mask.)
    let pad = lo & (p_align - 1);
    let size = span.checked_add(pad).ok_or(Error::SegmentWraps {
        segment: 0,
        addr: lo,
        memsz: span,
    })?;
    // Nothing is placed yet: only the firmware is taken.
    let free = memory::free_ranges(usable, config.firmware);
    let at = if top_down {
        memory::alloc_top_down(&free, size, align, min, max)
    } else {
        memory::alloc_bottom_up(&free, size, align, min, max)
    };
    let at = at.ok_or(Error::OutOfMemory {
        what: "relocatable kernel",
        size,
        align,
        below: max,
    })?;
    Ok((at + pad).wrapping_sub(lo))
}
