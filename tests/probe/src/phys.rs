//! Reads of physical memory through the identity map (first 4 GiB).

use crate::entry::MAPPED_END;

/// `len` bytes at physical `addr`, if they lie in the identity map. Address
/// 0 is refused (it cannot be a Rust reference); no structure lives there.
pub fn slice(addr: u64, len: u64) -> Option<&'static [u8]> {
    let end = addr.checked_add(len)?;
    if addr == 0 || end > MAPPED_END {
        return None;
    }
    // SAFETY: identity-mapped and non-null; the probe only reads through
    // this, and whatever it reads is checked before use.
    Some(unsafe { core::slice::from_raw_parts(addr as *const u8, len as usize) })
}

pub fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(off..off.checked_add(8)?)?.try_into().ok()?,
    ))
}

pub fn read_u32(addr: u64) -> Option<u32> {
    u32_at(slice(addr, 4)?, 0)
}

/// Byte sum (ACPI checksums: 0 when valid).
pub fn sum(b: &[u8]) -> u8 {
    b.iter().fold(0u8, |a, &x| a.wrapping_add(x))
}

/// Text for a log line: printable ASCII as is, everything else escaped.
pub struct Printable<'a>(pub &'a [u8]);

impl core::fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        for &b in self.0 {
            if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
                f.write_char(char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}
