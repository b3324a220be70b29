//! The park area: a few pages no kernel segment, boot structure or module
//! overlaps, holding the final park loop for the APs and the copy stub for
//! the BSP (`park_area.s`), their GDT, IDTs, stacks and identity page tables.
//! Hand-written assembly because it runs while baton's own memory is being
//! overwritten: nothing in it may touch the image, the heap or a Rust stack.

use core::arch::global_asm;
use core::mem::{offset_of, size_of};

use baton::takeover::copy_plan::CopyStep;

use crate::machine::platform::gate::Gate;

const CODE64: u16 = 0x08;
const DATA: u16 = 0x10;
const CODE32: u16 = 0x18;
const TSS32: u16 = 0x20;
/// The selectors Linux's boot protocol requires (`__BOOT_CS`, `__BOOT_DS`).
const LINUX_CS: u16 = 0x10;
const LINUX_DS: u16 = 0x18;
const GDT: [u64; 5] = [
    0,
    0x00af_9b00_0000_ffff, // 64-bit code
    0x00cf_9300_0000_ffff, // flat data
    0x00cf_9b00_0000_ffff, // 32-bit code, flat
    0x0000_8900_0000_0067, // 32-bit TSS, available: base 0, limit 0x67 (PVH's TR)
];
/// CR0 at a 32-bit entry: PE and ET only (PVH's rule; Multiboot leaves
/// all but PE and PG open).
const CR0_PROTECTED: u32 = 0x11;
/// CR0 at the plain ELF64 entry: PG, WP, NE, ET, MP, PE.
const CR0_LONG: u64 = 0x8001_0033;
/// CR4 at the plain ELF64 entry: PAE, OSFXSR, OSXMMEXCPT.
const CR4_LONG: u64 = 0x620;
/// The EFER bits kept at the plain ELF64 entry: LME, LMA.
const EFER_LONG: u32 = 0x500;
const EFER_MSR: u32 = 0xc000_0080;
const CODE_SIZE: usize = 2048;
const NMI: usize = 2;
const MACHINE_CHECK: usize = 18;
/// The most segments (plus staged pieces) one kernel may have.
pub const MAX_COPIES: usize = 128;
const GIB: u64 = 1 << 30;
/// The copy stub's identity map reaches this far (2 MiB pages): sources,
/// destinations and the area itself must lie below.
pub const MAPPED: u64 = 4 * GIB;

#[repr(C, align(4096))]
struct PageTable([u64; 512]);

/// `lgdt`/`lidt` operand: limit, 64-bit base.
#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

#[repr(C, align(4096))]
struct Page0 {
    code: [u8; CODE_SIZE],
    gdt: [u64; 5],
    gdt_pointer: Pointer,
    ap_idt_pointer: Pointer,
    bsp_idt_pointer: Pointer,
    entry: u64,
    info: u64,
    magic: u32,
    long_mode: u32,
    /// FS and GS at the jump (flat data; 0 only by `inject=null-fs`).
    fs_gs: u16,
    /// Enter by Linux's boot protocol (its GDT, boot_params in RSI/ESI).
    linux: u32,
    /// Linux's GDT: null, null, code at 0x10 (64-bit or 32-bit as the
    /// entry), flat data at 0x18.
    linux_gdt: [u64; 4],
    linux_gdt_pointer: Pointer,
    /// `inject=nmi-in-handoff`: 0 none, 1 by xAPIC MMIO, 2 by x2APIC MSR.
    inject_nmi: u32,
    /// The ICR destination that names the BSP (xAPIC: ID << 24).
    nmi_destination: u32,
    /// The xAPIC registers' base.
    lapic_mmio: u32,
    /// The APs' LAPIC for their injected self-NMIs: 0 unknown, 1 xAPIC
    /// MMIO at `ap_lapic_mmio`, 2 x2APIC MSRs.
    ap_lapic: u32,
    ap_lapic_mmio: u32,
    /// `inject=nmi-in-park`: this AP's NMI to itself after its LIDT
    /// (`NO_AP` for none).
    park_nmi: u32,
    /// `inject=park-stack-race`: the AP that waits before its report, the
    /// AP that takes an NMI after its report, the waiter's sign, and the
    /// reports the late AP waits for (every AP's but the waiter's).
    race_waiter: u32,
    race_late: u32,
    race_waiting: u32,
    race_others: u32,
    /// Counted by the APs in the park area, read by the BSP for its log:
    /// reports, and NMIs (or #MCs) taken before and after a report.
    parked: u32,
    nmis_before_report: u32,
    nmis_after_report: u32,
    /// Other exceptions taken there.
    ap_faults: u32,
    copy_count: u64,
    pml4: u64,
    ap_idt: [Gate; 32],
    bsp_idt: [Gate; 32],
}

