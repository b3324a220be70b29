//! The local APIC, in xAPIC mode (registers in memory at the MADT's
//! address) or x2APIC mode (the same registers as MSRs 0x800 + offset/16),
//! chosen once by the BSP for every CPU. What an IPI looks like in the ICR
//! is decided in `baton::smp::apic`; here it is written and checked.

use alloc::vec::Vec;
use baton::acpi::madt::LapicNmi;
use baton::smp::apic::{ICR_SEND_PENDING, Ipi, Mode, describe_esr, icr_destination, icr_low};
use spin::Once;
use x86_64::registers::model_specific::Msr;

use crate::machine::platform::tsc;

const IA32_APIC_BASE: u32 = 0x1b;
const BASE_ENABLE: u64 = 1 << 11;
const BASE_X2APIC: u64 = 1 << 10;

const REG_ID: u32 = 0x20;
const REG_EOI: u32 = 0xb0;
const REG_SVR: u32 = 0xf0;
const REG_LVT_LINT0: u32 = 0x350;
const REG_LVT_LINT1: u32 = 0x360;
const REG_ESR: u32 = 0x280;
const REG_ICR_LOW: u32 = 0x300;
const REG_ICR_HIGH: u32 = 0x310;
const SVR_ENABLE: u32 = 1 << 8;
/// ESR bits that mean an IPI went wrong (bit 4, redirectable, is not ours).
const ESR_SEND_ERRORS: u32 = 0xef;

/// Vector of the IPI that wakes a HLT-parked AP.
pub const WAKE_VECTOR: u8 = 0xf0;
/// Vector the LAPIC uses for spurious interrupts (no EOI for it).
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// How long a CPU may take to accept an IPI (xAPIC's send-pending bit).
const SEND_TIMEOUT_US: u64 = 100_000;

#[derive(Debug)]
pub struct Lapic {
    mode: Mode,
    /// xAPIC register base (identity-mapped); unused in x2APIC mode.
    mmio: u64,
}

#[derive(Clone, Copy, Debug)]
pub enum IpiError {
    /// The mode cannot express this IPI or this destination.
    Unaddressable,
    /// The ICR still said "send pending" after the timeout.
    StillPending,
    /// The error status register reported a failure.
    Esr(u32),
}

/// An IPI that failed, with where it was going.
#[derive(Clone, Copy, Debug)]
pub struct SendError {
    pub apic_id: u32,
    pub ipi: Ipi,
    pub error: IpiError,
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} to APIC ID {:#x}: ", self.ipi, self.apic_id)?;
        match self.error {
            IpiError::Unaddressable => f.write_str("not addressable in this APIC mode"),
            IpiError::StillPending => {
                write!(f, "still pending after {} ms", SEND_TIMEOUT_US / 1000)
            }
            IpiError::Esr(esr) => write!(f, "error status {}", describe_esr(esr)),
        }
    }
}

static LAPIC: Once<Lapic> = Once::new();

/// The LAPIC as the BSP configured it, once it has.
pub fn get() -> Option<&'static Lapic> {
    LAPIC.get()
}

/// Sets the mode for every CPU (first call wins) and enables the BSP's LAPIC.
pub fn init(mode: Mode, mmio: u64) -> &'static Lapic {
    let lapic = LAPIC.call_once(|| Lapic { mode, mmio });
    lapic.enable_here();
    lapic
}

/// The LAPIC as the BSP configured it, or, where no stage did (no MADT),
/// the mode and address the calling CPU's IA32_APIC_BASE says.
pub fn get_or_init_as_found() -> &'static Lapic {
    LAPIC.get().unwrap_or_else(|| {
        let mode = if in_x2apic_mode() {
            Mode::X2Apic
        } else {
            Mode::XApic
        };
        // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
        let base = unsafe { Msr::new(IA32_APIC_BASE).read() } & 0xf_ffff_f000;
        init(mode, base)
    })
}

/// In x2APIC mode per the IA32_APIC_BASE MSR of the calling CPU.
pub fn in_x2apic_mode() -> bool {
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    unsafe { Msr::new(IA32_APIC_BASE).read() & BASE_X2APIC != 0 }
}

impl Lapic {
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The xAPIC registers' physical base.
    pub fn mmio(&self) -> u64 {
        self.mmio
    }

    fn read(&self, reg: u32) -> u32 {
        // SAFETY: a LAPIC register, in the mode enabled on every CPU by
        // `enable_here` (MSR in x2APIC mode, identity-mapped MMIO else).
        unsafe {
            match self.mode {
                Mode::X2Apic => Msr::new(0x800 + (reg >> 4)).read() as u32,
                Mode::XApic => ((self.mmio + u64::from(reg)) as *const u32).read_volatile(),
            }
        }
    }

