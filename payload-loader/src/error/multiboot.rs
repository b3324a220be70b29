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
            "Multiboot1 header at 0x{:x}: magic 0x{:08x} + flags 0x{:08x} + checksum 0x{:08x} is not 0",
            *offset, *magic, *flags, *checksum
        ),
        Mb1Truncated {
            offset,
            need,
            file_len,
        } => write!(
            f,
            "Multiboot1 header at 0x{:x} needs {} bytes but the file is {} bytes",
            *offset, *need, *file_len
        ),
        Mb1UnsupportedFlags { flags, unsupported } => write!(
            f,
            "Multiboot1 flags 0x{:08x} require unsupported features 0x{:08x}",
            *flags, *unsupported
        ),
        Mb1BadAddress {
            field,
            value,
            detail,
            other,
        } => write!(
            f,
            "Multiboot1 {} 0x{:x} {} 0x{:x}",
            *field, *value, *detail, *other
        ),
        other => elsewhere(other, f),
    }
}

/// The Multiboot2 header: checksum, architecture, length, tags, address tag.
pub(super) fn multiboot2(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        Mb2Checksum { offset, sum } => write!(
            f,
            "Multiboot2 header at 0x{:x}: magic + architecture + header_length + checksum = 0x{:08x}, not 0",
            *offset, *sum
        ),
        Mb2Architecture { architecture } => {
            write!(
                f,
                "Multiboot2 architecture {} is not i386 (0)",
                *architecture
            )
        }
        Mb2HeaderLength {
            offset,
            length,
            file_len,
        } => write!(
            f,
            "Multiboot2 header at 0x{:x}: header_length {} is too small, unaligned or past the {}-byte file",
            *offset, *length, *file_len
        ),
        Mb2TagSize {
            tag,
            at,
            size,
            avail,
        } => write!(
            f,
            "Multiboot2 header tag type {} at 0x{:x}: size {} is wrong for its type or exceeds the {} bytes left",
            *tag, *at, *size, *avail
        ),
        Mb2NoEndTag { offset } => {
            write!(f, "Multiboot2 header at 0x{:x} has no end tag", *offset)
        }
        Mb2UnsupportedTag { tag, at } => write!(
            f,
            "Multiboot2 header tag type {} at 0x{:x} is required but not supported",
            *tag, *at
        ),
        Mb2UnsupportedRequest { request } => write!(
            f,
            "Multiboot2 information request for tag type {} is required but not provided",
            *request
        ),
        Mb2BadAddress {
            field,
            value,
            detail,
            other,
        } => write!(
            f,
            "Multiboot2 {} 0x{:x} {} 0x{:x}",
            *field, *value, *detail, *other
        ),
        other => elsewhere(other, f),
    }
}
