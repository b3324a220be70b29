//! Memory map types and range arithmetic: coverage checks and a top-down free-memory allocator.
//!
//! [`MemoryRegion`] and [`Range`] and their validation live in `region`, [`MemoryKind`] in
//! `kind`, usable RAM, the allocators and [`with_reserved`] in `free`; this module only
//! re-exports them.

mod free;
mod kind;
mod region;
#[cfg(test)]
mod tests;

pub use free::{FreeList, mem_lower_upper, with_reserved};
pub(crate) use free::{alloc_bottom_up, alloc_top_down, check_usable, free_ranges, usable_ram};
pub use kind::MemoryKind;
pub use region::{MemoryRegion, Range};
pub(crate) use region::{check_ranges, check_regions};
