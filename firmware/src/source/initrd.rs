//! A look at the initrd before it is handed on: an uncompressed newc cpio
//! archive (what Linux's initramfs unpacker reads, magic `070701` or
//! `070702`) is walked member by member, so a file cut short is refused here
//! with the numbers instead of failing later inside the kernel. Anything
//! else (a compressed archive, a disk image, a file the kernel reads its own
//! way) is passed on unchecked, as is what follows the last uncompressed
//! archive (concatenated archives: early microcode, then a compressed one).

use alloc::boxed::Box;

const MAGICS: [&[u8; 6]; 2] = [b"070701", b"070702"];
const HEADER_LEN: usize = 110;
const TRAILER: &[u8] = b"TRAILER!!!";

/// What the look found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Not an uncompressed cpio archive: not checked.
    NotCpio,
    /// Whole cpio archives: `members` entries (trailers included);
    /// `rest` bytes after the last one that are neither padding nor cpio
    /// (a compressed archive, unchecked).
    Cpio {
        /// Concatenated archives.
        archives: usize,
        /// Members in all.
        members: usize,
        /// Bytes after the last trailer (padding or a compressed part).
        rest: usize,
    },
}

impl core::fmt::Display for Checked {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Checked::NotCpio => f.write_str("not an uncompressed cpio archive, not checked"),
            Checked::Cpio {
                archives,
                members,
                rest,
            } => write!(
                f,
                "{archives} cpio archives, {members} members, {rest} bytes after them unchecked"
            ),
        }
    }
}

/// Why an uncompressed cpio initrd is refused; each names the member and
/// offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitrdError {
    /// The file ends inside a member's header, name or data.
    Truncated {
        /// The member's name (`Box<str>`: the error is 40 bytes, not 48, at
        /// each `?`; saves 64 bytes).
        member: Box<str>,
        /// Its offset.
        at: usize,
        /// The offset it runs to.
        needs_up_to: usize,
        /// Bytes in the file.
        len: usize,
    },
    /// The file ends after whole members but before the archive's trailer.
    NoTrailer {
        /// Members read.
        members: usize,
        /// Bytes in the file.
        len: usize,
    },
    /// A header field that is not eight hex digits, or a name without its NUL.
    BadHeader {
        /// The header's offset.
        at: usize,
        /// The field that is not hexadecimal.
        field: &'static str,
    },
}

impl core::fmt::Display for InitrdError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Truncated {
                member,
                at,
                needs_up_to,
                len,
            } => write!(
                f,
                "the initrd is cut short: its cpio member {} at offset {at:#x} runs to offset {needs_up_to:#x}, but the file ends at {len:#x} ({len} bytes)",
                crate::support::quote::Quoted::str(member)
            ),
            Self::NoTrailer { members, len } => write!(
                f,
                "the initrd is cut short: its cpio archive ends after {members} members at offset {len:#x} without the TRAILER!!! member"
            ),
            Self::BadHeader { at, field } => write!(
                f,
                "the initrd's cpio header at offset {at:#x} is malformed: bad {field}"
            ),
        }
    }
}

fn hex_field(
    bytes: &[u8],
    header: usize,
    index: usize,
    field: &'static str,
) -> Result<usize, InitrdError> {
    let at = header + 6 + 8 * index;
    // What `u32::from_str_radix(_, 16)` takes (an optional `+`, then hex
    // digits of either case), in a loop: its inlined generic code and
    // `from_utf8` before it cost 192 bytes more.
    let digits = &bytes[at..at + 8];
    let digits = digits.strip_prefix(b"+").unwrap_or(digits);
    let mut value = 0u32;
    for &d in digits {
        match char::from(d).to_digit(16) {
            Some(v) => value = value << 4 | v,
            None => return Err(InitrdError::BadHeader { at: header, field }),
        }
    }
    Ok(value as usize)
}

fn is_cpio(bytes: &[u8], at: usize) -> bool {
    bytes
        .get(at..at + 6)
        .is_some_and(|m| MAGICS.iter().any(|magic| m == *magic))
}

const fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// Walks `bytes` member by member if it is a newc cpio archive.
pub fn check(bytes: &[u8]) -> Result<Checked, InitrdError> {
    if !is_cpio(bytes, 0) {
        return Ok(Checked::NotCpio);
    }
    let len = bytes.len();
    let (mut archives, mut members, mut at) = (0, 0, 0);
    loop {
        // Between archives: zero padding (Linux skips it four bytes at a
        // time), then another cpio archive, compressed data or the end.
        while bytes.get(at..at + 4) == Some(&[0; 4]) {
            at += 4;
        }
        if at >= len || bytes[at..].iter().all(|&b| b == 0) {
            return Ok(Checked::Cpio {
                archives,
                members,
                rest: 0,
            });
        }
        if !is_cpio(bytes, at) {
            return Ok(Checked::Cpio {
                archives,
                members,
                rest: len - at,
            });
        }
        let in_archive = members;
        // Members up to and including the trailer.
        loop {
            if at >= len {
                return Err(InitrdError::NoTrailer {
                    members: members - in_archive,
                    len,
                });
            }
            let truncated = |member: &[u8], needs_up_to: usize| InitrdError::Truncated {
                member: crate::support::text::lossy(member).into(),
                at,
                needs_up_to,
                len,
            };
            if at + HEADER_LEN > len {
                return Err(truncated(b"", at + HEADER_LEN));
            }
            if !is_cpio(bytes, at) {
                return Err(InitrdError::BadHeader { at, field: "magic" });
            }
            let file_size = hex_field(bytes, at, 6, "file size")?;
            let name_size = hex_field(bytes, at, 11, "name size")?;
            let name_end = at + HEADER_LEN + name_size;
            if name_end > len {
                return Err(truncated(b"", name_end));
            }
            let name = &bytes[at + HEADER_LEN..name_end];
            let Some((&0, name)) = name.split_last() else {
                return Err(InitrdError::BadHeader {
                    at,
                    field: "name (no NUL at its end)",
                });
            };
            let data_end = align4(name_end) + file_size;
            if data_end > len {
                return Err(truncated(name, data_end));
            }
            members += 1;
            at = align4(data_end);
            if name == TRAILER {
                archives += 1;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn member(out: &mut Vec<u8>, name: &str, data: &[u8]) {
        out.extend_from_slice(b"070701");
        let fields = [
            1,
            0o100644,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0,
        ];
        for f in fields {
            out.extend_from_slice(alloc::format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.resize(align4(out.len()), 0);
        out.extend_from_slice(data);
        out.resize(align4(out.len()), 0);
    }

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            member(&mut out, name, data);
        }
        member(&mut out, "TRAILER!!!", b"");
        out.resize(out.len().next_multiple_of(512), 0);
        out
    }

    #[test]
    fn whole_archives_pass_and_other_files_are_not_checked() {
        let a = archive(&[("init", b"#!/bin/sh\n"), ("bin/busybox", &[7; 1001])]);
        assert_eq!(
            check(&a),
            Ok(Checked::Cpio {
                archives: 1,
                members: 3,
                rest: 0
            })
        );
        assert_eq!(check(b"\x1f\x8b\x08 gzip"), Ok(Checked::NotCpio));
        assert_eq!(check(b""), Ok(Checked::NotCpio));
        // Microcode archive, then a second one, then compressed data.
        let mut two = archive(&[("kernel/x86/microcode/GenuineIntel.bin", &[1; 10])]);
        two.extend(archive(&[("init", b"x")]));
        two.extend_from_slice(b"\x28\xb5\x2f\xfd zstd");
        assert_eq!(
            check(&two),
            Ok(Checked::Cpio {
                archives: 2,
                members: 4,
                rest: 9
            })
        );
    }

    #[test]
    fn every_cut_inside_the_archive_is_refused() {
        let a = archive(&[("init", b"#!/bin/sh\n"), ("bin/busybox", &[7; 1001])]);
        let end_of_trailer = a.iter().rposition(|&b| b != 0).unwrap_or(0);
        for cut in 6..end_of_trailer {
            assert!(check(&a[..cut]).is_err(), "a cut at {cut} passed");
        }
        let e = check(&a[..600]).unwrap_err();
        assert!(
            matches!(&e, InitrdError::Truncated { member, .. } if &**member == "bin/busybox"),
            "{e}"
        );
        let shown = alloc::format!("{e}");
        assert!(
            shown.contains("\"bin/busybox\"") && shown.contains("0x258 (600 bytes)"),
            "{shown}"
        );
    }

    #[test]
    fn bad_headers_are_named() {
        let mut a = archive(&[("init", b"x")]);
        a[6 + 8 * 6] = b'g';
        assert_eq!(
            check(&a),
            Err(InitrdError::BadHeader {
                at: 0,
                field: "file size"
            })
        );
        let mut a = archive(&[("init", b"x")]);
        a[HEADER_LEN + 4] = b'!';
        assert!(matches!(
            check(&a),
            Err(InitrdError::BadHeader {
                field: "name (no NUL at its end)",
                ..
            })
        ));
        // A name size beyond the end of the file.
        let mut a = archive(&[("init", b"x")]);
        a[6 + 8 * 11..6 + 8 * 12].copy_from_slice(b"ffffffff");
        assert!(matches!(check(&a), Err(InitrdError::Truncated { .. })));
    }

    #[test]
    fn hex_fields_read_as_from_str_radix_does() {
        let cases: [&[u8; 8]; 8] = [
            b"0000001A",
            b"deadBEEF",
            b"+000001f",
            b"ffffffff",
            b"++00001f",
            b"-000001f",
            b"0000 01f",
            b"00000\xff1f",
        ];
        for digits in cases {
            let mut bytes = alloc::vec![0u8; 6];
            bytes.extend_from_slice(digits);
            let expected = core::str::from_utf8(digits)
                .ok()
                .and_then(|t| u32::from_str_radix(t, 16).ok())
                .map(|v| v as usize);
            assert_eq!(hex_field(&bytes, 0, 0, "f").ok(), expected, "{digits:?}");
        }
    }
}
