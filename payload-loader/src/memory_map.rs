//! The physical memory map a firmware hands over, sanitized: sorted, zero-size entries
//! dropped, overlaps resolved (the more restrictive kind wins, [`MemoryKind::priority`], so
//! RAM that any entry calls reserved is never handed out), neighbours of one kind merged.

use alloc::vec::Vec;
use core::fmt;

use crate::memory::{MemoryKind, MemoryRegion};

/// The most entries a boot protocol may hand over. Real firmware gives tens; anything far
/// above is a corrupt count, not a machine.
pub const MAX_ENTRIES: usize = 1024;

/// An entry as a boot protocol gives it: a base and a size, unchecked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEntry {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
    /// What the memory is.
    pub kind: MemoryKind,
}

/// Why a memory map is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemoryMapError {
    /// More entries than baton keeps.
    TooManyEntries {
        /// Entries given.
        count: usize,
        /// The most kept.
        max: usize,
    },
    /// An entry whose end wraps past 2^64.
    WrapsAround {
        /// The entry's index.
        index: usize,
        /// Its base.
        base: u64,
        /// Its size.
        size: u64,
    },
    /// Not one usable byte.
    NoUsableMemory {
        /// Entries given.
        entries: usize,
    },
}

impl fmt::Display for MemoryMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyEntries { count, max } => {
                write!(
                    f,
                    "memory map has {} entries, more than the {} accepted",
                    *count, *max
                )
            }
            Self::WrapsAround { index, base, size } => write!(
                f,
                "memory map entry {} (base {:#x}, size {:#x}) wraps past 2^64",
                *index, *base, *size
            ),
            Self::NoUsableMemory { entries } => {
                write!(f, "memory map of {} entries has no usable RAM", *entries)
            }
        }
    }
}

/// A sanitized memory map: sorted, non-overlapping, no empty regions,
/// neighbours of the same kind merged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryMap {
    regions: Vec<MemoryRegion>,
}

impl MemoryMap {
    /// Sanitizes raw entries. Overlaps are resolved per elementary interval:
    /// the kind with the highest priority among the entries covering it wins.
    pub fn from_entries(entries: &[RawEntry]) -> Result<Self, MemoryMapError> {
        if entries.len() > MAX_ENTRIES {
            return Err(MemoryMapError::TooManyEntries {
                count: entries.len(),
                max: MAX_ENTRIES,
            });
        }
        let mut ranges = Vec::with_capacity(entries.len());
        // Filled here, not with `flat_map(..).collect()` after the loop: 0.7 KB less code.
        let mut bounds: Vec<u64> = Vec::with_capacity(2 * entries.len());
        for (index, e) in entries.iter().enumerate() {
            let end = e
                .base
                .checked_add(e.size)
                .ok_or(MemoryMapError::WrapsAround {
                    index,
                    base: e.base,
                    size: e.size,
                })?;
            if e.size != 0 {
                bounds.push(e.base);
                bounds.push(end);
                ranges.push(MemoryRegion {
                    start: e.base,
                    end,
                    kind: e.kind,
                });
            }
        }
        crate::sort::heapsort(&mut bounds);
        bounds.dedup();

        let mut regions: Vec<MemoryRegion> = Vec::new();
        for pair in bounds.windows(2) {
            let (start, end) = (pair[0], pair[1]);
            // The highest priority among the covering entries; on a tie the later entry (as
            // `max_by_key`), in a plain loop: less code.
            let mut kind: Option<MemoryKind> = None;
            for r in &ranges {
                if r.start <= start
                    && end <= r.end
                    && kind.is_none_or(|k| r.kind.priority() >= k.priority())
                {
                    kind = Some(r.kind);
                }
            }
            let Some(kind) = kind else { continue };
            match regions.last_mut() {
                Some(last) if last.end == start && last.kind == kind => last.end = end,
                _ => regions.push(MemoryRegion { start, end, kind }),
            }
        }
        if !regions.iter().any(|r| r.kind == MemoryKind::Usable) {
            return Err(MemoryMapError::NoUsableMemory {
                entries: entries.len(),
            });
        }
        Ok(Self { regions })
    }

    /// The regions, sorted and disjoint.
    pub fn regions(&self) -> &[MemoryRegion] {
        &self.regions
    }

