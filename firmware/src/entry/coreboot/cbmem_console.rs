//! The CBMEM console: `{u32 size, u32 cursor, u8 body[size]}`. The cursor's
//! low 28 bits are the write position; bit 31 says the ring has wrapped.

/// The cursor's write position.
pub const CURSOR_MASK: u32 = (1 << 28) - 1;
/// Set when the ring buffer has wrapped.
pub const OVERFLOW: u32 = 1 << 31;
/// Larger than this is not a console buffer (coreboot's are 128 KiB-1 MiB).
pub const MAX_SIZE: u32 = 16 << 20;

/// Appends `bytes` to a ring of `body.len()` bytes at `cursor`; returns
/// the new cursor word (flags kept, OVERFLOW set on a wrap).
pub fn append(body: &mut [u8], cursor: u32, bytes: &[u8]) -> u32 {
    let size = body.len();
    if size == 0 {
        return cursor;
    }
    let mut flags = cursor & !CURSOR_MASK;
    let mut at = (cursor & CURSOR_MASK) as usize;
    if at >= size {
        at = 0;
        flags |= OVERFLOW;
    }
    for &b in bytes {
        body[at] = b;
        at += 1;
        if at == size {
            at = 0;
            flags |= OVERFLOW;
        }
    }
    flags | at as u32
}
