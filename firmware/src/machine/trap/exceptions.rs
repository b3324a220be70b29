//! Every interrupt vector's entry. One naked function holds 256 stubs: each
//! pushes its vector number and jumps to the common path (through
//! `no_error_code`, which adds a zero, where the CPU pushes no error code),
//! which saves the general registers and calls `dispatch`.
//! Exceptions are reported and end the run through the failure policy; an
//! NMI is reported and returned from (NMIs are events, not faults).

use core::arch::naked_asm;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use baton::support::exit::ExitCode;
use x86_64::registers::control::{Cr2, Cr3};

use crate::machine::acpi::power;
use crate::machine::platform::{console, lapic};

/// The layout of `vector_stubs`: `pushq imm8` and `jmp rel8` (2 bytes each)
/// a stub, and two 5-byte `jmp rel32` after each group of 16.
const STUB_SIZE: usize = 4;
const STUBS_PER_GROUP: usize = 16;
const GROUP_SIZE: usize = STUBS_PER_GROUP * STUB_SIZE + 2 * 5;

/// The registers as the common path leaves them on the stack.
#[repr(C)]
pub struct Frame {
    /// r15, r14, ... rax: the reverse of `GPR_NAMES` (the common path
    /// pushes rax first).
    pub gprs: [u64; 15],
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// 256 stubs of 4 bytes in 16 groups: each stub pushes its vector (as a
/// sign-extended byte: two bytes of code, undone in `common_entry`) and
/// jumps, with a two-byte short jump, to the end of its group, where one
/// near jump goes on to `no_error_code` and one to `common_entry` (for the
/// vectors where the CPU pushes an error code itself). Linux spends 8 bytes
/// a stub; this layout is 1184 bytes for all 256.
#[unsafe(naked)]
unsafe extern "C" fn vector_stubs() {
    naked_asm!(
        ".set baton_vector, 0",
        ".rept 16",
        ".rept 16",
        ".if baton_vector < 128",
        "pushq $baton_vector",
        ".else",
        "pushq $(baton_vector - 256)",
        ".endif",
        // Vectors for which the CPU pushes an error code itself.
        ".if (baton_vector == 8) || ((baton_vector >= 10) && (baton_vector <= 14)) || (baton_vector == 17) || (baton_vector == 21) || (baton_vector == 29) || (baton_vector == 30)",
        "jmp 2f",
        ".else",
        "jmp 1f",
        ".endif",
        ".set baton_vector, baton_vector + 1",
        ".endr",
        "1: jmp {no_error_code}",
        "2: jmp {common}",
        ".endr",
        common = sym common_entry,
        no_error_code = sym no_error_code,
        options(att_syntax)
    )
}

/// The frame the CPU left has no error code: [vector][rip...] becomes
/// [vector][0][rip...].
#[unsafe(naked)]
unsafe extern "C" fn no_error_code() {
    naked_asm!(
        "push qword ptr [rsp]",
        "mov qword ptr [rsp + 8], 0",
        "jmp {common}",
        common = sym common_entry,
    )
}

#[unsafe(naked)]
unsafe extern "C" fn common_entry() {
    naked_asm!(
        // The stub's vector was a sign-extended byte.
        "and qword ptr [rsp], 0xff",
        "push rax", "push rbx", "push rcx", "push rdx", "push rsi", "push rdi", "push rbp",
        "push r8", "push r9", "push r10", "push r11", "push r12", "push r13", "push r14", "push r15",
        // 22 quadwords from the CPU's 16-byte-aligned frame: still aligned.
        "mov rdi, rsp",
        "cld",
        "call {dispatch}",
        "pop r15", "pop r14", "pop r13", "pop r12", "pop r11", "pop r10", "pop r9", "pop r8",
        "pop rbp", "pop rdi", "pop rsi", "pop rdx", "pop rcx", "pop rbx", "pop rax",
        "add rsp, 16",
        "iretq",
        dispatch = sym dispatch,
    )
}

/// The address of vector `v`'s stub.
pub fn stub_address(v: u8) -> u64 {
    let v = usize::from(v);
    let group = v / STUBS_PER_GROUP * GROUP_SIZE;
    (vector_stubs as *const () as usize + group + v % STUBS_PER_GROUP * STUB_SIZE) as u64
}

/// NMIs taken so far by every CPU (the NMI self-test waits for this to
/// move), and by the APs among them.
pub static NMI_COUNT: AtomicU64 = AtomicU64::new(0);
static AP_NMI_COUNT: AtomicU64 = AtomicU64::new(0);
/// NMIs reported one by one on the console; the rest only counted.
const NMIS_TOLD: u64 = 4;

/// NMIs taken so far: (by the BSP, by the APs).
pub fn nmi_counts() -> (u64, u64) {
    let aps = AP_NMI_COUNT.load(Ordering::SeqCst);
    (NMI_COUNT.load(Ordering::SeqCst).saturating_sub(aps), aps)
}
static REPORTING: AtomicBool = AtomicBool::new(false);

/// What an NMI does beyond being counted: `init_bsp` installs SMP's stop
/// check (`smp::stopping::on_nmi`) before any AP starts. A hook rather
/// than an import because the IDT sits below SMP in the stage order.
static NMI_HOOK: spin::Once<fn()> = spin::Once::new();

/// Installs what an NMI runs (once; later calls change nothing).
pub fn set_nmi_hook(hook: fn()) {
    NMI_HOOK.call_once(|| hook);
}

extern "C" fn dispatch(frame: &mut Frame) {
    match frame.vector {
        2 => {
            let taken = NMI_COUNT.fetch_add(1, Ordering::SeqCst);
            // IA32_APIC_BASE bit 8: this CPU is the BSP.
            // SAFETY: an architectural MSR, read only.
            let bsp =
                unsafe { x86_64::registers::model_specific::Msr::new(0x1b).read() } & (1 << 8);
            if bsp == 0 {
                AP_NMI_COUNT.fetch_add(1, Ordering::SeqCst);
            }
            // An AP that was asked to stop takes the stop path from here.
            if let Some(hook) = NMI_HOOK.get() {
                hook();
            }
            // The first few are told; a storm is counted (`nmi_counts`).
            if taken < NMIS_TOLD {
                console::emergency(format_args!(
                    "baton: NMI received at rip={:#018x}; resuming\n",
                    frame.rip
                ));
            }
        }
        0..32 => fatal(frame),
        v if v == u64::from(lapic::WAKE_VECTOR) => {
            if let Some(l) = lapic::get() {
                l.end_of_interrupt();
            }
        }
        v if v == u64::from(lapic::SPURIOUS_VECTOR) => {}
        vector => warn!(
            "unexpected interrupt, vector {vector} at rip={:#x}; ignored",
            frame.rip
        ),
    }
}

fn fatal(frame: &Frame) -> ! {
    if REPORTING.swap(true, Ordering::SeqCst) {
        // An exception while reporting one: go straight to the policy.
        power::fail(ExitCode::Exception);
    }
    console::emergency(format_args!("{}", Report(frame)));
    power::fail(ExitCode::Exception)
}

/// The registers that tell where a panic happened (no frame to read).
pub fn dump_current_state() {
    let (rsp, rbp): (u64, u64);
    // SAFETY: reads two registers.
    unsafe { core::arch::asm!("mov {}, rsp", "mov {}, rbp", out(reg) rsp, out(reg) rbp) };
    console::emergency(format_args!(
        "  rsp={rsp:#018x} rbp={rbp:#018x}\n  cr2={:#018x} cr3={:#018x}\n",
        Cr2::read_raw(),
        Cr3::read().0.start_address().as_u64()
    ));
}

pub fn name(vector: u64) -> &'static str {
    const NAMES: [&str; 32] = [
        "#DE divide error",
        "#DB debug",
        "NMI",
        "#BP breakpoint",
        "#OF overflow",
        "#BR bound range",
        "#UD invalid opcode",
        "#NM device not available",
        "#DF double fault",
        "coprocessor overrun",
        "#TS invalid TSS",
        "#NP segment not present",
        "#SS stack fault",
        "#GP general protection",
        "#PF page fault",
        "reserved 15",
        "#MF x87 error",
        "#AC alignment check",
        "#MC machine check",
        "#XM SIMD error",
        "#VE virtualization",
        "#CP control protection",
        "reserved 22",
        "reserved 23",
        "reserved 24",
        "reserved 25",
        "reserved 26",
        "reserved 27",
        "#HV hypervisor injection",
        "#VC VMM communication",
        "#SX security",
        "reserved 31",
    ];
    NAMES.get(vector as usize).copied().unwrap_or("interrupt")
}

