//! The FADT fields baton uses: the DSDT, the PM1 control blocks (for
//! sleep state S5, power-off) and the reset register. Only fields inside
//! the table's length are read: QEMU `pc` has a 116-byte revision-1 FADT
//! with no reset register and no 64-bit fields.

use crate::support::phys::{le_u32, le_u64};

/// An ACPI Generic Address Structure, reduced to what baton can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// A port-I/O register: its port and access width in bits.
    Io {
        /// The I/O port.
        port: u16,
        /// Access width in bits.
        width: u8,
    },
    /// A memory-mapped register: its address and access width in bits.
    Memory {
        /// The physical address.
        address: u64,
        /// Access width in bits.
        width: u8,
    },
}

impl core::fmt::Display for Register {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Register::Io { port, width } => write!(f, "I/O port {port:#x} ({width} bytes)"),
            Register::Memory { address, width } => {
                write!(f, "memory {address:#x} ({width} bytes)")
            }
        }
    }
}

/// The FADT's reset register (`RESET_REG`) and the value to write to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResetRegister {
    /// Where to write.
    pub register: Register,
    /// What to write.
    pub value: u8,
}

/// What baton reads from the FADT: reset, PM1 control, SCI and the DSDT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fadt {
    /// The FADT's revision.
    pub revision: u8,
    /// The FADT's length in bytes (QEMU pc's revision 1 has 116).
    pub length: usize,
    /// The DSDT's physical address (X_DSDT when present).
    pub dsdt: u64,
    /// The SCI's interrupt.
    pub sci_interrupt: u16,
    /// The SMI command port (0: ACPI mode is always on).
    pub smi_command: u32,
    /// The value that switches ACPI mode on through `smi_command`.
    pub acpi_enable: u8,
    /// PM1a control block (sleep type and enable).
    pub pm1a_control: Option<Register>,
    /// PM1b control block, if the machine has one.
    pub pm1b_control: Option<Register>,
    /// The reset register, when the FADT offers one.
    pub reset: Option<ResetRegister>,
    /// HW_REDUCED_ACPI: no fixed hardware (no PM1 blocks).
    pub hardware_reduced: bool,
    /// Hardware-reduced ACPI (microvm): the sleep control register that
    /// replaces PM1 control (ACPI 5.0+, offset 244).
    pub sleep_control: Option<Register>,
}

/// SLP_EN in PM1 control, and in the hardware-reduced sleep control register.
const PM1_SLP_EN: u64 = 1 << 13;
const SLEEP_CONTROL_SLP_EN: u64 = 1 << 5;

const FLAG_RESET_REG_SUP: u32 = 1 << 10;
const FLAG_HW_REDUCED_ACPI: u32 = 1 << 20;

impl Fadt {
    /// The register writes that enter sleep state S5 with `\_S5`'s
    /// SLP_TYPa and SLP_TYPb, in order: PM1b before PM1a (writing PM1a is
    /// what powers off), or the hardware-reduced sleep control register.
    pub fn s5_writes(
        &self,
        slp_typ_a: u8,
        slp_typ_b: u8,
    ) -> Result<alloc::vec::Vec<(Register, u64)>, &'static str> {
        if self.hardware_reduced {
            let control = self
                .sleep_control
                .ok_or("hardware-reduced FADT without a sleep control register")?;
            return Ok(alloc::vec![(
                control,
                (u64::from(slp_typ_a & 7) << 2) | SLEEP_CONTROL_SLP_EN
            )]);
        }
        let pm1a = self
            .pm1a_control
            .ok_or("no PM1a control block in the FADT")?;
        let mut writes = alloc::vec::Vec::new();
        if let Some(pm1b) = self.pm1b_control {
            writes.push((pm1b, (u64::from(slp_typ_b) << 10) | PM1_SLP_EN));
        }
        writes.push((pm1a, (u64::from(slp_typ_a) << 10) | PM1_SLP_EN));
        Ok(writes)
    }

    /// Reads a validated FADT (header included); absent fields stay None.
    pub fn parse(t: &[u8]) -> Self {
        let u8_at = |o: usize| t.get(o).copied();
        let u16_at = |o: usize| t.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        let u32_at = |o: usize| (t.len() >= o + 4).then(|| le_u32(t, o));
        let u64_at = |o: usize| (t.len() >= o + 8).then(|| le_u64(t, o));
        let gas = |o: usize| -> Option<Register> {
            let g = t.get(o..o + 12)?;
            let address = le_u64(g, 4);
            let width = match g[3] {
                1 => 1,
                2 => 2,
                3 => 4,
                4 => 8,
                _ => g[1] / 8, // access size "undefined": fall back to the bit width
            };
            match (g[0], address) {
                (_, 0) => None,
                (0, a) => Some(Register::Memory { address: a, width }),
                (1, a) => Some(Register::Io {
                    port: u16::try_from(a).ok()?,
                    width,
                }),
                _ => None,
            }
        };
        let flags = u32_at(112).unwrap_or(0);
        let io_block = |o: usize, len: Option<u8>| {
            u32_at(o)
                .filter(|&p| p != 0)
                .and_then(|p| u16::try_from(p).ok())
                .map(|port| Register::Io {
                    port,
                    width: len.unwrap_or(2).min(4),
                })
        };
        let control_len = u8_at(89);
        let revision = u8_at(8).unwrap_or(0);
        Self {
            revision,
            length: t.len(),
            dsdt: u64_at(140)
                .filter(|&d| d != 0)
                .or(u32_at(40).map(u64::from))
                .unwrap_or(0),
            sci_interrupt: u16_at(46).unwrap_or(0),
            smi_command: u32_at(48).unwrap_or(0),
            acpi_enable: u8_at(52).unwrap_or(0),
            pm1a_control: gas(172).or_else(|| io_block(64, control_len)),
            pm1b_control: gas(184).or_else(|| io_block(68, control_len)),
            reset: (flags & FLAG_RESET_REG_SUP != 0)
                .then(|| {
                    Some(ResetRegister {
                        register: gas(116)?,
                        value: u8_at(128)?,
                    })
                })
                .flatten(),
            hardware_reduced: flags & FLAG_HW_REDUCED_ACPI != 0,
            sleep_control: gas(244),
        }
    }
}