    fn write(&self, reg: u32, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            match self.mode {
                Mode::X2Apic => Msr::new(0x800 + (reg >> 4)).write(value.into()),
                Mode::XApic => ((self.mmio + u64::from(reg)) as *mut u32).write_volatile(value),
            }
        }
    }

    /// Enables the calling CPU's LAPIC in the chosen mode (x2APIC needs
    /// xAPIC enabled first) with the spurious vector set.
    pub fn enable_here(&self) {
        let mut base = Msr::new(IA32_APIC_BASE);
        // SAFETY: architectural MSR; the sequence EN, then EN|EXTD is the
        // documented way into x2APIC mode.
        unsafe {
            let value = base.read();
            if value & BASE_ENABLE == 0 {
                base.write(value | BASE_ENABLE);
            }
            if self.mode == Mode::X2Apic && value & BASE_X2APIC == 0 {
                base.write(value | BASE_ENABLE | BASE_X2APIC);
            }
        }
        self.write(REG_SVR, SVR_ENABLE | u32::from(SPURIOUS_VECTOR));
    }

    /// Programs the calling CPU's LINT0/LINT1 as the MADT's LAPIC NMI
    /// entries for its ACPI UID say (as Linux does), so that an NMI from the
    /// platform (QEMU's monitor `nmi`, a watchdog) reaches every CPU.
    /// Returns how many pins it programmed.
    pub fn program_nmi_lints(&self, nmis: &[LapicNmi], uid: u32) -> usize {
        let mut programmed = 0;
        for n in nmis.iter().filter(|n| n.applies_to(uid)) {
            let reg = match n.lint {
                0 => REG_LVT_LINT0,
                1 => REG_LVT_LINT1,
                _ => continue,
            };
            self.write(reg, n.lvt());
            programmed += 1;
        }
        programmed
    }

    /// Software-disables the calling CPU's LAPIC (SVR bit 8 clear), as
    /// Linux's stop_this_cpu does: every LVT entry masked, no interrupt
    /// accepted; INIT, SIPI and NMI IPIs still arrive.
    pub fn quiesce_here(&self) {
        self.write(REG_SVR, u32::from(SPURIOUS_VECTOR));
    }

    /// The calling CPU's APIC ID.
    pub fn id(&self) -> u32 {
        match self.mode {
            Mode::X2Apic => self.read(REG_ID),
            Mode::XApic => self.read(REG_ID) >> 24,
        }
    }

    pub fn end_of_interrupt(&self) {
        self.write(REG_EOI, 0);
    }

    /// The error status, after latching it (a write comes before each read).
    fn error_status(&self) -> u32 {
        self.write(REG_ESR, 0);
        self.read(REG_ESR)
    }

    /// Sends `ipi` to the CPU with `apic_id` and checks that it was accepted.
    pub fn send(&self, apic_id: u32, ipi: Ipi) -> Result<(), SendError> {
        self.error_status();
        self.deliver(apic_id, ipi)?;
        match self.error_status() & ESR_SEND_ERRORS {
            0 => Ok(()),
            esr => Err(SendError {
                apic_id,
                ipi,
                error: IpiError::Esr(esr),
            }),
        }
    }

    /// Sends `ipi` to each of `apic_ids` with one error-status check for
    /// the round (three register accesses an IPI in xAPIC mode instead of
    /// seven): the IPIs that could not be sent, and the round's error
    /// status bits if any IPI was refused (which one the status cannot
    /// tell; the caller's wait names the CPU that did not answer).
    pub fn send_round(&self, apic_ids: &[u32], ipi: Ipi) -> (Vec<SendError>, Option<u32>) {
        self.error_status();
        let mut failed = Vec::new();
        for &id in apic_ids {
            if let Err(e) = self.deliver(id, ipi) {
                failed.push(e);
            }
        }
        let esr = self.error_status() & ESR_SEND_ERRORS;
        (failed, (esr != 0).then_some(esr))
    }

    /// Writes the ICR and, in xAPIC mode, waits for the send to leave.
    fn deliver(&self, apic_id: u32, ipi: Ipi) -> Result<(), SendError> {
        let fail = |error| SendError {
            apic_id,
            ipi,
            error,
        };
        let (Some(low), Some(destination)) =
            (icr_low(ipi, self.mode), icr_destination(apic_id, self.mode))
        else {
            return Err(fail(IpiError::Unaddressable));
        };
        match self.mode {
            // SAFETY: the x2APIC ICR is one 64-bit MSR write. WRMSR to an
            // x2APIC register is not serializing: without the fences the IPI
            // may overtake the stores before it (a stop request), as Linux's
            // weak_wrmsr_fence guards against.
            Mode::X2Apic => unsafe {
                core::arch::asm!("mfence", "lfence", options(nostack, preserves_flags));
                Msr::new(0x830).write(u64::from(destination) << 32 | u64::from(low))
            },
            Mode::XApic => {
                self.write(REG_ICR_HIGH, destination);
                self.write(REG_ICR_LOW, low);
                let deadline = tsc::now() + SEND_TIMEOUT_US * tsc::khz() / 1000;
                while self.read(REG_ICR_LOW) & ICR_SEND_PENDING != 0 {
                    if tsc::now() > deadline {
                        return Err(fail(IpiError::StillPending));
                    }
                    core::hint::spin_loop();
                }
            }
        }
        Ok(())
    }
}
