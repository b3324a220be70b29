//! Messages for Multiboot1 and Multiboot2 header errors.

use core::fmt;

use super::{Error, elsewhere};

/// The Multiboot1 header: checksum, length, flags, address fields.
pub(super) fn multiboot1(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        Mb1Checksum {
            offset,
            magic,
            flags,
            checksum,
        } => write!(
            f,
            "Multiboot1 header at 0x{offset:x}: magic 0x{magic:08x} + flags 0x{flags:08x} + checksum 0x{checksum:08x} is not 0"
        ),
        Mb1Truncated {
            offset,
            need,
            file_len,
        } => write!(
            f,
            "Multiboot1 header at 0x{offset:x} needs {need} bytes but the file is {file_len} bytes"
        ),
        Mb1UnsupportedFlags { flags, unsupported } => write!(
            f,
            "Multiboot1 flags 0x{flags:08x} require unsupported features 0x{unsupported:08x}"
        ),
        Mb1BadAddress {
            field,
            value,
            detail,
            other,
        } => write!(f, "Multiboot1 {field} 0x{value:x} {detail} 0x{other:x}"),
        other => elsewhere(other, f),
    }
}

/// The Multiboot2 header: checksum, architecture, length, tags, address tag.
pub(super) fn multiboot2(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        Mb2Checksum { offset, sum } => write!(
            f,
            "Multiboot2 header at 0x{offset:x}: magic + architecture + header_length + checksum = 0x{sum:08x}, not 0"
        ),
        Mb2Architecture { architecture } => {
            write!(f, "Multiboot2 architecture {architecture} is not i386 (0)")
        }
        Mb2HeaderLength {
            offset,
            length,
            file_len,
        } => write!(
            f,
            "Multiboot2 header at 0x{offset:x}: header_length {length} is too small, unaligned or past the {file_len}-byte file"
        ),
        Mb2TagSize {
            tag,
            at,
            size,
            avail,
        } => write!(
            f,
            "Multiboot2 header tag type {tag} at 0x{at:x}: size {size} is wrong for its type or exceeds the {avail} bytes left"
        ),
        Mb2NoEndTag { offset } => {
            write!(f, "Multiboot2 header at 0x{offset:x} has no end tag")
        }
        Mb2UnsupportedTag { tag, at } => write!(
            f,
            "Multiboot2 header tag type {tag} at 0x{at:x} is required but not supported"
        ),
        Mb2UnsupportedRequest { request } => write!(
            f,
            "Multiboot2 information request for tag type {request} is required but not provided"
        ),
        Mb2BadAddress {
            field,
            value,
            detail,
            other,
        } => write!(f, "Multiboot2 {field} 0x{value:x} {detail} 0x{other:x}"),
        other => elsewhere(other, f),
    }
}
