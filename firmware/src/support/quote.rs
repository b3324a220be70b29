//! Names from outside input (CBFS file names, cpio members, ACPI
//! signatures) in log lines: in double quotes, with anything that is not
//! printable ASCII as `\xNN`, so a hostile name cannot forge a log line.
//! Written here rather than `{:?}`: core's `Debug` for `str` and `char`
//! brings its escaping and Unicode tables along (with the rest of the
//! `Debug` machinery this module replaced, about 10 KB of firmware).

use core::fmt;

/// Bytes shown as a quoted string, with escapes for what is not printable text.
pub struct Quoted<'a>(pub &'a [u8]);

impl<'a> Quoted<'a> {
    /// A string, quoted.
    pub fn str(s: &'a str) -> Self {
        Self(s.as_bytes())
    }
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            match b {
                // Two `write_char`s, not `write!(f, "\\{}", b as char)`:
                // `char`'s `Display` came along only for this (saves 128 bytes).
                b'"' | b'\\' => {
                    fmt::Write::write_char(f, '\\')?;
                    fmt::Write::write_char(f, b as char)?
                }
                0x20..=0x7e => fmt::Write::write_char(f, b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str("\"")
    }
}

/// Numbers from outside as `[0x1, 0x2f]` (`{:#x?}` would bring core's
/// pretty-printing `Debug` machinery along).
pub struct HexList<'a, T>(pub &'a [T]);

impl<T: fmt::LowerHex> fmt::Display for HexList<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        bracketed(f, self.0, |f, v| write!(f, "{v:#x}"))
    }
}

/// Bytes as `[7f, 45, 4c, 46]`, as `{:02x?}` prints them.
pub struct HexBytes<'a>(pub &'a [u8]);

impl fmt::Display for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        bracketed(f, self.0, |f, b| write!(f, "{b:02x}"))
    }
}

/// `[a, b, c]`, each item written by `item`.
fn bracketed<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    item: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    f.write_str("[")?;
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        item(f, v)?;
    }
    f.write_str("]")
}

#[cfg(test)]
mod tests {
    use super::{HexBytes, HexList, Quoted};
    use alloc::format;

    #[test]
    fn printable_names_stay_as_they_are() {
        assert_eq!(format!("{}", Quoted::str("bin/busybox")), "\"bin/busybox\"");
    }

    #[test]
    fn quotes_and_control_bytes_are_escaped() {
        assert_eq!(
            format!("{}", Quoted(b"a\"b\\c\n\x1b[0m\xff")),
            "\"a\\\"b\\\\c\\x0a\\x1b[0m\\xff\""
        );
    }

    #[test]
    fn hex_lists() {
        assert_eq!(format!("{}", HexList::<u32>(&[])), "[]");
        assert_eq!(format!("{}", HexList(&[1u32, 0x2f])), "[0x1, 0x2f]");
        assert_eq!(format!("{}", HexBytes(b"\x7fE\x01")), "[7f, 45, 01]");
        assert_eq!(
            format!("{}", HexBytes(b"\x7fE\x01")),
            format!("{:02x?}", b"\x7fE\x01")
        );
    }
}