#[repr(C, align(4096))]
pub struct ParkArea {
    page0: Page0,
    bsp_stack: [u8; 2048],
    copies: [CopyStep; MAX_COPIES],
    pml4: PageTable,
    pdpt: PageTable,
    pd: [PageTable; 4],
}

/// Each AP's own stack slot after the area's fixed part: room for an NMI's
/// frame and a machine check's on top of it (never returned from).
const AP_STACK_SLOT: u64 = 128;
/// No AP (an APIC ID no CPU has: the x2APIC broadcast ID).
const NO_AP: u32 = u32::MAX;
/// How many PAUSEs an injected fault's wait in the park area lasts at most
/// (well over a second under TCG, where each PAUSE leaves the vCPU's loop):
/// a wait that runs out goes on to the report, so nothing hangs.
const SPIN_LIMIT: u32 = 1 << 22;
/// Negative control `unsafe-shared-park-stack`: one stack slot for every AP
/// and the old far return through it.
const SHARED_PARK_STACK: bool = cfg!(feature = "unsafe-shared-park-stack");

/// The park area's size for `aps` APs: the fixed part, then a stack slot
/// for each AP, in whole pages.
pub fn park_area_size(aps: usize) -> u64 {
    (size_of::<ParkArea>() as u64 + aps as u64 * AP_STACK_SLOT).next_multiple_of(4096)
}

global_asm!(
    include_str!("park_area.s"),
    gdt_pointer = const offset_of!(Page0, gdt_pointer),
    ap_idt_pointer = const offset_of!(Page0, ap_idt_pointer),
    bsp_idt_pointer = const offset_of!(Page0, bsp_idt_pointer),
    pml4 = const offset_of!(Page0, pml4),
    entry = const offset_of!(Page0, entry),
    info = const offset_of!(Page0, info),
    magic = const offset_of!(Page0, magic),
    long_mode = const offset_of!(Page0, long_mode),
    fs_gs = const offset_of!(Page0, fs_gs),
    linux = const offset_of!(Page0, linux),
    linux_gdt_pointer = const offset_of!(Page0, linux_gdt_pointer),
    linux_cs = const LINUX_CS,
    linux_ds = const LINUX_DS,
    inject_nmi = const offset_of!(Page0, inject_nmi),
    nmi_destination = const offset_of!(Page0, nmi_destination),
    lapic_mmio = const offset_of!(Page0, lapic_mmio),
    icr_low = const 0x300,
    icr_high = const 0x310,
    icr_nmi = const 0x400,
    x2apic_icr = const 0x830,
    ap_lapic = const offset_of!(Page0, ap_lapic),
    ap_lapic_mmio = const offset_of!(Page0, ap_lapic_mmio),
    park_nmi = const offset_of!(Page0, park_nmi),
    race_waiter = const offset_of!(Page0, race_waiter),
    race_late = const offset_of!(Page0, race_late),
    race_waiting = const offset_of!(Page0, race_waiting),
    race_others = const offset_of!(Page0, race_others),
    parked = const offset_of!(Page0, parked),
    nmis_before_report = const offset_of!(Page0, nmis_before_report),
    nmis_after_report = const offset_of!(Page0, nmis_after_report),
    ap_faults = const offset_of!(Page0, ap_faults),
    spin_limit = const SPIN_LIMIT,
    far_return = const SHARED_PARK_STACK as u8,
    tss32 = const TSS32,
    cr0_protected = const CR0_PROTECTED,
    cr0_long = const CR0_LONG,
    cr4_long = const CR4_LONG,
    efer_long = const EFER_LONG,
    efer_msr = const EFER_MSR,
    copy_count = const offset_of!(Page0, copy_count),
    bsp_stack_top = const offset_of!(ParkArea, bsp_stack) + 2048,
    copies = const offset_of!(ParkArea, copies),
    copy_src = const offset_of!(CopyStep, src),
    copy_dst = const offset_of!(CopyStep, dst),
    copy_len = const offset_of!(CopyStep, len),
    copy_zero = const offset_of!(CopyStep, zero),
    copy_size = const size_of::<CopyStep>(),
    code64 = const CODE64,
    code32 = const CODE32,
    data = const DATA,
    options(att_syntax)
);

