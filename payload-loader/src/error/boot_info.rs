//! Messages for boot-info builder, screen and decoder errors.

use core::fmt;

use super::{Error, elsewhere};

/// Values a boot-info builder cannot write: too wide, too short, a NUL.
pub(super) fn builder(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        FieldTooLarge { field, value, max } => {
            write!(f, "{field} 0x{value:x} exceeds its maximum 0x{max:x}")
        }
        RsdpTooShort { len, need } => {
            write!(f, "RSDP is {len} bytes, its revision needs {need}")
        }
        NulInString { field, at } => write!(f, "{field} contains a NUL byte at {at}"),
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
                "the kernel's {source} requires {kind} mode {mode} and baton sets no modes: "
            )?;
            match available {
                Some(d) => write!(f, "the firmware left {d}"),
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
            "{field} [0x{addr:x}..+0x{len:x}) is outside the blob [0x{base:x}..+0x{blob_len:x})"
        ),
        DecodeBadValue { field, value } => {
            write!(f, "{field} has unexpected value 0x{value:x}")
        }
        other => elsewhere(other, f),
    }
}
