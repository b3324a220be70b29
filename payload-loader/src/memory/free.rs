//! Usable RAM and free memory: coverage checks, the top-down and bottom-up allocators, the
//! [`FreeList`], and the map handed to the kernel with ranges reserved.

use alloc::vec::Vec;

use super::kind::MemoryKind;
use super::region::{MemoryRegion, Range};
use crate::error::MemoryKindName;

/// Removes `cut` from a sorted list of disjoint intervals.
fn subtract(free: &mut Vec<Range>, cut: Range) {
    if cut.is_empty() {
        return;
    }
    let mut out = Vec::with_capacity(free.len() + 1);
    for r in free.iter() {
        if !r.overlaps(&cut) {
            out.push(*r);
            continue;
        }
        if r.start < cut.start {
            out.push(Range::new(r.start, cut.start));
        }
        if cut.end < r.end {
            out.push(Range::new(cut.end, r.end));
        }
    }
    *free = out;
}

/// `ranges` sorted, empty ones dropped, and those that touch or overlap made one.
fn merged(ranges: &[Range]) -> Vec<Range> {
    // Loops that push, not `filter(..).collect()`: less code.
    let mut sorted: Vec<Range> = Vec::with_capacity(ranges.len());
    for r in ranges {
        if !r.is_empty() {
            sorted.push(*r);
        }
    }
    crate::sort::heapsort(&mut sorted);
    let mut out: Vec<Range> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Usable RAM (merged, sorted) minus every non-usable region.
pub(crate) fn usable_ram(map: &[MemoryRegion]) -> Vec<Range> {
    let mut usable: Vec<Range> = Vec::with_capacity(map.len());
    for r in map {
        if r.kind == MemoryKind::Usable {
            usable.push(Range::new(r.start, r.end));
        }
    }
    let mut merged = merged(&usable);
    for r in map.iter().filter(|r| r.kind != MemoryKind::Usable) {
        subtract(&mut merged, Range::new(r.start, r.end));
    }
    merged
}

/// `Ok` if `range` lies in usable RAM; otherwise the kind of the first non-usable region it
/// touches (or `None` if it simply is not covered).
pub(crate) fn check_usable(
    map: &[MemoryRegion],
    usable: &[Range],
    range: Range,
) -> core::result::Result<(), Option<MemoryKindName>> {
    if range.is_empty() {
        return Ok(());
    }
    if let Some(bad) = map
        .iter()
        .find(|r| r.kind != MemoryKind::Usable && Range::new(r.start, r.end).overlaps(&range))
    {
        return Err(Some(bad.kind.name()));
    }
    if usable
        .iter()
        .any(|u| u.start <= range.start && range.end <= u.end)
    {
        Ok(())
    } else {
        Err(None)
    }
}

/// Highest `align`-aligned address `a` with `[a, a + size)` inside one of `free` and inside
/// `[min, max)`.
pub(crate) fn alloc_top_down(
    free: &[Range],
    size: u64,
    align: u64,
    min: u64,
    max: u64,
) -> Option<u64> {
    let size = size.max(1);
    let mut best: Option<u64> = None;
    for r in free {
        let lo = r.start.max(min);
        let hi = r.end.min(max);
        if hi <= lo || hi - lo < size {
            continue;
        }
        let cand = (hi - size) & !(align - 1);
        if cand >= lo && best.is_none_or(|b| cand > b) {
            best = Some(cand);
        }
    }
    best
}

/// Lowest `align`-aligned address with `[a, a + size)` free and inside `[min, max)`.
pub(crate) fn alloc_bottom_up(
    free: &[Range],
    size: u64,
    align: u64,
    min: u64,
    max: u64,
) -> Option<u64> {
    let size = size.max(1);
    let mut best: Option<u64> = None;
    for r in free {
        let lo = r.start.max(min);
        let hi = r.end.min(max);
        if hi <= lo {
            continue;
        }
        let Some(cand) = lo.checked_add(align - 1).map(|v| v & !(align - 1)) else {
            continue;
        };
        if cand.checked_add(size).is_some_and(|e| e <= hi) && best.is_none_or(|b| cand < b) {
            best = Some(cand);
        }
    }
    best
}

/// Free physical memory as sorted, disjoint ranges, and the allocator over it: the firmware's
/// frame allocator and the load plan's allocations use the same arithmetic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreeList {
    ranges: Vec<Range>,
}

