//! Deliberate faults for the test suite (`test=...` on baton's command
//! line): each proves that a class of failure is caught and reported.

use core::sync::atomic::Ordering;

use baton::options::SelfTest;
use x86_64::registers::model_specific::Msr;

use super::{exceptions, idt, tsc};

/// Canonical but far above any RAM the identity map covers.
const UNMAPPED: u64 = 0x4000_0000_0000;
const NON_CANONICAL: u64 = 0x8000_0000_0000;

pub fn run(test: SelfTest) {
    log::info!("baton: self-test {test:?}");
    // SAFETY (all arms): these are the faults the test asks for.
    unsafe {
        match test {
            SelfTest::InvalidOpcode => core::arch::asm!("ud2"),
            SelfTest::PageFault => {
                core::ptr::read_volatile(UNMAPPED as *const u64);
            }
            SelfTest::GeneralProtection => {
                core::ptr::read_volatile(NON_CANONICAL as *const u64);
            }
            SelfTest::DivideError => {
                core::arch::asm!("xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _)
            }
            SelfTest::Nmi => self_nmi(),
            SelfTest::Panic => panic!("deliberate panic (test=panic)"),
            SelfTest::TripleFault => {
                idt::load_empty();
                core::arch::asm!("int3");
            }
            SelfTest::Hang => loop {
                x86_64::instructions::interrupts::disable();
                core::hint::spin_loop();
            },
        }
    }
}

const IA32_APIC_BASE: u32 = 0x1b;
const X2APIC_ICR: u32 = 0x830;
const X2APIC_ID: u32 = 0x802;
const DELIVERY_NMI: u32 = 0b100 << 8;

/// Sends an NMI to this CPU through its local APIC (x2APIC MSRs or xAPIC
/// MMIO, whichever mode it is in) and waits for the handler to count it.
unsafe fn self_nmi() {
    let before = exceptions::NMI_COUNT.load(Ordering::SeqCst);
    // SAFETY: the local APIC is at the address IA32_APIC_BASE names, and
    // mapped (below 4 GiB); x2APIC MSRs exist when x2APIC mode is on.
    unsafe {
        let base = Msr::new(IA32_APIC_BASE).read();
        if base & (1 << 10) != 0 {
            let id = Msr::new(X2APIC_ID).read();
            Msr::new(X2APIC_ICR).write(id << 32 | u64::from(DELIVERY_NMI));
        } else {
            let mmio = (base & 0xffff_f000) as *mut u32;
            let svr = mmio.byte_add(0xf0);
            svr.write_volatile(svr.read_volatile() | 0x100); // software-enable
            let id = mmio.byte_add(0x20).read_volatile() >> 24;
            mmio.byte_add(0x310).write_volatile(id << 24);
            mmio.byte_add(0x300).write_volatile(DELIVERY_NMI);
        }
    }
    let deadline = tsc::now() + 100_000 * tsc::khz(); // 100 s: judged by the log, not the clock
    while exceptions::NMI_COUNT.load(Ordering::SeqCst) == before {
        if tsc::now() > deadline {
            log::error!("baton: self-NMI was not delivered");
            return;
        }
        core::hint::spin_loop();
    }
    log::info!("baton: self-test NMI handled, still running");
}