/// The general registers in the order the dump prints them.
const GPR_NAMES: [&str; 15] = [
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15",
];

/// The register dump, in the layout every report uses.
struct Report<'a>(&'a Frame);

impl core::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "baton: EXCEPTION vector {} ({}) error code {:#x} on the CPU with APIC ID {:#x}",
            r.vector,
            name(r.vector),
            r.error_code,
            crate::machine::acpi::own_apic_id().0
        )?;
        writeln!(
            f,
            "  rip={:#018x} cs={:#06x} rflags={:#018x}",
            r.rip, r.cs, r.rflags
        )?;
        writeln!(f, "  rsp={:#018x} ss={:#06x}", r.rsp, r.ss)?;
        writeln!(
            f,
            "  cr2={:#018x} cr3={:#018x}",
            Cr2::read_raw(),
            Cr3::read().0.start_address().as_u64()
        )?;
        // Three registers a row, from a table of names rather than an
        // array of (name, value) pairs built on the stack.
        for (i, name) in GPR_NAMES.iter().enumerate() {
            if i % 3 == 0 {
                f.write_str(" ")?;
            }
            write!(f, " {name:>3}={:#018x}", r.gprs[r.gprs.len() - 1 - i])?;
            if i % 3 == 2 {
                f.write_char('\n')?;
            }
        }
        Ok(())
    }
}
