//! Local APIC facts that need no register: which mode to run in, how an
//! IPI is encoded in the ICR, what the error status register says.

use alloc::string::String;

/// The highest APIC ID xAPIC mode can address (0xff is its broadcast).
pub const XAPIC_MAX_ID: u32 = 0xfe;

/// How the local APIC is driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Memory-mapped registers, 8-bit destinations.
    XApic,
    /// MSR registers, 32-bit destinations.
    X2Apic,
}

impl core::fmt::Display for Mode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Mode::XApic => "XApic",
            Mode::X2Apic => "X2Apic",
        })
    }
}

/// What the configuration asks for (`apic=` on baton's command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Preference {
    /// x2APIC when an APIC ID needs it or the BSP is already in it.
    #[default]
    Auto,
    /// x2APIC mode whenever the CPU has it (`apic=x2apic`).
    X2Apic,
}

/// Picks the LAPIC mode. x2APIC mode cannot be left without a reset, so a
/// BSP that arrives in it stays in it.
pub fn choose_mode(
    cpu_has_x2apic: bool,
    bsp_in_x2apic: bool,
    highest_apic_id: u32,
    preference: Preference,
) -> Mode {
    let wanted =
        bsp_in_x2apic || highest_apic_id > XAPIC_MAX_ID || preference == Preference::X2Apic;
    if cpu_has_x2apic && wanted {
        Mode::X2Apic
    } else {
        Mode::XApic
    }
}

/// An inter-processor interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipi {
    /// INIT, level asserted.
    InitAssert,
    /// Only exists in xAPIC mode; x2APIC has no INIT level de-assert.
    InitDeassert,
    /// Start-up IPI: the AP begins in real mode at `page * 4096`.
    Startup {
        /// The trampoline's page number.
        page: u8,
    },
    /// A non-maskable interrupt.
    Nmi,
    /// A fixed interrupt with its vector.
    Fixed {
        /// The interrupt vector.
        vector: u8,
    },
}

impl core::fmt::Display for Ipi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Ipi::InitAssert => f.write_str("INIT"),
            Ipi::InitDeassert => f.write_str("INIT de-assert"),
            Ipi::Startup { page } => write!(f, "SIPI (page {page:#x})"),
            Ipi::Nmi => f.write_str("NMI"),
            Ipi::Fixed { vector } => write!(f, "IPI vector {vector:#x}"),
        }
    }
}

const DELIVERY_FIXED: u32 = 0b000 << 8;
const DELIVERY_NMI: u32 = 0b100 << 8;
const DELIVERY_INIT: u32 = 0b101 << 8;
const DELIVERY_STARTUP: u32 = 0b110 << 8;
const LEVEL_ASSERT: u32 = 1 << 14;
const TRIGGER_LEVEL: u32 = 1 << 15;
/// xAPIC ICR bit 12: the previous IPI is still being sent.
pub const ICR_SEND_PENDING: u32 = 1 << 12;

/// The ICR low word for `ipi` (physical destination, no shorthand), or
/// None when the mode has no such IPI.
pub fn icr_low(ipi: Ipi, mode: Mode) -> Option<u32> {
    Some(match ipi {
        Ipi::InitAssert => DELIVERY_INIT | LEVEL_ASSERT | TRIGGER_LEVEL,
        Ipi::InitDeassert if mode == Mode::X2Apic => return None,
        Ipi::InitDeassert => DELIVERY_INIT | TRIGGER_LEVEL,
        Ipi::Startup { page } => DELIVERY_STARTUP | LEVEL_ASSERT | u32::from(page),
        Ipi::Nmi => DELIVERY_NMI | LEVEL_ASSERT,
        Ipi::Fixed { vector } => DELIVERY_FIXED | LEVEL_ASSERT | u32::from(vector),
    })
}

/// The ICR high word (xAPIC: destination in bits 24..31) or the high half
/// of the 64-bit x2APIC ICR (the whole 32-bit destination). None when the
/// destination cannot be addressed in this mode.
pub fn icr_destination(apic_id: u32, mode: Mode) -> Option<u32> {
    match mode {
        Mode::X2Apic => Some(apic_id),
        Mode::XApic if apic_id <= XAPIC_MAX_ID => Some(apic_id << 24),
        Mode::XApic => None,
    }
}

/// The error status register's bits, named (SDM vol. 3, "Error Handling").
pub fn describe_esr(esr: u32) -> String {
    const BITS: [(u32, &str); 8] = [
        (0, "send checksum"),
        (1, "receive checksum"),
        (2, "send accept"),
        (3, "receive accept"),
        (4, "redirectable IPI"),
        (5, "send illegal vector"),
        (6, "received illegal vector"),
        (7, "illegal register address"),
    ];
    let mut text = alloc::format!("{esr:#x}");
    let number_only = text.len();
    let named = BITS.iter().filter(|(bit, _)| esr & (1 << bit) != 0);
    for (i, (_, name)) in named.enumerate() {
        text.push_str(if i == 0 { " (" } else { ", " });
        text.push_str(name);
    }
    if text.len() > number_only {
        text.push(')');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_follows_ids_bsp_and_preference() {
        assert_eq!(choose_mode(true, false, 3, Preference::Auto), Mode::XApic);
        assert_eq!(
            choose_mode(true, false, 0xfe, Preference::Auto),
            Mode::XApic
        );
        assert_eq!(
            choose_mode(true, false, 0xff, Preference::Auto),
            Mode::X2Apic
        );
        assert_eq!(choose_mode(true, true, 3, Preference::Auto), Mode::X2Apic);
        assert_eq!(
            choose_mode(true, false, 3, Preference::X2Apic),
            Mode::X2Apic
        );
        // Without x2APIC in the CPU there is no choice.
        assert_eq!(
            choose_mode(false, false, 0x120, Preference::X2Apic),
            Mode::XApic
        );
    }

    #[test]
    fn icr_encodings_match_the_sdm() {
        // Values Linux and coreboot write: INIT assert 0xc500, de-assert
        // 0x8500, SIPI 0x4600 | page, NMI 0x4400.
        let x = Mode::XApic;
        assert_eq!(icr_low(Ipi::InitAssert, x), Some(0xc500));
        assert_eq!(icr_low(Ipi::InitDeassert, x), Some(0x8500));
        assert_eq!(icr_low(Ipi::Startup { page: 0x9f }, x), Some(0x469f));
        assert_eq!(icr_low(Ipi::Nmi, x), Some(0x4400));
        assert_eq!(icr_low(Ipi::Fixed { vector: 0xf0 }, x), Some(0x40f0));
        assert_eq!(icr_low(Ipi::InitDeassert, Mode::X2Apic), None);
        assert_eq!(icr_destination(5, x), Some(0x0500_0000));
        assert_eq!(icr_destination(0xff, x), None);
        assert_eq!(icr_destination(0x11f, Mode::X2Apic), Some(0x11f));
    }

    #[test]
    fn esr_names_its_bits() {
        assert_eq!(describe_esr(0), "0x0");
        assert_eq!(
            describe_esr(0x24),
            "0x24 (send accept, send illegal vector)"
        );
        assert_eq!(describe_esr(0x180), "0x180 (illegal register address)");
        assert_eq!(describe_esr(0x100), "0x100");
    }
}