    /// The end of the highest region of RAM (usable, ACPI, persistent):
    /// what an identity map must cover. Reserved ranges far up (QEMU lists
    /// one just below 1 TiB) are holes and MMIO, not RAM.
    pub fn highest_ram(&self) -> u64 {
        self.regions
            .iter()
            .rev()
            .find(|r| r.kind.is_ram())
            .map_or(0, |r| r.end)
    }

    /// Bytes of usable RAM.
    pub fn usable_bytes(&self) -> u64 {
        self.regions
            .iter()
            .filter(|r| r.kind == MemoryKind::Usable)
            .map(MemoryRegion::len)
            .sum()
    }

    /// The region holding `addr`, if any.
    pub fn region_of(&self, addr: u64) -> Option<&MemoryRegion> {
        self.regions
            .iter()
            .find(|r| r.start <= addr && addr < r.end)
    }

    /// Whether every byte of `[start, start+len)` is covered by regions that
    /// `accept` (adjacent regions of different kinds may share the range).
    pub fn covers(&self, start: u64, len: u64, accept: impl Fn(MemoryKind) -> bool) -> bool {
        let Some(end) = start.checked_add(len) else {
            return false;
        };
        let mut at = start;
        while at < end {
            match self.region_of(at) {
                Some(r) if accept(r.kind) => at = r.end,
                _ => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemoryKind::*;
    use alloc::string::ToString;

    fn e(base: u64, size: u64, kind: MemoryKind) -> RawEntry {
        RawEntry { base, size, kind }
    }
    fn r(start: u64, end: u64, kind: MemoryKind) -> MemoryRegion {
        MemoryRegion { start, end, kind }
    }

    #[test]
    fn sorts_and_merges() {
        let map = MemoryMap::from_entries(&[
            e(0x100000, 0x100000, Usable),
            e(0, 0x9fc00, Usable),
            e(0x200000, 0x100000, Usable),
            e(0xf0000, 0x10000, Reserved),
        ])
        .unwrap();
        assert_eq!(
            map.regions(),
            &[
                r(0, 0x9fc00, Usable),
                r(0xf0000, 0x100000, Reserved),
                r(0x100000, 0x300000, Usable)
            ]
        );
    }

    #[test]
    fn overlap_reserved_wins_over_usable() {
        let map = MemoryMap::from_entries(&[
            e(0x100000, 0x700000, Usable),
            e(0x400000, 0x1000, Nvs),
            e(0x3ff000, 0x3000, Reserved),
        ])
        .unwrap();
        assert_eq!(
            map.regions(),
            &[
                r(0x100000, 0x3ff000, Usable),
                r(0x3ff000, 0x402000, Reserved),
                r(0x402000, 0x800000, Usable)
            ]
        );
    }

    #[test]
    fn zero_size_entries_dropped() {
        let map = MemoryMap::from_entries(&[e(0x5000, 0, Reserved), e(0, 0x9000, Usable)]).unwrap();
        assert_eq!(map.regions(), &[r(0, 0x9000, Usable)]);
    }

    #[test]
    fn wrap_around_is_an_error() {
        let err = MemoryMap::from_entries(&[e(0, 0x1000, Usable), e(u64::MAX - 10, 0x100, Usable)])
            .unwrap_err();
        assert_eq!(
            err,
            MemoryMapError::WrapsAround {
                index: 1,
                base: u64::MAX - 10,
                size: 0x100
            }
        );
        assert!(err.to_string().contains("entry 1"));
    }

    #[test]
    fn too_many_entries() {
        let many = alloc::vec![e(0, 0x1000, Usable); MAX_ENTRIES + 1];
        assert!(matches!(
            MemoryMap::from_entries(&many),
            Err(MemoryMapError::TooManyEntries { .. })
        ));
    }

    #[test]
    fn no_usable_memory() {
        assert_eq!(
            MemoryMap::from_entries(&[e(0, 0x1000, Reserved)]),
            Err(MemoryMapError::NoUsableMemory { entries: 1 })
        );
    }

    #[test]
    fn covers_spans_adjacent_regions() {
        let map =
            MemoryMap::from_entries(&[e(0, 0x1000, Usable), e(0x1000, 0x1000, Acpi)]).unwrap();
        assert!(map.covers(0x800, 0x1000, |k| k.is_readable()));
        assert!(!map.covers(0x800, 0x1000, |k| k == Usable));
        assert!(!map.covers(0x1800, 0x1000, |_| true));
        assert!(!map.covers(u64::MAX, 2, |_| true));
        assert_eq!(map.highest_ram(), 0x2000);
        assert_eq!(map.usable_bytes(), 0x1000);
    }
}
