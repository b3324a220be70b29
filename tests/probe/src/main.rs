//! probe: a test kernel that checks the handoff it was given, then takes the
//! machine over like a real kernel. One source, four entry flavours (cargo
//! features `pvh`, `mb1`, `mb2`, `elf64`); every step reports on COM1 as a
//! `probe: ` line, and the run ends through isa-debug-exit (see exit.rs).
#![no_std]
#![no_main]

extern crate alloc;

mod acpi;
mod console;
mod entry;
mod exit;
mod gather;
mod handoff;
mod idt;
mod memory;
mod options;
mod phys;
mod smp;
mod time;
mod trap;

use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

const HEAP_SIZE: usize = 1 << 20;
#[repr(C, align(4096))]
struct HeapSpace([u8; HEAP_SIZE]);
static mut HEAP_SPACE: HeapSpace = HeapSpace([0; HEAP_SIZE]);

fn main() -> ! {
    console::Serial::init();
    idt::install();
    // SAFETY: the heap space is in .bss (inside the image), used only here.
    unsafe {
        HEAP.lock()
            .init((&raw mut HEAP_SPACE).cast::<u8>(), HEAP_SIZE);
    }
    let image = entry::image();
    say!(
        "{} flavour entered; image [{:#x}..{:#x})",
        entry::FLAVOUR.name(),
        image.0,
        image.1
    );
    let source = time::calibrate();
    say!("TSC {} kHz ({source})", time::khz());

    let handoff = handoff::check(image);
    let options = options::Options::parse(&handoff.cmdline);
    say!(
        "options: settle-ms={} ap-timeout-ms={} sipi-only={:?} nmi-aps={}",
        options.settle_ms,
        options.ap_timeout_ms,
        options.sipi_only,
        options.nmi_aps
    );
    let madt = acpi::madt(&handoff.rsdp);
    if let Some(trap) = &options.trap {
        trap.install(image);
    }
    let spared = options.trap.as_ref().map(|t| t.range());
    memory::overwrite(&handoff.memory_map, image, spared, options.settle_ms);
    if options.trap.is_some() {
        say!("trap: no CPU ran it (no marker in the overwritten memory)");
    }
    if let Some(reason) = smp::run(
        &madt,
        &handoff.memory_map,
        options.ap_timeout_ms,
        options.sipi_only,
        options.nmi_aps,
    ) {
        fail!("{reason}");
    }
    exit::pass()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    fail!("panic: {info}")
}
