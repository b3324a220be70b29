//! Where a bzImage goes: the protected-mode kernel at its load address with room for
//! `init_size`, by the x86 boot protocol's rules (Documentation/arch/x86/boot.rst).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::bzimage::{ENTRY_64_OFFSET, HIGH_LOAD_ADDR, SetupHeader};
use crate::elf::{ElfClass, ElfType};
use crate::error::{Error, Result};
use crate::load_plan::{
    BootProtocol, FLAG_R, FLAG_W, FLAG_X, LoadPlan, PlanConfig, PlannedSegment, check_destination,
    taken_by,
};
use crate::memory::{self, Range};

/// Plans a bzImage: `segments[0]` is the protected-mode kernel at its load address, its memory
/// size covering `init_size`. A relocatable kernel goes to the lowest free address aligned to
/// `kernel_alignment` at or above `pref_address` (a decompressor loaded lower moves itself up
/// to `pref_address` and would run over what lies there), failing that to `pref_address` over
/// firmware memory (marked, staged like an ELF segment). A fixed one is loaded at 1 MiB and
/// runs at `pref_address`: both ranges are segments and must be usable RAM.
pub(crate) fn plan(
    kernel: &[u8],
    header: SetupHeader,
    config: &PlanConfig<'_>,
) -> Result<LoadPlan> {
    let usable = memory::usable_ram(config.memory_map);
    let file_offset = header.setup_size();
    // find_header saw setup_size < kernel.len().
    let payload = (kernel.len() as u64).saturating_sub(file_offset);
    let runtime = header.runtime_size(payload);
    let long_mode = header.long_mode_entry() && !config.linux_entry_32;
    // A 32-bit entry, or a kernel without XLF_CAN_BE_LOADED_ABOVE_4G, stays below 4 GiB.
    let limit = if long_mode && header.above_4g() {
        config.alloc_max
    } else {
        config.alloc_max.min(1 << 32)
    };
    let (load, runs_at) = if header.relocatable {
        let at = place(&header, runtime, &usable, limit, config)?;
        (at, at)
    } else {
        (HIGH_LOAD_ADDR, header.pref_address)
    };
    let mut segments = layout(load, file_offset, payload, runs_at, runtime)?;

    let entry_offset = if long_mode {
        ENTRY_64_OFFSET
    } else {
        u64::from(header.code32_start).wrapping_sub(HIGH_LOAD_ADDR)
    };
    if entry_offset >= payload {
        return Err(Box::new(Error::BzEntryOutsideImage {
            code32_start: header.code32_start,
            entry_offset,
            payload,
        }));
    }
    let entry = load + entry_offset;
    for (segment, s) in segments.iter_mut().enumerate() {
        check_destination(config, &usable, segment, s)?;
        let end = s.dest_range().end;
        if end > limit {
            return Err(Box::new(Error::FieldTooLarge {
                field: "Linux kernel end (32-bit entry or no XLF_CAN_BE_LOADED_ABOVE_4G)",
                value: end,
                max: limit,
            }));
        }
    }
    let taken = taken_by(config, &segments);
    Ok(LoadPlan {
        class: if long_mode {
            ElfClass::Elf64
        } else {
            ElfClass::Elf32
        },
        elf_type: ElfType::Exec,
        protocol: BootProtocol::Linux(header),
        entry,
        segments,
        load_bias: 0,
        relocations: Vec::new(),
        module_align: 4096,
        usable,
        taken,
        allocated: Vec::new(),
        alloc_min: config.alloc_min,
        alloc_max: config.alloc_max,
    })
}

/// The load address of a relocatable kernel (see [`crate::plan`]).
fn place(
    header: &SetupHeader,
    runtime: u64,
    usable: &[Range],
    limit: u64,
    config: &PlanConfig<'_>,
) -> Result<u64> {
    let align = u64::from(header.kernel_alignment).max(4096);
    let min = config.alloc_min.max(header.pref_address);
    let free = memory::free_ranges(usable, config.firmware);
    if let Some(at) = memory::alloc_bottom_up(&free, runtime, align, min, limit) {
        return Ok(at);
    }
    let pref = header.pref_address;
    let fits = pref.is_multiple_of(align)
        && pref.checked_add(runtime).is_some_and(|end| end <= limit)
        && memory::check_usable(config.memory_map, usable, Range::new(pref, pref + runtime))
            .is_ok();
    if fits {
        return Ok(pref);
    }
    Err(Box::new(Error::OutOfMemory {
        what: "Linux kernel (init_size from pref_address)",
        size: runtime,
        align,
        below: limit,
    }))
}

/// The file's protected-mode bytes at `load`, and the parts of `[runs_at, +runtime)` outside
/// them as zero-filled segments (extending the first where they join).
fn layout(
    load: u64,
    file_offset: u64,
    payload: u64,
    runs_at: u64,
    runtime: u64,
) -> Result<Vec<PlannedSegment>> {
    let wraps = |addr, memsz| Error::SegmentWraps {
        segment: 0,
        addr,
        memsz,
    };
    let image = Range::new(load, load.checked_add(payload).ok_or(wraps(load, payload))?);
    let run = Range::new(
        runs_at,
        runs_at
            .checked_add(runtime)
            .ok_or(wraps(runs_at, runtime))?,
    );
    let segment = |dest, file_size, mem_size| PlannedSegment {
        phdr: None,
        file_offset,
        file_size,
        dest,
        mem_size,
        flags: FLAG_R | FLAG_W | FLAG_X,
        overlaps_firmware: false,
    };
    // The kernel first, then the zero-filled parts: below it, above it.
    let mut kernel = segment(load, payload, payload);
    let mut below = None;
    let mut above = None;
    if run.start < image.start {
        let end = run.end.min(image.start);
        below = Some(segment(run.start, 0, end - run.start));
    }
    if run.end > image.end {
        let from = run.start.max(image.end);
        if from == image.end {
            kernel.mem_size = run.end - load;
        } else {
            above = Some(segment(from, 0, run.end - from));
        }
    }
    let mut segments = Vec::with_capacity(3);
    segments.push(kernel);
    segments.extend(below);
    segments.extend(above);
    Ok(segments)
}
