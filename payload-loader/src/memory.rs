//! Memory map types and range arithmetic: coverage checks and a top-down free-memory allocator.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::error::{Error, MemoryKindName, Result};

/// What a memory-map region holds. The firmware converts its own map (e820, coreboot, PVH,
/// Multiboot) into these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// RAM the kernel may use (e820 type 1).
    Usable,
    /// Reserved (e820 type 2).
    Reserved,
    /// ACPI reclaimable tables (e820 type 3).
    Acpi,
    /// ACPI NVS (e820 type 4).
    Nvs,
    /// Anything else; the number is the e820-style type handed through unchanged
    /// (5 = unusable, 7 = persistent memory, ...). Decoders turn 1..=4 into the named kinds.
    Other(u32),
}

impl MemoryKind {
    /// The e820 / Multiboot / `hvm_memmap_table_entry` type number.
    pub fn e820_type(self) -> u32 {
        match self {
            MemoryKind::Usable => 1,
            MemoryKind::Reserved => 2,
            MemoryKind::Acpi => 3,
            MemoryKind::Nvs => 4,
            MemoryKind::Other(t) => t,
        }
    }

    /// The inverse of [`MemoryKind::e820_type`].
    pub fn from_e820_type(t: u32) -> Self {
        match t {
            1 => MemoryKind::Usable,
            2 => MemoryKind::Reserved,
            3 => MemoryKind::Acpi,
            4 => MemoryKind::Nvs,
            t => MemoryKind::Other(t),
        }
    }

    /// Which kind wins where a firmware's entries overlap: the more restrictive, so RAM that
    /// any entry calls reserved is never handed out. Unusable (defective, disabled) beats
    /// everything, then unknown types, reserved, persistent memory, ACPI NVS, ACPI tables,
    /// usable RAM.
    pub fn priority(self) -> u8 {
        match self {
            MemoryKind::Usable => 0,
            MemoryKind::Acpi => 1,
            MemoryKind::Nvs => 2,
            MemoryKind::Other(PERSISTENT) => 3,
            MemoryKind::Reserved => 4,
            MemoryKind::Other(UNUSABLE | DISABLED) => 6,
            MemoryKind::Other(_) => 5,
        }
    }

    /// RAM of some use: usable, ACPI tables and NVS, persistent memory (what an identity map
    /// must cover).
    pub fn is_ram(self) -> bool {
        matches!(
            self,
            MemoryKind::Usable | MemoryKind::Acpi | MemoryKind::Nvs | MemoryKind::Other(PERSISTENT)
        )
    }

    /// Backed by something that can be read: everything but defective or disabled RAM (MMIO
    /// that firmware lists as reserved is included: firmware tables live there).
    pub fn is_readable(self) -> bool {
        !matches!(self, MemoryKind::Other(UNUSABLE | DISABLED))
    }

    pub(crate) fn name(self) -> MemoryKindName {
        MemoryKindName(match self {
            MemoryKind::Usable => "usable",
            MemoryKind::Reserved => "reserved",
            MemoryKind::Acpi => "ACPI reclaimable",
            MemoryKind::Nvs => "ACPI NVS",
            MemoryKind::Other(_) => "non-RAM",
        })
    }
}

/// e820 type 5: defective RAM.
const UNUSABLE: u32 = 5;
/// e820 type 6: disabled memory.
const DISABLED: u32 = 6;
/// e820 type 7: persistent memory.
const PERSISTENT: u32 = 7;

impl core::fmt::Display for MemoryKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MemoryKind::Usable => f.write_str("usable"),
            MemoryKind::Reserved => f.write_str("reserved"),
            MemoryKind::Acpi => f.write_str("ACPI reclaimable"),
            MemoryKind::Nvs => f.write_str("ACPI NVS"),
            MemoryKind::Other(PERSISTENT) => f.write_str("persistent"),
            MemoryKind::Other(UNUSABLE) => f.write_str("unusable"),
            MemoryKind::Other(DISABLED) => f.write_str("disabled"),
            MemoryKind::Other(t) => write!(f, "type {t}"),
        }
    }
}

/// One memory-map entry, half-open `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRegion {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// What the memory is.
    pub kind: MemoryKind,
}

impl MemoryRegion {
    /// The region `[start, end)` of `kind`.
    pub const fn new(start: u64, end: u64, kind: MemoryKind) -> Self {
        Self { start, end, kind }
    }
    /// Bytes in the region.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
    /// Whether the region holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A half-open physical range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl Range {
    /// The range `[start, end)`.
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }
    /// Bytes in the range.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
    /// Whether the range holds no byte.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
    /// Whether `addr` lies in the range.
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }
    /// Whether the two ranges share a byte.
    pub fn overlaps(&self, other: &Range) -> bool {
        !self.is_empty() && !other.is_empty() && self.start < other.end && other.start < self.end
    }
}

/// Checks that no region has `end < start`.
pub(crate) fn validate_regions(map: &[MemoryRegion]) -> Result<()> {
    for (i, r) in map.iter().enumerate() {
        if r.end < r.start {
            return Err(Box::new(Error::BadRange {
                what: "memory region",
                index: i,
                start: r.start,
                end: r.end,
            }));
        }
    }
    Ok(())
}