impl FreeList {
    /// The free list of `ranges` (sorted and merged; empty ones dropped).
    pub fn new(ranges: &[Range]) -> Self {
        Self {
            ranges: merged(ranges),
        }
    }

    /// The free ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[Range] {
        &self.ranges
    }

    /// Removes `range` from the free memory.
    pub fn take(&mut self, range: Range) {
        subtract(&mut self.ranges, range);
    }

    /// Takes the highest `align`-aligned `size` bytes inside `[min, max)` (`align` a power of
    /// two); returns their start.
    pub fn take_top_down(&mut self, size: u64, align: u64, min: u64, max: u64) -> Option<u64> {
        let at = alloc_top_down(&self.ranges, size, align, min, max)?;
        self.take(Range::new(at, at + size.max(1)));
        Some(at)
    }

    /// Bytes free at or above `min`.
    pub fn bytes_from(&self, min: u64) -> u64 {
        self.ranges
            .iter()
            .map(|r| r.end.saturating_sub(r.start.max(min)))
            .sum()
    }
}

/// Free memory: usable RAM minus every range in `taken`.
pub(crate) fn free_ranges(usable: &[Range], taken: &[Range]) -> Vec<Range> {
    let mut free = usable.to_vec();
    for t in taken {
        subtract(&mut free, *t);
    }
    free
}

/// The map to hand to the kernel: `map` with every range in `reserve` cut out of the usable
/// regions and inserted as [`MemoryKind::Reserved`] (boot info, the park page under
/// `ap-handoff=hlt`, ...). Regions keep their order; pieces of one region stay in address order.
/// Zero-length leftovers are dropped. Ranges outside usable RAM change nothing.
pub fn with_reserved(map: &[MemoryRegion], reserve: &[Range]) -> Vec<MemoryRegion> {
    // Touching or overlapping ranges become one: one reserved entry for
    // blocks placed side by side (kernels of the Multiboot era keep their
    // first messages in a small buffer that a long map overflows).
    let cuts = merged(reserve);
    let mut out = Vec::with_capacity(map.len() + 2 * cuts.len());
    for r in map {
        if r.kind != MemoryKind::Usable {
            out.push(*r);
            continue;
        }
        let mut at = r.start;
        for c in cuts
            .iter()
            .filter(|c| c.overlaps(&Range::new(r.start, r.end)))
        {
            let (cs, ce) = (c.start.max(r.start), c.end.min(r.end));
            if cs > at {
                out.push(MemoryRegion::new(at, cs, MemoryKind::Usable));
            }
            if ce > at {
                out.push(MemoryRegion::new(cs.max(at), ce, MemoryKind::Reserved));
                at = ce;
            }
        }
        if at < r.end {
            out.push(MemoryRegion::new(at, r.end, MemoryKind::Usable));
        }
    }
    out
}

/// Multiboot `mem_lower` / `mem_upper` in KiB: usable RAM contiguous from 0 (at most 640 KiB)
/// and from 1 MiB (saturating at `u32::MAX`).
pub fn mem_lower_upper(map: &[MemoryRegion]) -> (u32, u32) {
    let usable = usable_ram(map);
    let from = |start: u64| -> u64 {
        usable
            .iter()
            .find(|r| r.start <= start && start < r.end)
            .map_or(0, |r| r.end - start)
    };
    let lower = (from(0).min(640 * 1024) / 1024) as u32;
    let upper = u32::try_from(from(0x10_0000) / 1024).unwrap_or(u32::MAX);
    (lower, upper)
}
