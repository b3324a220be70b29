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
            let kind = if *graphics {
                "a graphics"
            } else {
                "an EGA text"
            };
            write!(f, "the kernel's {} requires {} mode ", *source, kind)?;
            // Written piece by piece, not built with `format!`: no Strings to allocate.
            if (*width, *height, *depth) == (0, 0, 0) {
                f.write_str("of any size")?;
            } else {
                for (i, n) in [*width, *height, *depth].into_iter().enumerate() {
                    if i > 0 {
                        f.write_str("x")?;
                    }
                    match n {
                        0 => f.write_str("any")?,
                        n => fmt::Display::fmt(&n, f)?,
                    }
                }
            }
            f.write_str(" and baton sets no modes: ")?;
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
