//! Exceptions: every one of the 32 is reported (vector, error code, RIP,
//! CR2) and ends the run as a FAIL, except the NMI, which is counted and
//! returned from (a kernel must survive NMIs: the test suite injects them).
//! Stubs are 16 bytes apart; each pushes a zero where the CPU pushes no
//! error code, then its vector.

use core::arch::naked_asm;
use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::control::Cr2;

const STUB_SIZE: u64 = 16;
const EXCEPTIONS: usize = 32;
/// Present, DPL 0, 64-bit interrupt gate.
const GATE_INTERRUPT: u64 = 0x8e;

#[repr(C)]
struct Frame {
    vector: u64,
    error_code: u64,
    rip: u64,
    cs: u64,
    rflags: u64,
    rsp: u64,
    ss: u64,
}

#[unsafe(naked)]
unsafe extern "C" fn stubs() {
    naked_asm!(
        ".balign 16",
        ".set probe_vector, 0",
        ".rept {count}",
        ".balign 16",
        // Vectors for which the CPU pushes an error code itself.
        ".if (probe_vector == 8) || ((probe_vector >= 10) && (probe_vector <= 14)) || (probe_vector == 17) || (probe_vector == 21) || (probe_vector == 29) || (probe_vector == 30)",
        ".else",
        "pushq $0",
        ".endif",
        "pushq $probe_vector",
        "jmp {common}",
        ".set probe_vector, probe_vector + 1",
        ".endr",
        count = const EXCEPTIONS,
        common = sym common,
        options(att_syntax)
    )
}

/// NMIs taken so far.
static NMIS: AtomicU64 = AtomicU64::new(0);

pub fn nmis() -> u64 {
    NMIS.load(Ordering::Relaxed)
}

#[unsafe(naked)]
unsafe extern "C" fn common() {
    naked_asm!(
        // NMI: count it and return; no register is touched.
        "cmp qword ptr [rsp], 2",
        "jne 2f",
        "lock inc qword ptr [rip + {nmis}]",
        "add rsp, 16",
        "iretq",
        "2:",
        "mov rdi, rsp",
        "and rsp, -16",
        "cld",
        "call {report}",
        "ud2",
        report = sym report,
        nmis = sym NMIS,
    )
}

extern "C" fn report(frame: &Frame) -> ! {
    crate::fail!(
        "exception {} (error code {:#x}) at rip={:#x}, cr2={:#x}, rsp={:#x}",
        frame.vector,
        frame.error_code,
        frame.rip,
        Cr2::read_raw(),
        frame.rsp
    )
}

#[repr(C, align(16))]
struct Idt([[u64; 2]; EXCEPTIONS]);

static mut IDT: Idt = Idt([[0; 2]; EXCEPTIONS]);

/// Installs the IDT; called first thing, so faults in later steps report.
pub fn install() {
    let base = (stubs as *const () as u64).next_multiple_of(STUB_SIZE);
    let idt = &raw mut IDT;
    // SAFETY: single CPU, before anything else uses the IDT.
    let idt = unsafe { &mut *idt };
    for (v, gate) in idt.0.iter_mut().enumerate() {
        let at = base + v as u64 * STUB_SIZE;
        gate[0] = (at & 0xffff)
            | (u64::from(crate::entry::CODE64) << 16)
            | (GATE_INTERRUPT << 40)
            | ((at >> 16) & 0xffff) << 48;
        gate[1] = at >> 32;
    }
    let pointer = x86_64::structures::DescriptorTablePointer {
        limit: (core::mem::size_of::<Idt>() - 1) as u16,
        base: x86_64::VirtAddr::new(idt as *const Idt as u64),
    };
    // SAFETY: the table is static and every gate points at a stub.
    unsafe { x86_64::instructions::tables::lidt(&pointer) };
}
