//! The takeover (docs/ARCHITECTURE.md, "The takeover"), in two steps whose
//! boundary is a type: `prepare` plans the kernel's load, places what must
//! survive clear of every destination, builds the boot information and the
//! park area, and leaves the machine as it was (an error may go on to the
//! next kernel source); `commit(Prepared)` stops every AP (request, wait,
//! NMI), INITs them and jumps through the copy stub, and never returns.
//! Each step's arithmetic is in the library (`baton::takeover::copy_plan`,
//! `baton::takeover::stop`, `payload_loader`); this file orders them.

mod error;
mod placement;
mod stop_aps;

pub use error::TakeoverError;
use placement::{bytes, fetch, keep_clear, place_modules, report_plan, rsdp_copy, stage_relocated};
use stop_aps::{init_aps, stop_aps};

use alloc::vec::Vec;

use baton::entry::BootInfo;
use baton::options::{Inject, LeaveMode, Options};
use baton::smp::apic::Mode;
use baton::source::{KernelSource, PartlyRead};
use baton::support::frames::FrameAllocator;
use baton::support::timeline::Stage;
use baton::takeover::copy_plan::{self, CopyStep};
use payload_loader::{BootInfoInput, Module, PlanConfig, Protocol, Range, Rsdp, Screen};

use crate::machine::platform::{console, tsc};
use crate::machine::smp::cpus::Cpus;
use crate::machine::smp::park_area::{
    Installed, Jump, MAPPED, ParkFaults, SelfNmi, park_area_size,
};

const MULTIBOOT1_MAGIC: u32 = 0x2bad_b002;
const MULTIBOOT2_MAGIC: u32 = 0x36d7_6289;

/// The largest memory-map entry of any protocol's boot information (a
/// Multiboot2 or PVH entry: 24 bytes; Multiboot1's: 24 with its size field).
const MAX_MAP_ENTRY: u64 = 24;

/// The takeover's first step done: the kernel planned and staged, the
/// boot information built, the park area installed. Nothing was stopped and
/// no kernel address written: the machine is still baton's, and an error
/// up to here may go on to the next kernel source. `commit` takes it over.
pub struct Prepared<'a> {
    park: Installed,
    options: &'a Options,
    cpus: Option<&'static Cpus>,
    /// The kernel file read in part, and its segments to read straight
    /// into place after the stop.
    part: Option<PartlyRead>,
    direct: Vec<copy_plan::DirectRead>,
    /// For the last line before the jump.
    protocol: Protocol,
    entry: u64,
    long_mode: bool,
}

