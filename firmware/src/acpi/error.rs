//! What can go wrong reading the ACPI tables, shared by every parser here,
//! and the table signature the errors name.

use alloc::boxed::Box;
use core::fmt;

use crate::support::phys::Unreadable;
use crate::support::quote::Quoted;

/// Why the ACPI tables could not be read or trusted; each names the table and
/// numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// No RSDP from the boot information nor in the BIOS areas.
    RsdpNotFound,
    /// The RSDP's checksum (of the part named) does not add up to zero.
    RsdpChecksum {
        /// The structure's physical address.
        addr: u64,
        /// Which checksum: the ACPI 1.0 part or the extended one.
        part: &'static str,
        /// The byte sum found (0 when valid).
        sum: u8,
    },
    /// No `RSD PTR ` signature at the address given for the RSDP.
    RsdpBadSignature {
        /// The structure's physical address.
        addr: u64,
    },
    /// A structure could not be read from physical memory.
    Unreadable {
        /// What was being read.
        what: &'static str,
        /// The bytes that could not be read.
        at: Unreadable,
    },
    /// A table's bytes could not be read from physical memory.
    TableUnreadable {
        /// The table's signature.
        signature: Signature,
        /// The bytes that could not be read.
        at: Unreadable,
    },
    /// A table shorter than its header or its fixed fields.
    TableTooShort {
        /// The table's signature.
        signature: Signature,
        /// The structure's physical address.
        addr: u64,
        /// The length its header gives.
        length: u32,
        /// The least length the table needs.
        min: u32,
    },
    /// A table longer than baton accepts.
    TableTooLong {
        /// The table's signature.
        signature: Signature,
        /// The structure's physical address.
        addr: u64,
        /// The length its header gives.
        length: u32,
        /// The most baton accepts.
        max: u32,
    },
    /// A table whose checksum does not add up to zero.
    TableChecksum {
        /// The table's signature.
        signature: Signature,
        /// The structure's physical address.
        addr: u64,
        /// The length its header gives.
        length: u32,
        /// The byte sum found (0 when valid).
        sum: u8,
    },
    /// A table with another signature than the pointer to it promised.
    WrongSignature {
        /// The structure's physical address.
        addr: u64,
        /// The signature the pointer promised.
        expected: Signature,
        /// The signature found there.
        found: Signature,
    },
    /// A table baton needs is not there.
    Missing {
        /// The missing table's signature.
        signature: &'static str,
    },
    /// ACPI allows one MADT; another is left out, and said so, with what
    /// is wrong in it besides.
    SecondMadt {
        /// The MADT left out.
        addr: u64,
        /// The MADT in use.
        first: u64,
        /// What is wrong with the one left out, besides.
        problem: Option<Box<AcpiError>>,
    },
    /// A MADT entry that is malformed (its index, offset and what is wrong).
    MadtEntry {
        /// The entry's index.
        index: usize,
        /// Its offset in the MADT.
        offset: usize,
        /// Its type.
        kind: u8,
        /// Its length field.
        length: u8,
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for AcpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RsdpNotFound => {
                f.write_str("no RSDP: none given at entry, none in the EBDA or 0xe0000..0x100000")
            }
            Self::RsdpChecksum { addr, part, sum } => {
                write!(f, "RSDP at {addr:#x}: {part} checksum is {sum:#04x}, not 0")
            }
            Self::RsdpBadSignature { addr } => {
                write!(f, "RSDP at {addr:#x}: no \"RSD PTR \" signature")
            }
            Self::Unreadable { what, at } => write!(f, "{what}: {at}"),
            Self::TableUnreadable { signature, at } => write!(f, "{signature} table: {at}"),
            Self::TableTooShort {
                signature,
                addr,
                length,
                min,
            } => {
                write!(
                    f,
                    "{signature} at {addr:#x}: length {length} is below the minimum {min}"
                )
            }
            Self::TableTooLong {
                signature,
                addr,
                length,
                max,
            } => {
                write!(
                    f,
                    "{signature} at {addr:#x}: length {length} is above the limit {max}"
                )
            }
            Self::TableChecksum {
                signature,
                addr,
                length,
                sum,
            } => {
                write!(
                    f,
                    "{signature} at {addr:#x} ({length} bytes): checksum is {sum:#04x}, not 0"
                )
            }
            Self::WrongSignature {
                addr,
                expected,
                found,
            } => {
                write!(
                    f,
                    "table at {addr:#x}: signature {}, expected {}",
                    Quoted(&found.printable()),
                    Quoted(&expected.printable())
                )
            }
            Self::Missing { signature } => write!(f, "no {signature} table"),
            Self::SecondMadt {
                addr,
                first,
                problem,
            } => {
                write!(
                    f,
                    "APIC at {addr:#x}: a second MADT (ACPI allows one; the first, at {first:#x}, is used)"
                )?;
                match problem {
                    Some(e) => write!(f, "; it is malformed besides: {e}"),
                    None => Ok(()),
                }
            }
            Self::MadtEntry {
                index,
                offset,
                kind,
                length,
                reason,
            } => write!(
                f,
                "MADT entry {index} (type {kind}, length {length}) at offset {offset}: {reason}"
            ),
        }
    }
}

/// A table's four signature bytes as they are printed: each byte that is
/// not graphic ASCII as `?`. Errors keep the bytes, not a `String`: no
/// allocation where a table is refused, and an `AcpiError` has nothing to
/// free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature(pub [u8; 4]);

impl Signature {
    /// The bytes `Display` writes.
    pub fn printable(&self) -> [u8; 4] {
        self.0.map(|b| if b.is_ascii_graphic() { b } else { b'?' })
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.printable()
            .iter()
            .try_for_each(|&b| fmt::Write::write_char(f, b.into()))
    }
}

#[cfg(test)]
impl PartialEq<str> for Signature {
    fn eq(&self, other: &str) -> bool {
        self.printable() == other.as_bytes()
    }
}
