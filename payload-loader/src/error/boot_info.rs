//! Messages for boot-info builder, screen and decoder errors.

use core::fmt;

use super::{Error, elsewhere};

/// Values a boot-info builder cannot write: too wide, too short, a NUL.
pub(super) fn builder(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        FieldTooLarge { field, value, max } => {
            write!(
                f,
                "{} 0x{:x} exceeds its maximum 0x{:x}",
                *field, *value, *max
            )
        }
        RsdpTooShort { len, need } => {
            write!(f, "RSDP is {} bytes, its revision needs {}", *len, *need)
        }
        NulInString { field, at } => write!(f, "{} contains a NUL byte at {}", *field, *at),
        other => elsewhere(other, f),
    }
}

/// A kernel's video mode request baton cannot meet.
pub(super) fn screen(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        VideoModeUnavailable {
            source,
            graphics,
            width,
            height,
            depth,
            available,
        } => {
            let any = |n: u32| match n {
                0 => "any".into(),
                n => alloc::format!("{n}"),
            };
            let mode = match (*width, *height, *depth) {
                (0, 0, 0) => "of any size".into(),
                (w, h, d) => alloc::format!("{}x{}x{}", any(w), any(h), any(d)),
            };
            let kind = if *graphics {
                "a graphics"
            } else {
                "an EGA text"
            };
            write!(
                f,
                "the kernel's {} requires {} mode {} and baton sets no modes: ",
                *source, kind, mode
            )?;
            match available {
                Some(d) => write!(f, "the firmware left {}", *d),
                None => write!(f, "the firmware left no screen"),
            }
        }
        other => elsewhere(other, f),
    }
}

/// Boot-info decoders (tests and the firmware reading its own handoff).
pub(super) fn decoder(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        DecodeOutOfBounds {
            field,
            addr,
            len,
            base,
            blob_len,
        } => write!(
            f,
            "{} [0x{:x}..+0x{:x}) is outside the blob [0x{:x}..+0x{:x})",
            *field, *addr, *len, *base, *blob_len
        ),
        DecodeBadValue { field, value } => {
            write!(f, "{} has unexpected value 0x{:x}", *field, *value)
        }
        other => elsewhere(other, f),
    }
}