/// Plans the takeover of the machine for the kernel in `source` (see
/// `Prepared`).
// Out of line: inlined, its locals swell `boot_first_kernel`'s stack
// frame and spills (measured: -1920 bytes).
#[inline(never)]
pub fn prepare<'a>(
    source: &KernelSource,
    options: &'a Options,
    info: &BootInfo,
    rsdp: Option<u64>,
    cpus: Option<&'static Cpus>,
    frames: &FrameAllocator,
) -> Result<Prepared<'a>, TakeoverError> {
    let kernel = bytes(source.kernel)?;
    let display = screen_now(info);
    let screen = display.map(|d| {
        let (start, end) = d.memory();
        Range::new(start, end)
    });
    let map = payload_loader::with_reserved(info.memory_map.regions(), screen.as_slice());
    let busy = copy_plan::busy_ranges(&map, frames.free_ranges());
    let config = PlanConfig {
        protocol: options.protocol,
        linux_entry_32: options.linux_entry_32,
        alloc_max: MAPPED,
        ..PlanConfig::new(&map, &busy)
    };
    // A `match`, not `map_err` and `?`: those moved the plan (a large
    // struct) through two more copies (measured: -64 bytes).
    let mut plan = match payload_loader::plan(kernel, &config) {
        Ok(plan) => plan,
        Err(e) => return Err(TakeoverError::Plan(e)),
    };
    report_plan(&plan);
    // A kernel read in part: the segments that go through the copy stub
    // (over baton's memory, or relocated) are fetched into the file's blob
    // now; the others straight into place after the stop.
    let staged_ranges = match source.kernel_in_part {
        Some(_) => copy_plan::staged_file_ranges(&plan),
        None => Vec::new(),
    };
    if let Some(part) = source.kernel_in_part {
        for r in &staged_ranges {
            fetch(part, r.start, r.end - r.start, source.kernel.addr + r.start)?;
        }
    }

    // Sources the copy stub reads must survive the copies before them.
    let kernel_at = keep_clear(&mut plan, "kernel file", source.kernel)?;
    let staged = stage_relocated(&mut plan, kernel)?;
    let protocol = plan.kind();
    let modules = place_modules(&mut plan, source)?;
    let cmdline = protocol.command_line(&source.kernel_name, &source.cmdline);

    let long_mode = plan.enters_long_mode();
    let rsdp_bytes = rsdp.and_then(|at| Some((at, rsdp_copy(at)?)));
    let mut module_list = Vec::with_capacity(modules.len());
    for (b, cmdline) in &modules {
        module_list.push(Module {
            addr: b.addr,
            size: b.len,
            cmdline,
        });
    }
    let input = |memory_map| BootInfoInput {
        cmdline: &cmdline,
        loader_name: payload_loader::LOADER_NAME,
        memory_map,
        machine_map: &map,
        modules: &module_list,
        rsdp: rsdp_bytes.as_ref().map(|(addr, bytes)| Rsdp {
            addr: *addr,
            bytes: bytes.as_slice(),
        }),
        display,
    };
    // The kernel may reuse everything but its boot information and the
    // park area: the IDTR points there until the kernel loads its own (an
    // NMI returns through it), APs stay in it with ap-handoff=hlt, and an
    // ELF64 kernel runs on its page tables. Both go low, in one block (one
    // reserved entry in the map; GNU Mach keeps its first messages in a
    // 1 KiB buffer that a long map overflows): the boot information, then
    // the park area. The boot information is sized before it is placed:
    // reserving the block splits a usable range into at most two more
    // entries.
    let unplaced = plan
        .boot_info_size(&input(&map))
        .map_err(TakeoverError::BootInfo)?;
    let room = (unplaced as u64 + 2 * MAX_MAP_ENTRY).next_multiple_of(4096);
    let aps = cpus.map_or(0, |c| c.aps.len());
    let park_size = park_area_size(aps);
    let info_at = plan
        .allocate_low("boot information and park area", room + park_size, 4096)
        .map_err(TakeoverError::Place)?;
    let park_at = info_at + room;
    let keep = [Range::new(info_at, park_at + park_size)];
    let handed_map = payload_loader::with_reserved(&map, &keep);
    let blob = plan
        .build_boot_info(&input(&handed_map), info_at)
        .map_err(TakeoverError::BootInfo)?;
    let size = blob.len();
    if size as u64 > room {
        return Err(TakeoverError::BootInfoTooLarge { size, room });
    }
    // SAFETY: allocated above, room >= blob.len(), identity-mapped.
    unsafe { core::ptr::copy_nonoverlapping(blob.as_ptr(), info_at as *mut u8, blob.len()) };

    let mut copies: Vec<CopyStep> = copy_plan::copies(&plan, kernel_at.addr, &staged);
    let direct = match source.kernel_in_part {
        Some(_) => copy_plan::take_direct_reads(&plan, &mut copies),
        None => Vec::new(),
    };
    let jump = jump_to(plan.entry, protocol, info_at, long_mode, options);
    let park = crate::machine::smp::park_area::install(park_at, aps, &copies, jump)
        .map_err(TakeoverError::ParkArea)?;
    tsc::stamp(Stage::Plan);
    match &display {
        Some(d) => info!("baton: screen handed over: {d}"),
        None => info!("baton: no screen to hand over (no framebuffer, no VGA text mode)"),
    }
    info!(
        "baton: handoff prepared: park area [{park_at:#x}..{:#x}), boot information at {info_at:#x} ({size} bytes), {} copies, {} modules",
        park_at + park_size,
        copies.len(),
        modules.len()
    );
    if let Some(part) = source.kernel_in_part {
        info!(
            "baton: kernel read in part ({} of {} bytes so far); {} segments ({} bytes) go straight into place by fw_cfg DMA after the stop",
            copy_plan::bytes_in_hand(part.bytes_read, &staged_ranges, source.kernel.len),
            source.kernel.len,
            direct.len(),
            direct.iter().map(|d| d.len).sum::<u64>()
        );
    }

    Ok(Prepared {
        park,
        options,
        cpus,
        part: source.kernel_in_part,
        direct,
        protocol,
        entry: plan.entry,
        long_mode,
    })
}

/// The screen as the firmware left it: coreboot's framebuffer, else the VGA
/// text console (its cursor where the firmware's last line left it). Its
/// memory is never handed over as usable, nor used for the kernel.
fn screen_now(info: &BootInfo) -> Option<Screen> {
    info.platform
        .framebuffer
        .map(Screen::Linear)
        .or_else(|| crate::machine::entry::vga::text_console_now().map(Screen::Text))
}

