//! The common header of every system description table, and the checks
//! every table passes before it is read: readable, a sane length, a zero
//! checksum, the expected signature.

use alloc::vec::Vec;

use super::error::{AcpiError, Signature};
use crate::support::phys::{PhysMemory, le_u32};

/// Bytes in a system description table's header.
pub const HEADER_SIZE: usize = 36;
/// No table is larger (real DSDTs are well under 1 MiB).
pub const MAX_TABLE: u32 = 4 << 20;

/// A validated table: where it is and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRef {
    /// The table's signature.
    pub signature: [u8; 4],
    /// Its physical address.
    pub addr: u64,
    /// Its length in bytes, from its header.
    pub length: u32,
    /// Its revision, from its header.
    pub revision: u8,
}

impl TableRef {
    /// The signature, printable.
    pub fn name(&self) -> Signature {
        Signature(self.signature)
    }
}

/// A table copied out of memory.
pub struct Table {
    /// Its physical address.
    pub addr: u64,
    /// The whole table, header included.
    pub bytes: Vec<u8>,
}

impl Table {
    /// The table's signature (its first four bytes).
    pub fn signature(&self) -> [u8; 4] {
        // One range check, not one per byte (saves 128 bytes).
        let mut signature = [0; 4];
        signature.copy_from_slice(&self.bytes[..4]);
        signature
    }

    /// Where the table is and what it is, without its bytes.
    pub fn reference(&self) -> TableRef {
        TableRef {
            signature: self.signature(),
            addr: self.addr,
            length: self.bytes.len() as u32,
            revision: self.bytes[8],
        }
    }
}

/// The byte sum of `bytes`: zero for a valid ACPI table.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b))
}

/// Reads and validates the table at `addr`.
pub fn read_table(
    mem: &impl PhysMemory,
    addr: u64,
    expect: Option<[u8; 4]>,
) -> Result<Table, AcpiError> {
    let mut header = [0u8; HEADER_SIZE];
    mem.read(addr, &mut header)
        .map_err(|at| AcpiError::Unreadable {
            what: "ACPI table header",
            at,
        })?;
    let signature = Signature([header[0], header[1], header[2], header[3]]);
    if let Some(expected) = expect
        && signature.0 != expected
    {
        return Err(AcpiError::WrongSignature {
            addr,
            expected: Signature(expected),
            found: signature,
        });
    }
    let length = le_u32(&header, 4);
    if length < HEADER_SIZE as u32 {
        return Err(AcpiError::TableTooShort {
            signature,
            addr,
            length,
            min: HEADER_SIZE as u32,
        });
    }
    if length > MAX_TABLE {
        return Err(AcpiError::TableTooLong {
            signature,
            addr,
            length,
            max: MAX_TABLE,
        });
    }
    let mut bytes = alloc::vec![0u8; length as usize];
    mem.read(addr, &mut bytes)
        .map_err(|at| AcpiError::TableUnreadable { signature, at })?;
    let sum = checksum(&bytes);
    if sum != 0 {
        return Err(AcpiError::TableChecksum {
            signature,
            addr,
            length,
            sum,
        });
    }
    Ok(Table { addr, bytes })
}