unsafe extern "sysv64" {
    /// The copy stub's loop (handoff.s), callable in place.
    fn baton_copy_list(list: *const CopyStep, count: u64);
}

/// Runs the copy stub's own loop over `copies` here (for the benchmark).
///
/// # Safety
/// Every source and destination must be identity-mapped, and the
/// destinations free memory.
pub unsafe fn copy_in_place(copies: &[CopyStep]) {
    // SAFETY: the caller vouches for the ranges.
    unsafe { baton_copy_list(copies.as_ptr(), copies.len() as u64) }
}

unsafe extern "C" {
    static baton_handoff_start: u8;
    static baton_handoff_park: u8;
    static baton_handoff_halt: u8;
    static baton_handoff_ap_nmi: u8;
    static baton_handoff_ap_fault: u8;
    static baton_handoff_iret: u8;
    static baton_handoff_iret32: u8;
    static baton_handoff_copy: u8;
    static baton_handoff_end: u8;
}

/// Where and how the kernel is entered.
#[derive(Clone, Copy, Debug)]
pub struct Jump {
    pub entry: u64,
    /// Boot information address (EBX, or RDI in long mode).
    pub info: u64,
    /// EAX for the 32-bit protocols.
    pub magic: u32,
    /// Enter in long mode (plain ELF64) instead of 32-bit protected mode.
    pub long_mode: bool,
    /// Enter by Linux's boot protocol: boot_params in RSI (ESI), Linux's
    /// GDT selectors.
    pub linux: bool,
    /// Enter with FS and GS null (`inject=null-fs`): a deliberately wrong
    /// register for the probe's entry checks to catch.
    pub null_fs: bool,
    /// `inject=nmi-in-handoff`: the BSP sends itself an NMI in the copy
    /// stub's 32-bit tail, through its LAPIC as described.
    pub self_nmi: Option<SelfNmi>,
    /// The faults injected into the APs' park (`inject=nmi-in-park`,
    /// `inject=park-stack-race`).
    pub park_faults: ParkFaults,
}

/// Faults injected into the APs' way into the park area, by APIC ID.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParkFaults {
    /// How the APs reach their LAPIC (the BSP's mode and base; each AP
    /// names itself, so `apic_id` is not used here).
    pub lapic: Option<SelfNmi>,
    /// This AP sends itself an NMI right after its LIDT.
    pub nmi_in_park: Option<u32>,
    /// (waiter, late): the waiter pauses after its LIDT until the late AP,
    /// parked, took an NMI it sent itself after its report.
    pub stack_race: Option<(u32, u32)>,
}

/// What the APs counted in the park area (`Installed::counts`).
#[derive(Clone, Copy, Debug)]
pub struct ParkCounts {
    /// APs that reported there.
    pub parked: u32,
    /// NMIs (or #MCs) taken there before the AP's report (which the
    /// handler then made), and after it.
    pub nmis_before_report: u32,
    pub nmis_after_report: u32,
    /// Other exceptions taken there (each halts the AP where it is).
    pub faults: u32,
}

/// How the BSP reaches its own LAPIC from the copy stub.
#[derive(Clone, Copy, Debug)]
pub struct SelfNmi {
    pub x2apic: bool,
    pub apic_id: u32,
    pub mmio: u32,
}

#[derive(Debug)]
pub enum ParkAreaError {
    TooManyCopies { copies: usize },
    Unreachable { what: &'static str, end: u64 },
}

impl core::fmt::Display for ParkAreaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooManyCopies { copies } => write!(
                f,
                "the kernel needs {copies} copies; the copy stub takes at most {MAX_COPIES}"
            ),
            Self::Unreachable { what, end } => write!(
                f,
                "{what} ends at {end:#x}, beyond the copy stub's identity map ({MAPPED:#x})"
            ),
        }
    }
}