/// How the copy stub enters the kernel: its entry, the protocol's magic
/// and boot information, and the test suite's injected faults.
fn jump_to(
    entry: u64,
    protocol: Protocol,
    info_at: u64,
    long_mode: bool,
    options: &Options,
) -> Jump {
    // How the copy stub and the park area reach the LAPIC for the injected
    // self-NMIs (the APs' mode and base are the BSP's).
    let lapic = crate::machine::platform::lapic::get().map(|l| SelfNmi {
        x2apic: l.mode() == Mode::X2Apic,
        apic_id: l.id(),
        mmio: l.mmio() as u32,
    });
    // One pass over the injected faults (the first of each kind counts),
    // not a search for each (measured: -128 bytes).
    let (mut null_fs, mut nmi_in_handoff, mut nmi_in_park, mut stack_race) =
        (false, false, None, None);
    for i in &options.inject {
        match *i {
            Inject::NullFs => null_fs = true,
            Inject::NmiInHandoff => nmi_in_handoff = true,
            Inject::NmiInPark(id) if nmi_in_park.is_none() => nmi_in_park = Some(id),
            Inject::ParkStackRace { waiter, late } if stack_race.is_none() => {
                stack_race = Some((waiter, late))
            }
            _ => {}
        }
    }
    Jump {
        entry,
        info: info_at,
        magic: match protocol {
            Protocol::Multiboot1 => MULTIBOOT1_MAGIC,
            Protocol::Multiboot2 => MULTIBOOT2_MAGIC,
            Protocol::Pvh | Protocol::Elf64 | Protocol::Linux => 0,
        },
        long_mode,
        linux: protocol == Protocol::Linux,
        null_fs,
        self_nmi: lapic.filter(|_| nmi_in_handoff),
        park_faults: ParkFaults {
            lapic,
            nmi_in_park,
            stack_race,
        },
    }
}

/// The takeover's second step: stop every AP (request, wait, NMI), INIT
/// them, read the segments clear of baton into place, and jump through the
/// copy stub. From the first stop request on the APs are no longer baton's:
/// a failure ends the run under the policy.
pub fn commit(p: Prepared<'_>) -> ! {
    let Prepared {
        park,
        options,
        cpus,
        part,
        direct,
        protocol,
        entry,
        long_mode,
    } = p;
    let fail = |e: TakeoverError| -> ! {
        error!("baton: takeover: {e}");
        crate::machine::acpi::power::fail(baton::support::exit::ExitCode::Error)
    };
    if let Some(cpus) = cpus {
        let asked = stop_aps(cpus, options, park).unwrap_or_else(|e| fail(e));
        tsc::stamp(Stage::Stop);
        if !cfg!(feature = "unsafe-takeover") {
            // Every started AP with ap-handoff=init. With ap-handoff=hlt,
            // the APs that got a SIPI but were not asked to stop (never
            // online, or online too late): they run or wait somewhere in
            // memory the kernel owns, and INIT is the one safe state.
            let all = options.ap_handoff == LeaveMode::Init;
            let mut slots = Vec::new();
            for slot in cpus.started.slots() {
                if all || !asked.contains(&slot) {
                    slots.push(slot);
                }
            }
            if all || !slots.is_empty() {
                init_aps(cpus, &slots);
            }
        }
        tsc::stamp(Stage::Init);
    }
    // Every AP is stopped (and INIT'd): now the segments clear of baton
    // come straight from fw_cfg into place.
    if let Some(part) = part {
        for d in &direct {
            if let Err(e) = fetch(part, d.file_offset, d.len, d.dst) {
                fail(e)
            }
        }
        tsc::stamp(Stage::Place);
    }
    info!(
        "baton: jumping to the {protocol} kernel at {entry:#x} ({})",
        match (long_mode, protocol == Protocol::Linux) {
            (true, true) => "long mode, RSI = boot_params",
            (true, false) => "long mode, RDI = boot information",
            (false, true) => "32-bit protected mode, ESI = boot_params",
            (false, false) => "32-bit protected mode, EBX = boot information",
        }
    );
    let (bsp_nmis, ap_nmis) = crate::machine::trap::exceptions::nmi_counts();
    info!("baton: NMIs taken before the jump: BSP {bsp_nmis}, APs {ap_nmis}");
    tsc::stamp(Stage::Jump);
    tsc::report_timeline();
    console::flush();
    park.copy_and_jump()
}
