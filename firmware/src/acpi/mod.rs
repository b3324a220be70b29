//! ACPI tables, checked before anything trusts them: the RSDP, the root
//! table, every table's header, length and checksum, and every MADT entry.
//! Only what passes reaches the topology, the FADT reader or the `acpi`
//! crate's AML interpreter (which loops forever on a zero-length MADT entry
//! and does not verify checksums).

pub mod error;
pub mod fadt;
pub mod madt;
pub mod rsdp;
pub mod s5;
pub mod sdt;

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::support::phys::PhysMemory;
pub use error::{AcpiError, Signature};
pub use sdt::TableRef;

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