/// The installed park area: its address is what the APs and the BSP jump to.
#[derive(Clone, Copy, Debug)]
pub struct Installed {
    base: u64,
    aps: usize,
}

fn symbol_offset(symbol: *const u8) -> u64 {
    symbol as u64 - &raw const baton_handoff_start as u64
}

/// Fills the park area at `base` (`park_area_size(aps)` bytes,
/// page-aligned, identity-mapped, free, below `MAPPED`) for `copies` and
/// `jump`.
pub fn install(
    base: u64,
    aps: usize,
    copies: &[CopyStep],
    jump: Jump,
) -> Result<Installed, ParkAreaError> {
    if copies.len() > MAX_COPIES {
        return Err(ParkAreaError::TooManyCopies {
            copies: copies.len(),
        });
    }
    let reach = |what, end: u64| {
        if end > MAPPED {
            Err(ParkAreaError::Unreachable { what, end })
        } else {
            Ok(())
        }
    };
    reach("the park area", base + park_area_size(aps))?;
    for c in copies {
        reach("a copy's source", c.src + c.len)?;
        reach("a kernel segment", c.dst + c.len + c.zero)?;
    }
    let start = &raw const baton_handoff_start;
    let code_len = (&raw const baton_handoff_end as u64 - start as u64) as usize;
    assert!(
        code_len <= CODE_SIZE,
        "handoff.s ({code_len} bytes) outgrew its {CODE_SIZE}"
    );
    let area = base as *mut ParkArea;
    let gate = |symbol: *const u8| Gate::interrupt(base + symbol_offset(symbol), CODE64, 0);
    let idt_pointer = |idt: *const [Gate; 32]| Pointer {
        limit: (size_of::<[Gate; 32]>() - 1) as u16,
        base: idt as u64,
    };
    // SAFETY: the caller hands over the area; every write stays inside it.
    unsafe {
        core::ptr::write_bytes(area as *mut u8, 0, size_of::<ParkArea>());
        let a = &mut *area;
        core::ptr::copy_nonoverlapping(start, a.page0.code.as_mut_ptr(), code_len);
        a.page0.gdt = GDT;
        a.page0.gdt_pointer = Pointer {
            limit: (size_of::<[u64; 5]>() - 1) as u16,
            base: a.page0.gdt.as_ptr() as u64,
        };
        // APs: every exception ends in the HLT loop (counted); NMI and
        // #MC report first if they struck before the report (on the
        // negative control they only halt).
        a.page0.ap_idt = [gate(&raw const baton_handoff_ap_fault); 32];
        a.page0.ap_idt[NMI] = gate(&raw const baton_handoff_halt);
        a.page0.ap_idt[MACHINE_CHECK] = gate(&raw const baton_handoff_halt);
        if !cfg!(feature = "unsafe-park-nmi") {
            a.page0.ap_idt[NMI] = gate(&raw const baton_handoff_ap_nmi);
            a.page0.ap_idt[MACHINE_CHECK] = gate(&raw const baton_handoff_ap_nmi);
        }
        // BSP: an NMI returns, in 64-bit mode (slot 2) and, once paging is
        // off, in 32-bit mode: a 32-bit interrupt gate is 8 bytes, so the
        // 32-bit NMI gate lies at byte 16, the first half of slot 1, which
        // `Gate::interrupt` lays out as one (offset below 4 GiB). Slot 1
        // (#DB) is never taken here. Anything else halts.
        a.page0.bsp_idt = [gate(&raw const baton_handoff_halt); 32];
        a.page0.bsp_idt[NMI] = gate(&raw const baton_handoff_iret);
        if !cfg!(feature = "unsafe-takeover") {
            a.page0.bsp_idt[1] = Gate::interrupt(
                base + symbol_offset(&raw const baton_handoff_iret32),
                CODE32,
                0,
            );
        }
        a.page0.ap_idt_pointer = idt_pointer(&raw const a.page0.ap_idt);
        a.page0.bsp_idt_pointer = idt_pointer(&raw const a.page0.bsp_idt);
        a.page0.entry = jump.entry;
        a.page0.info = jump.info;
        a.page0.magic = jump.magic;
        a.page0.long_mode = jump.long_mode.into();
        a.page0.fs_gs = if jump.null_fs { 0 } else { DATA };
        if jump.linux {
            a.page0.linux = 1;
            let code = if jump.long_mode { GDT[1] } else { GDT[3] };
            a.page0.linux_gdt = [0, 0, code, GDT[2]];
            a.page0.linux_gdt_pointer = Pointer {
                limit: (size_of::<[u64; 4]>() - 1) as u16,
                base: a.page0.linux_gdt.as_ptr() as u64,
            };
        }
        if let Some(nmi) = jump.self_nmi {
            a.page0.inject_nmi = if nmi.x2apic { 2 } else { 1 };
            a.page0.nmi_destination = if nmi.x2apic {
                nmi.apic_id
            } else {
                nmi.apic_id << 24
            };
            a.page0.lapic_mmio = nmi.mmio;
        }
        let faults = jump.park_faults;
        a.page0.park_nmi = NO_AP;
        a.page0.race_waiter = NO_AP;
        a.page0.race_late = NO_AP;
        if let Some(lapic) = faults.lapic {
            a.page0.ap_lapic = if lapic.x2apic { 2 } else { 1 };
            a.page0.ap_lapic_mmio = lapic.mmio;
            a.page0.park_nmi = faults.nmi_in_park.unwrap_or(NO_AP);
            if let Some((waiter, late)) = faults.stack_race {
                a.page0.race_waiter = waiter;
                a.page0.race_late = late;
                a.page0.race_others = aps.saturating_sub(1) as u32;
            }
        }
        a.page0.copy_count = copies.len() as u64;
        a.copies[..copies.len()].copy_from_slice(copies);
        // Identity map of the first 4 GiB with 2 MiB pages.
        a.page0.pml4 = &raw const a.pml4 as u64;
        a.pml4.0[0] = &raw const a.pdpt as u64 | 0b11;
        for (i, pd) in a.pd.iter_mut().enumerate() {
            a.pdpt.0[i] = pd as *const PageTable as u64 | 0b11;
            for (j, e) in pd.0.iter_mut().enumerate() {
                *e = (i as u64 * GIB + j as u64 * (2 << 20)) | 0x83;
            }
        }
    }
    Ok(Installed { base, aps })
}

