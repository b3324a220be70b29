//! `prepare`'s helpers for what must survive the copy: each blob (initrd,
//! modules, command lines, the RSDP) kept clear of every kernel
//! destination or moved, fw_cfg reads made straight to their destination,
//! and the plan's report.

use alloc::string::String;
use alloc::vec::Vec;

use baton::source::{Blob, KernelSource, PartlyRead};
use baton::support::phys::PhysMemory;
use baton::takeover::copy_plan;
use payload_loader::{LoadPlan, Range};

use crate::machine::platform::paging;
use crate::machine::smp::park_area::MAPPED;

use super::error::TakeoverError;

/// Reads `len` bytes at `offset` of the kernel file read in part `part`
/// to `addr`, by fw_cfg DMA.
pub(super) fn fetch(
    part: PartlyRead,
    offset: u64,
    len: u64,
    addr: u64,
) -> Result<(), TakeoverError> {
    let failed = |control| TakeoverError::Fetch {
        offset,
        len,
        addr,
        control,
    };
    let fw = crate::machine::source::fwcfg::FwCfg::detect().ok_or(failed(0))?;
    // SAFETY: `addr` is the kernel file's own blob or a segment's
    // destination, which nothing baton uses overlaps (plan and
    // `copy_plan::reads_directly` saw to both); identity-mapped RAM.
    unsafe { fw.read_part(part.fw_cfg_select, offset, len, addr) }.map_err(|e| failed(e.control))
}

/// The bytes of `blob`, which must be identity-mapped.
pub(super) fn bytes(blob: Blob) -> Result<&'static [u8], TakeoverError> {
    crate::machine::source::blob_bytes(blob).ok_or_else(|| TakeoverError::KernelUnmapped {
        blob,
        mapped_end: paging::mapped_end(),
    })
}

/// `blob` where the copy stub can read it after the copies before it: moved
/// to a fresh allocation when it overlaps a destination or lies beyond the
/// stub's identity map.
pub(super) fn keep_clear(
    plan: &mut LoadPlan,
    what: &'static str,
    blob: Blob,
) -> Result<Blob, TakeoverError> {
    if !copy_plan::hits_destination(plan, blob.range()) && blob.range().end <= MAPPED {
        plan.reserve(Range::new(blob.addr, blob.addr + blob.len));
        return Ok(blob);
    }
    let at = plan
        .allocate(what, blob.len.max(1), 4096)
        .map_err(TakeoverError::Place)?;
    Ok(moved(
        blob,
        at,
        format_args!(
            "{what} moved from {:#x} to {at:#x}: it overlapped a kernel segment or lay above 4 GiB",
            blob.addr
        ),
    ))
}

/// `blob`'s bytes copied to `at`, a fresh allocation of its size; `why` is
/// logged.
fn moved(blob: Blob, at: u64, why: core::fmt::Arguments<'_>) -> Blob {
    // SAFETY: both identity-mapped; the new range is free and disjoint.
    unsafe {
        core::ptr::copy_nonoverlapping(blob.addr as *const u8, at as *mut u8, blob.len as usize)
    };
    info!("{why}");
    Blob {
        addr: at,
        len: blob.len,
    }
}

/// `blob` where it ends at or below `limit`: moved to a fresh allocation
/// below it when it does not.
pub(super) fn below(plan: &mut LoadPlan, blob: Blob, limit: u64) -> Result<Blob, TakeoverError> {
    if blob.range().end <= limit {
        return Ok(blob);
    }
    let at = plan
        .allocate_below("initrd", blob.len.max(1), 4096, limit)
        .map_err(TakeoverError::Place)?;
    Ok(moved(
        blob,
        at,
        format_args!(
            "initrd moved from {:#x} to {at:#x}: the kernel takes it only up to {limit:#x}",
            blob.addr
        ),
    ))
}

/// The RSDP's bytes (36 for revision 2, else 20), read as the ACPI stage
/// read it; None if they cannot be read.
pub(super) fn rsdp_copy(at: u64) -> Option<Vec<u8>> {
    let mut bytes = alloc::vec![0u8; 36];
    paging::IdentityMapped.read(at, &mut bytes).ok()?;
    if bytes[15] < 2 {
        bytes.truncate(20);
    }
    Some(bytes)
}

// Out of line: the log lines' locals swelled `prepare`'s frame (measured: -64 bytes).
#[inline(never)]
pub(super) fn report_plan(plan: &LoadPlan) {
    info!(
        "kernel: {} {} {}, entry {:#x}, {} segments, {} relocations",
        plan.kind(),
        plan.class,
        plan.elf_type,
        plan.entry,
        plan.segments.len(),
        plan.relocations.len()
    );
    for s in &plan.segments {
        debug!(
            "  [{:#x}..{:#x}) {} bytes from the file{}",
            s.dest,
            s.dest + s.mem_size,
            s.file_size,
            if s.overlaps_firmware {
                ", over baton's own memory"
            } else {
                ""
            }
        );
    }
}

/// The segments the planner relocated, copied out of the kernel file into
/// fresh memory and relocated there (the copy stub moves them into place);
/// by segment, where each went (`None`: copied from the file as it is).
pub(super) fn stage_relocated(
    plan: &mut LoadPlan,
    kernel: &[u8],
) -> Result<Vec<Option<u64>>, TakeoverError> {
    let mut staged = Vec::new();
    // By index, each segment copied out (they are `Copy`): no clone of the
    // whole list to iterate while `plan` changes.
    for i in 0..plan.segments.len() {
        let s = plan.segments[i];
        if !plan.relocations.iter().any(|r| r.segment == i) {
            staged.push(None);
            continue;
        }
        let at = plan
            .allocate("relocated segment", s.mem_size, 4096)
            .map_err(TakeoverError::Place)?;
        // SAFETY: a fresh allocation of mem_size bytes, identity-mapped.
        let buf = unsafe { core::slice::from_raw_parts_mut(at as *mut u8, s.mem_size as usize) };
        buf.fill(0);
        if let Some(file) = s.file_bytes(kernel) {
            buf[..file.len()].copy_from_slice(file);
        }
        plan.relocate(i, buf);
        staged.push(Some(at));
    }
    Ok(staged)
}

/// The initrd, then each module, kept clear of the kernel, with the
/// command line each gets (Multiboot kernels get each file's name first:
/// `Protocol::command_line`).
pub(super) fn place_modules(
    plan: &mut LoadPlan,
    source: &KernelSource,
) -> Result<Vec<(Blob, String)>, TakeoverError> {
    let protocol = plan.kind();
    let mut modules = Vec::new();
    if let Some(initrd) = source.initrd {
        let blob = keep_clear(plan, "initrd", initrd)?;
        // A bzImage says how high its initrd may end (initrd_addr_max).
        let limit = plan.initrd_limit();
        let blob = below(plan, blob, limit)?;
        modules.push((blob, protocol.command_line(source.initrd_name(), "")));
    }
    for m in &source.modules {
        let blob = keep_clear(plan, "module", m.blob)?;
        modules.push((blob, protocol.command_line(&m.name, &m.cmdline)));
    }
    Ok(modules)
}
