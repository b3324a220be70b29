//! ACPI tables, checked before anything trusts them: the RSDP, the root
//! table, every table's header, length and checksum, and every MADT entry.
//! Only what passes reaches the topology, the FADT reader or the `acpi`
//! crate's AML interpreter (which loops forever on a zero-length MADT entry
//! and does not verify checksums).

pub mod fadt;
pub mod madt;
pub mod rsdp;
pub mod s5;
pub mod sdt;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::support::phys::{PhysMemory, Unreadable};
use crate::support::quote::Quoted;
pub use sdt::{Signature, TableRef};

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

/// Every table the root table lists that passed validation, with the
/// problems of those that did not.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    /// Physical address of the RSDP.
    pub rsdp: u64,
    /// The RSDP's revision (0: RSDT, 2: XSDT).
    pub revision: u8,
    /// "XSDT" or "RSDT".
    pub root: &'static str,
    /// The tables the RSDT/XSDT lists that passed their checks.
    pub tables: Vec<TableRef>,
    /// The DSDT (named by the FADT), if valid.
    pub dsdt: Option<TableRef>,
    /// The first valid MADT, copied out (header included).
    pub madt: Option<Vec<u8>>,
    /// The first valid FADT, parsed.
    pub fadt: Option<fadt::Fadt>,
    /// Tables left out, each with why.
    pub rejected: Vec<AcpiError>,
}

impl Tables {
    /// The first table with `signature`.
    pub fn find(&self, signature: &[u8; 4]) -> Option<&TableRef> {
        self.tables.iter().find(|t| &t.signature == signature)
    }

    /// Every table with `signature` (SSDTs come in numbers).
    pub fn all(&self, signature: &'static [u8; 4]) -> impl Iterator<Item = &TableRef> {
        self.tables
            .iter()
            .filter(move |t| &t.signature == signature)
    }
}

/// Most tables the root table may list.
pub const MAX_TABLES: usize = 256;

/// Reads the RSDP at `rsdp`, the XSDT (revision 2+) or RSDT, and validates
/// every table they list. A bad table is left out and reported in
/// `rejected`; a bad RSDP or root table is an error.
pub fn load(mem: &impl PhysMemory, rsdp: u64) -> Result<Tables, AcpiError> {
    let r = rsdp::Rsdp::read(mem, rsdp)?;
    let (root, signature, entry_size, root_addr) = match r.xsdt {
        Some(xsdt) => ("XSDT", *b"XSDT", 8, xsdt),
        None => ("RSDT", *b"RSDT", 4, u64::from(r.rsdt)),
    };
    let root_table = sdt::read_table(mem, root_addr, Some(signature))?;
    let body = &root_table.bytes[sdt::HEADER_SIZE..];
    let mut out = Tables {
        rsdp,
        revision: r.revision,
        root,
        ..Tables::default()
    };
    for entry in body.chunks_exact(entry_size).take(MAX_TABLES) {
        let addr = match entry_size {
            8 => crate::support::phys::le_u64(entry, 0),
            _ => u64::from(crate::support::phys::le_u32(entry, 0)),
        };
        match sdt::read_table(mem, addr, None) {
            Ok(t) => {
                let first_madt = out.find(b"APIC").map(|first| first.addr);
                out.tables.push(t.reference());
                match &t.signature() {
                    b"APIC" => match first_madt {
                        None => out.madt = Some(t.bytes),
                        Some(first) if first == addr => {}
                        Some(first) => out.rejected.push(AcpiError::SecondMadt {
                            addr,
                            first,
                            problem: madt::parse(&t.bytes, 0, false).err().map(Box::new),
                        }),
                    },
                    b"FACP" if out.fadt.is_none() => out.fadt = Some(fadt::Fadt::parse(&t.bytes)),
                    _ => {}
                }
            }
            Err(e) => out.rejected.push(e),
        }
    }
    if let Some(dsdt) = out.fadt.map(|f| f.dsdt).filter(|&d| d != 0) {
        match sdt::read_table(mem, dsdt, Some(*b"DSDT")) {
            Ok(t) => out.dsdt = Some(t.reference()),
            Err(e) => out.rejected.push(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
