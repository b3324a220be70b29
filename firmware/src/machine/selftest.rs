//! Deliberate faults for the test suite (`test=...` on baton's command
//! line): each proves that a class of failure is caught and reported.

use core::sync::atomic::Ordering;

use baton::options::SelfTest;
use baton::smp::apic::Ipi;
use baton::support::frames::FrameAllocator;
use baton::takeover::copy_plan::CopyStep;

use crate::machine::platform::{lapic, tsc};
use crate::machine::trap::exceptions;

/// Canonical but far above any RAM the identity map covers.
const UNMAPPED: u64 = 0x4000_0000_0000;
const NON_CANONICAL: u64 = 0x8000_0000_0000;

pub fn run(test: SelfTest, frames: &mut FrameAllocator) {
    info!("baton: self-test {test}");
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
                crate::machine::acpi::power::no_idt();
                core::arch::asm!("int3");
            }
            SelfTest::CopyBench => copy_bench(frames),
            SelfTest::Hang => loop {
                x86_64::instructions::interrupts::disable();
                core::hint::spin_loop();
            },
        }
    }
}

/// Sends an NMI to this CPU through its local APIC and waits for the
/// handler to count it.
fn self_nmi() {
    let before = exceptions::NMI_COUNT.load(Ordering::SeqCst);
    let lapic = lapic::get_or_init_as_found();
    if let Err(e) = lapic.send(lapic.id(), Ipi::Nmi) {
        error!("baton: self-NMI: {e}");
        return;
    }
    let deadline = tsc::now() + 100_000 * tsc::khz(); // 100 s: judged by the log, not the clock
    while exceptions::NMI_COUNT.load(Ordering::SeqCst) == before {
        if tsc::now() > deadline {
            error!("baton: self-NMI was not delivered");
            return;
        }
        core::hint::spin_loop();
    }
    info!("baton: self-test NMI handled, still running");
}

/// The copy stub's loop against a plain byte loop, in this guest.
fn copy_bench(frames: &mut FrameAllocator) {
    const STUB_BYTES: u64 = 32 << 20;
    const LOOP_BYTES: u64 = 4 << 20;
    let limit = crate::machine::platform::paging::allocation_limit();
    let (Some(src), Some(dst)) = (
        frames.allocate(STUB_BYTES, 4096, limit),
        frames.allocate(STUB_BYTES, 4096, limit),
    ) else {
        error!("baton: copy-bench: no 2 x {} MiB free", STUB_BYTES >> 20);
        return;
    };
    let rate = |bytes: u64, us: u64| bytes / us.max(1);
    let start = tsc::now();
    let copy = CopyStep {
        src,
        dst,
        len: STUB_BYTES,
        zero: 0,
    };
    // SAFETY: two fresh, disjoint, identity-mapped allocations.
    unsafe { crate::machine::smp::park_area::copy_in_place(core::slice::from_ref(&copy)) };
    let stub_us = tsc::ticks_to_micros(tsc::now() - start);
    let start = tsc::now();
    for i in 0..LOOP_BYTES {
        // SAFETY: inside the same allocations; volatile keeps it a byte loop.
        unsafe {
            let b = core::ptr::read_volatile((src + i) as *const u8);
            core::ptr::write_volatile((dst + i) as *mut u8, b);
        }
    }
    let loop_us = tsc::ticks_to_micros(tsc::now() - start);
    info!(
        "baton: copy-bench: copy stub {} MiB in {stub_us} us ({} MB/s); byte loop {} MiB in {loop_us} us ({} MB/s)",
        STUB_BYTES >> 20,
        rate(STUB_BYTES, stub_us),
        LOOP_BYTES >> 20,
        rate(LOOP_BYTES, loop_us)
    );
}
