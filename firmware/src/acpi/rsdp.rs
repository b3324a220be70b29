//! The RSDP: given by the entry protocol, or found by the legacy scan of
//! the EBDA's first KiB and 0xe0000..0x100000 on 16-byte boundaries.

use super::error::{AcpiError, Signature};
use super::sdt::checksum;
use crate::support::phys::{PhysMemory, le_u32, le_u64};

/// The RSDP's signature.
pub const SIGNATURE: &[u8; 8] = b"RSD PTR ";
const V1_SIZE: usize = 20;
const V2_SIZE: usize = 36;

/// The Root System Description Pointer: where the RSDT or XSDT is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rsdp {
    /// Its physical address.
    pub addr: u64,
    /// 0 for ACPI 1.0 (RSDT only), 2 and up with the XSDT.
    pub revision: u8,
    /// Physical address of the RSDT.
    pub rsdt: u32,
    /// The XSDT, for revision 2 and later when it is non-zero.
    pub xsdt: Option<u64>,
}

impl Rsdp {
    /// Reads and checks the RSDP at `addr` (both checksums for revision 2).
    pub fn read(mem: &impl PhysMemory, addr: u64) -> Result<Self, AcpiError> {
        let mut raw = [0u8; V2_SIZE];
        mem.read(addr, &mut raw[..V1_SIZE])
            .map_err(|at| AcpiError::Unreadable { what: "RSDP", at })?;
        if &raw[0..8] != SIGNATURE {
            return Err(AcpiError::RsdpBadSignature { addr });
        }
        let sum = checksum(&raw[..V1_SIZE]);
        if sum != 0 {
            return Err(AcpiError::RsdpChecksum {
                addr,
                part: "first 20 bytes",
                sum,
            });
        }
        let revision = raw[15];
        let rsdt = le_u32(&raw, 16);
        if revision < 2 {
            return Ok(Self {
                addr,
                revision,
                rsdt,
                xsdt: None,
            });
        }
        mem.read(addr, &mut raw)
            .map_err(|at| AcpiError::Unreadable {
                what: "RSDP 2.0",
                at,
            })?;
        let length = le_u32(&raw, 20) as usize;
        if length < V2_SIZE {
            return Err(AcpiError::TableTooShort {
                signature: Signature(*b"RSDP"),
                addr,
                length: length as u32,
                min: V2_SIZE as u32,
            });
        }
        let sum = checksum(&raw[..V2_SIZE]);
        if sum != 0 {
            return Err(AcpiError::RsdpChecksum {
                addr,
                part: "extended",
                sum,
            });
        }
        let xsdt = le_u64(&raw, 24);
        Ok(Self {
            addr,
            revision,
            rsdt,
            xsdt: (xsdt != 0).then_some(xsdt),
        })
    }
}

/// The legacy search: the first KiB of the EBDA (segment at 0x40e), then
/// the BIOS area 0xe0000..0x100000. The first valid RSDP wins.
pub fn scan(mem: &impl PhysMemory) -> Result<Rsdp, AcpiError> {
    let mut ebda = [0u8; 2];
    let ebda = mem
        .read(0x40e, &mut ebda)
        .ok()
        .map(|_| u64::from(u16::from_le_bytes(ebda)) << 4);
    // No usable EBDA is an empty range, not a `None` to flatten away
    // (saves 192 bytes).
    let areas = [
        ebda.filter(|&e| e >= 0x400).map_or(0..0, |e| e..e + 1024),
        0xe_0000..0x10_0000,
    ];
    for area in areas {
        for addr in area.step_by(16) {
            let mut sig = [0u8; 8];
            if mem.read(addr, &mut sig).is_ok()
                && &sig == SIGNATURE
                && let Ok(rsdp) = Rsdp::read(mem, addr)
            {
                return Ok(rsdp);
            }
        }
    }
    Err(AcpiError::RsdpNotFound)
}