impl Installed {
    /// The AP's last step: into the park area (on the stack slot of AP
    /// `slot`), clear `bit` of the stop mask word at `mask_word` there, HLT
    /// forever. Interrupts must be off. `apic_id` is this AP's (for the
    /// injected faults).
    pub fn park_this_ap(&self, slot: usize, apic_id: u32, mask_word: u64, bit: u64) -> ! {
        let target = self.base + symbol_offset(&raw const baton_handoff_park);
        let slot = if SHARED_PARK_STACK { 0 } else { slot };
        let stack_top = self.base
            + size_of::<ParkArea>() as u64
            + (slot.min(self.aps.saturating_sub(1)) as u64 + 1) * AP_STACK_SLOT;
        // SAFETY: the area was installed; the code never returns.
        unsafe {
            core::arch::asm!(
                "jmp {target}",
                target = in(reg) target,
                in("rdi") self.base,
                in("rsi") mask_word,
                in("r10") bit,
                in("rcx") stack_top,
                in("r8") apic_id,
                options(noreturn)
            )
        }
    }

    /// What the APs counted in the park area so far.
    pub fn counts(&self) -> ParkCounts {
        let page0 = self.base as *const Page0;
        // SAFETY: the installed area; the APs update these words with
        // locked instructions, read here whole.
        unsafe {
            ParkCounts {
                parked: (&raw const (*page0).parked).read_volatile(),
                nmis_before_report: (&raw const (*page0).nmis_before_report).read_volatile(),
                nmis_after_report: (&raw const (*page0).nmis_after_report).read_volatile(),
                faults: (&raw const (*page0).ap_faults).read_volatile(),
            }
        }
    }

    /// The BSP's last step: the copy stub, then the kernel.
    pub fn copy_and_jump(&self) -> ! {
        let target = self.base + symbol_offset(&raw const baton_handoff_copy);
        // SAFETY: the area was installed; every AP is stopped.
        unsafe {
            core::arch::asm!(
                "cli",
                "jmp {target}",
                target = in(reg) target,
                in("rdi") self.base,
                options(noreturn)
            )
        }
    }
}