pub(crate) fn validate_ranges(what: &'static str, ranges: &[Range]) -> Result<()> {
    for (i, r) in ranges.iter().enumerate() {
        if r.end < r.start {
            return Err(Box::new(Error::BadRange {
                what,
                index: i,
                start: r.start,
                end: r.end,
            }));
        }
    }
    Ok(())
}

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
    let mut sorted: Vec<Range> = ranges.iter().copied().filter(|r| !r.is_empty()).collect();
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
    let usable: Vec<Range> = map
        .iter()
        .filter(|r| r.kind == MemoryKind::Usable)
        .map(|r| Range::new(r.start, r.end))
        .collect();
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_more_restrictive_kind_has_the_higher_priority() {
        use MemoryKind::*;
        let order = [Usable, Acpi, Nvs, Other(7), Reserved, Other(12), Other(5)];
        for pair in order.windows(2) {
            assert!(pair[0].priority() < pair[1].priority(), "{pair:?}");
        }
        assert_eq!(Other(6).priority(), Other(5).priority());
        assert!(Other(7).is_ram() && Nvs.is_ram() && !Reserved.is_ram());
        assert!(Reserved.is_readable() && !Other(5).is_readable() && !Other(6).is_readable());
        assert_eq!(
            alloc::format!("{} {}", Other(7), Other(9)),
            "persistent type 9"
        );
    }

    #[test]
    fn a_free_list_hands_out_from_the_top_and_keeps_the_rest() {
        let mut f = FreeList::new(&[
            Range::new(0x10_0000, 0x20_0000),
            Range::new(0, 0x9_f000),
            Range::new(0x18_0000, 0x30_0000),
            Range::new(0x40_0000, 0x40_0000),
        ]);
        assert_eq!(
            f.ranges(),
            &[Range::new(0, 0x9_f000), Range::new(0x10_0000, 0x30_0000)]
        );
        assert_eq!(
            f.take_top_down(0x1000, 0x1000, 0x10_0000, u64::MAX),
            Some(0x2f_f000)
        );
        assert_eq!(
            f.take_top_down(0x1000, 0x1000, 0, 0x10_0000),
            Some(0x9_e000)
        );
        f.take(Range::new(0x10_0000, 0x2f_0000));
        assert_eq!(f.bytes_from(0x10_0000), 0xf000);
        assert_eq!(
            f.take_top_down(0x10_0000, 0x1000, 0x10_0000, u64::MAX),
            None
        );
    }

    use super::*;

    fn map() -> Vec<MemoryRegion> {
        vec![
            MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
            MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
            MemoryRegion::new(0x10_0000, 0x7fe0_0000, MemoryKind::Usable),
            MemoryRegion::new(0x7fe0_0000, 0x8000_0000, MemoryKind::Acpi),
        ]
    }

    #[test]
    fn lower_upper() {
        assert_eq!(
            mem_lower_upper(&map()),
            (639, (0x7fe0_0000 - 0x10_0000) / 1024)
        );
    }

    #[test]
    fn usable_minus_reserved_overlap() {
        let m = [
            MemoryRegion::new(0, 0x1000_0000, MemoryKind::Usable),
            MemoryRegion::new(0x20_0000, 0x30_0000, MemoryKind::Nvs),
        ];
        let u = usable_ram(&m);
        assert_eq!(
            u,
            vec![Range::new(0, 0x20_0000), Range::new(0x30_0000, 0x1000_0000)]
        );
        assert_eq!(
            check_usable(&m, &u, Range::new(0x1f_0000, 0x21_0000)),
            Err(Some(MemoryKindName("ACPI NVS")))
        );
        assert_eq!(
            check_usable(&m, &u, Range::new(0x1000_0000, 0x1000_1000)),
            Err(None)
        );
        assert_eq!(check_usable(&m, &u, Range::new(0x1000, 0x2000)), Ok(()));
    }

    #[test]
    fn reserving_boot_info() {
        let m = map();
        let out = with_reserved(
            &m,
            &[
                Range::new(0x7000, 0x8000),
                Range::new(0x7fdf_f000, 0x7fe0_1000),
                Range::new(0x7800, 0x9000),
            ],
        );
        assert_eq!(
            out,
            vec![
                MemoryRegion::new(0, 0x7000, MemoryKind::Usable),
                // Overlapping cuts are one entry.
                MemoryRegion::new(0x7000, 0x9000, MemoryKind::Reserved),
                MemoryRegion::new(0x9000, 0x9fc00, MemoryKind::Usable),
                MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
                MemoryRegion::new(0x10_0000, 0x7fdf_f000, MemoryKind::Usable),
                MemoryRegion::new(0x7fdf_f000, 0x7fe0_0000, MemoryKind::Reserved),
                MemoryRegion::new(0x7fe0_0000, 0x8000_0000, MemoryKind::Acpi),
            ]
        );
        assert_eq!(with_reserved(&m, &[]), m);
        // Touching cuts (the park area, then the boot information) too.
        let touching = with_reserved(
            &m,
            &[Range::new(0x2000, 0x3000), Range::new(0x1000, 0x2000)],
        );
        assert_eq!(
            touching[..3],
            [
                MemoryRegion::new(0, 0x1000, MemoryKind::Usable),
                MemoryRegion::new(0x1000, 0x3000, MemoryKind::Reserved),
                MemoryRegion::new(0x3000, 0x9fc00, MemoryKind::Usable),
            ]
        );
    }

    #[test]
    fn allocators() {
        let free = free_ranges(&usable_ram(&map()), &[Range::new(0x7000_0000, 0x7fe0_0000)]);
        assert_eq!(
            alloc_top_down(&free, 0x1000, 0x1000, 0x10_0000, u64::MAX),
            Some(0x6fff_f000)
        );
        assert_eq!(
            alloc_bottom_up(&free, 0x1000, 0x1000, 0x10_0001, u64::MAX),
            Some(0x10_1000)
        );
        assert_eq!(alloc_top_down(&free, 0x8000_0000, 8, 0, u64::MAX), None);
    }
}
