//! [`MemoryRegion`] (a memory-map entry) and [`Range`] (a physical range), and the checks that
//! neither runs backwards.

use alloc::boxed::Box;

use super::kind::MemoryKind;
use crate::error::{Error, Result};

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
pub(crate) fn check_regions(map: &[MemoryRegion]) -> Result<()> {
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

pub(crate) fn check_ranges(what: &'static str, ranges: &[Range]) -> Result<()> {
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
