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
            "{what} {index}: end 0x{end:x} is below start 0x{start:x}"
        ),
        OutOfMemory {
            what,
            size,
            align,
            below,
        } => write!(
            f,
            "no free memory for {what}: 0x{size:x} bytes aligned to 0x{align:x} below 0x{below:x}"
        ),
        BadAllocAlign { align } => write!(f, "alignment 0x{align:x} is not a power of two"),
        other => elsewhere(other, f),
    }
}
