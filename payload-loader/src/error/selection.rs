//! Messages for protocol-selection errors.

use core::fmt;

use super::{Error, elsewhere};

/// Choosing the entry protocol: the override, plain ELF64, ET_DYN.
pub(super) fn protocol(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Error::*;
    match e {
        ProtocolNotPresent { protocol } => write!(
            f,
            "protocol override {}: the image carries no such header or note",
            *protocol
        ),
        PlainElfNeeds64 { class_bits } => write!(
            f,
            "plain ELF entry needs an ELF64 image, this is ELF{} without a PVH note or Multiboot header",
            *class_bits
        ),
        DynNotAllowed { protocol } => write!(
            f,
            "ET_DYN image cannot be entered by {} (only plain ELF64 or a relocatable Multiboot2 header)",
            *protocol
        ),
        other => elsewhere(other, f),
    }
}
