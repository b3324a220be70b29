//! Messages for memory-range and allocation errors.

use core::fmt;

use super::{Error, elsewhere};

/// Memory ranges and allocations from free memory.
pub(super) fn memory(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        BadRange {
            what,
            index,
            start,
            end,
        } => write!(
            f,
            "{} {}: end 0x{:x} is below start 0x{:x}",
            *what, *index, *end, *start
        ),
        OutOfMemory {
            what,
            size,
            align,
            below,
        } => write!(
            f,
            "no free memory for {}: 0x{:x} bytes aligned to 0x{:x} below 0x{:x}",
            *what, *size, *align, *below
        ),
        BadAllocAlign { align } => write!(f, "alignment 0x{:x} is not a power of two", *align),
        other => elsewhere(other, f),
    }
}
