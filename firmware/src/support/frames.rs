//! The physical frame allocator: usable RAM from the memory map, minus
//! every range that must survive (baton's image and stacks, the boot
//! structures, modules, ACPI). It hands out page-aligned ranges from the top
//! of memory down, and never below 1 MiB, so low memory stays free for
//! kernels linked low and for the boot information the takeover places
//! there (as GRUB and QEMU do).

use payload_loader::{FreeList, MemoryKind, MemoryMap, Range};

/// The frame size.
pub const PAGE_SIZE: u64 = 4096;

/// Memory below this is never handed out by `allocate`: real-mode
/// structures (IVT, BDA, EBDA) live there, the AP trampoline takes its page
/// explicitly (`take`), and the takeover puts the boot information there.
pub const LOW_MEMORY_END: u64 = 0x10_0000;

/// The physical page allocator: the usable memory not taken yet, in whole
/// pages (payload-loader's free list, which the load planner uses too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameAllocator {
    free: FreeList,
}

impl FrameAllocator {
    /// Usable regions of `map`, trimmed to whole pages, minus `reserved`
    /// (each widened to whole pages).
    pub fn new(map: &MemoryMap, reserved: &[Range]) -> Self {
        // A loop of pushes, not `filter().collect()`: smaller code (saves 320 bytes).
        let mut usable = alloc::vec::Vec::new();
        for r in map.regions() {
            if r.kind == MemoryKind::Usable {
                usable.push(Range::new(
                    align_up(r.start, PAGE_SIZE),
                    align_down(r.end, PAGE_SIZE),
                ));
            }
        }
        let mut frames = Self {
            free: FreeList::new(&usable),
        };
        for hole in reserved {
            frames.take(*hole);
        }
        frames
    }

    /// Marks `range` (widened to whole pages) as used.
    pub fn take(&mut self, range: Range) {
        self.free.take(Range::new(
            align_down(range.start, PAGE_SIZE),
            align_up(range.end, PAGE_SIZE),
        ));
    }

    /// Every free range, below 1 MiB too: what baton does not occupy.
    pub fn free_ranges(&self) -> &[Range] {
        self.free.ranges()
    }

    /// The bytes `allocate` can still hand out (from 1 MiB up).
    pub fn free_bytes(&self) -> u64 {
        self.free.bytes_from(LOW_MEMORY_END)
    }

    /// Takes `size` bytes (rounded up to pages) aligned to `align` (a power
    /// of two, at least a page), ending at or below `limit`; the highest such
    /// range is chosen. Returns its start.
    pub fn allocate(&mut self, size: u64, align: u64, limit: u64) -> Option<u64> {
        let align = align.max(PAGE_SIZE);
        if !align.is_power_of_two() || size == 0 {
            return None;
        }
        let size = size.checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1);
        self.free.take_top_down(size, align, LOW_MEMORY_END, limit)
    }
}

/// `value` rounded up to a multiple of `align` (a power of two).
pub fn align_up(value: u64, align: u64) -> u64 {
    value.saturating_add(align - 1) & !(align - 1)
}

/// `value` rounded down to a multiple of `align` (a power of two).
pub fn align_down(value: u64, align: u64) -> u64 {
    value & !(align - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemoryKind::*;
    use payload_loader::RawEntry;

    fn map() -> MemoryMap {
        MemoryMap::from_entries(&[
            RawEntry {
                base: 0,
                size: 0x9fc00,
                kind: Usable,
            },
            RawEntry {
                base: 0x10_0000,
                size: 0x7f0_0000,
                kind: Usable,
            },
            RawEntry {
                base: 0x7f0_0000,
                size: 0x10_0000,
                kind: Acpi,
            },
            RawEntry {
                base: 0x1_0000_0000,
                size: 0x1000_0000,
                kind: Usable,
            },
        ])
        .unwrap()
    }

    #[test]
    fn never_hands_out_reserved_ranges() {
        let reserved = [
            Range::new(0x10_0000, 0x18_0123),
            Range::new(0x1_0800_0000, 0x1_0800_0001),
        ];
        let mut frames = FrameAllocator::new(&map(), &reserved);
        assert_eq!(
            frames.free_ranges(),
            &[
                Range::new(0, 0x9f000),
                Range::new(0x18_1000, 0x7f0_0000),
                Range::new(0x1_0000_0000, 0x1_0800_0000),
                Range::new(0x1_0800_1000, 0x1_1000_0000)
            ]
        );
        let mut got = Vec::new();
        while let Some(a) = frames.allocate(0x10_0000, PAGE_SIZE, u64::MAX) {
            got.push(a..a + 0x10_0000);
        }
        for g in &got {
            assert!(
                reserved
                    .iter()
                    .all(|r| g.end <= r.start || r.end <= g.start),
                "{g:x?}"
            );
            assert!(g.start >= LOW_MEMORY_END);
            assert!(
                g.end <= 0x7f0_0000 || g.start >= 0x1_0000_0000,
                "{g:x?} in ACPI"
            );
        }
        assert!(got.len() > 100);
        // Low memory stays free, and `take` takes a page of it.
        assert_eq!(frames.free_ranges()[0], Range::new(0, 0x9f000));
        frames.take(Range::new(0x9e000, 0x9e001));
        assert_eq!(frames.free_ranges()[0], Range::new(0, 0x9e000));
        assert_eq!(frames.allocate(0x1000, PAGE_SIZE, 0x10_0000), None);
    }

    #[test]
    fn allocates_from_the_top_below_a_limit_with_alignment() {
        let mut frames = FrameAllocator::new(&map(), &[]);
        assert_eq!(
            frames.allocate(0x1000, PAGE_SIZE, u64::MAX),
            Some(0x1_0fff_f000)
        );
        assert_eq!(
            frames.allocate(0x1800, 0x20_0000, 0x1_0000_0000),
            Some(0x7e0_0000)
        );
        assert_eq!(frames.allocate(0x1000, PAGE_SIZE, 0x10_0000), None);
        assert_eq!(frames.allocate(0x1000, 3 * PAGE_SIZE, u64::MAX), None);
        assert_eq!(frames.allocate(u64::MAX, PAGE_SIZE, u64::MAX), None);
        assert_eq!(
            frames.free_bytes(),
            0x7e0_0000 + 0x1000_0000 - 0x1000 - 0x2000
        );
    }
}
