//! What baton prints about the machine it was handed: how it was entered,
//! the memory map, the RSDP, its command line, the modules, its footprint.

use baton::entry::BootInfo;
use baton::options::Options;
use baton::source::{KernelSource, Origin};
use baton::support::frames::FrameAllocator;

use core::fmt;

use crate::machine;
use crate::machine::acpi::Acpi;
use crate::machine::platform::{memory, paging, tsc};

/// Memory-map regions printed at the default log level.
const REGIONS_AT_INFO: usize = 32;

// Out of line, as the pipeline's stages (`baton::boot`'s frame; -256 bytes).
#[inline(never)]
pub fn boot(info: &BootInfo, options: &Options, clock: tsc::Source) {
    info!(
        "baton {} entered by {}",
        env!("CARGO_PKG_VERSION"),
        info.protocol
    );
    let p = &info.platform;
    if let Some(firmware) = &p.firmware {
        info!("started by {firmware}");
    }
    if let Some(serial) = p.serial {
        info!(
            "firmware console: serial port {:#x} at {} baud",
            serial.port, serial.baud
        );
    }
    if let Some(cbfs) = &p.cbfs {
        info!(
            "CBFS at [{:#x}..{:#x}) ({} KiB)",
            cbfs.start,
            cbfs.end,
            (cbfs.end - cbfs.start) / 1024
        );
    }
    if let Some(fb) = p.framebuffer {
        info!("firmware screen: {}", payload_loader::Screen::Linear(fb));
    }
    info!("TSC {} kHz ({clock})", tsc::khz());
    info!("command line: \"{}\"", info.cmdline);
    for warning in &options.warnings {
        warn!("command line: {warning}");
    }
    // The first regions at the default level (a real machine's map fits),
    // every one of them with log=debug.
    let regions = info.memory_map.regions();
    info!("memory map ({} regions):", regions.len());
    info!("  {:>18}  {:>18}  {:>10}  kind", "start", "end", "size KiB");
    for (i, r) in regions.iter().enumerate() {
        let line = format_args!(
            "  {:#018x}  {:#018x}  {:>10}  {}",
            r.start,
            r.end,
            r.len() / 1024,
            r.kind
        );
        match i < REGIONS_AT_INFO {
            true => info!("{line}"),
            false => debug!("{line}"),
        }
    }
    if regions.len() > REGIONS_AT_INFO && !log::log_enabled!(log::Level::Debug) {
        info!(
            "  ... {} more regions (log=debug shows them)",
            regions.len() - REGIONS_AT_INFO
        );
    }
    info!(
        "usable RAM {} MiB, identity-mapped up to {:#x}",
        info.memory_map.usable_bytes() >> 20,
        paging::mapped_end()
    );
    // Prove the identity map reaches the top of RAM: a miss is a #PF here,
    // not a mystery in the kernel later.
    let top = info.memory_map.highest_ram() - 8;
    // SAFETY: identity-mapped RAM (map_all_ram covered it), read only.
    let _ = unsafe { core::ptr::read_volatile(top as *const u64) };
    info!("highest RAM qword at {top:#x} is mapped and readable");
    match info.rsdp {
        Some(rsdp) => info!("ACPI RSDP at {rsdp:#x}"),
        None => info!("ACPI RSDP: not given by the entry protocol"),
    }
    info!("modules: {}", info.modules.len());
    for (i, m) in info.modules.iter().enumerate() {
        info!(
            "  module {i}: [{:#x}..{:#x}) {} KiB \"{}\"",
            m.start,
            m.start + m.len,
            m.len / 1024,
            m.cmdline
        );
    }
    let kib = |r: payload_loader::Range| (r.end - r.start) / 1024;
    let image = memory::image();
    info!(
        "footprint: image [{:#x}..{:#x}) {} KiB: loaded {} KiB, heap {} KiB, bss {} KiB (stacks, page tables)",
        image.start,
        image.end,
        kib(image),
        kib(memory::loaded()),
        kib(memory::heap()),
        kib(memory::bss()),
    );
}

pub fn frames(frames: &FrameAllocator) {
    info!(
        "frame allocator: {} MiB free in {} ranges",
        frames.free_bytes() >> 20,
        frames.free_ranges().len()
    );
    for r in frames.free_ranges() {
        debug!("  free [{:#x}..{:#x})", r.start, r.end);
    }
}

pub fn topology(acpi: &Acpi) {
    let t = &acpi.topology;
    debug!("CPUs (MADT, local APIC at {:#x}):", t.lapic_address);
    debug!(
        "  {:>10}  {:>10}  {:<8} {:<15} {:<6} bsp",
        "ACPI UID", "APIC ID", "enabled", "online-capable", "entry"
    );
    for c in &t.cpus {
        debug!(
            "  {:>10}  {:>#10x}  {:<8} {:<15} {:<6} {}",
            c.uid,
            c.apic_id,
            if c.enabled { "yes" } else { "no" },
            if c.online_capable { "yes" } else { "no" },
            if c.x2apic_entry { "x2apic" } else { "xapic" },
            if c.is_bsp { "*" } else { "" },
        );
    }
    for io in &t.io_apics {
        debug!(
            "  I/O APIC {} at {:#x}, GSI base {}",
            io.id, io.address, io.gsi_base
        );
    }
    for o in &t.overrides {
        debug!(
            "  override: bus {} IRQ {} -> GSI {} flags {:#x}",
            o.bus, o.source, o.gsi, o.flags
        );
    }
    for n in &t.nmis {
        debug!(
            "  LAPIC NMI: UID {:#x} LINT{} flags {:#x}",
            n.uid, n.lint, n.flags
        );
    }
    for w in &t.warnings {
        warn!("MADT: {w}");
    }
    if let Some(f) = &acpi.fadt {
        debug!(
            "FADT revision {} ({} bytes): PM1a control {}, PM1b control {}, reset {}",
            f.revision,
            f.length,
            Or(f.pm1a_control, "none"),
            Or(f.pm1b_control, "none"),
            Or(
                f.reset.map(|r| fmt::from_fn(move |out| write!(
                    out,
                    "{} <- {:#x}",
                    r.register, r.value
                ))),
                "none"
            )
        );
    }
    info!(
        "baton: cpus present={} enabled={} bsp={}",
        t.present(),
        t.enabled(),
        Or(
            t.bsp()
                .map(|c| fmt::from_fn(move |f| write!(f, "{:#x}", c.apic_id))),
            "none"
        )
    );
}

/// The kernel source in one line, and the warnings of its `config`.
// Out of line, as `boot` (measured: -192 bytes).
#[inline(never)]
pub fn source(source: &KernelSource, options: &Options, started: u64) {
    let took = tsc::since(started);
    let initrd = Or(
        source
            .initrd
            .map(|b| fmt::from_fn(move |f| write!(f, "initrd {} bytes at {:#x}", b.len, b.addr))),
        "no initrd",
    );
    let method = match source.origin {
        Origin::FwCfg => machine::source::fw_cfg_method(),
        _ => None,
    };
    let method = Or(
        method.map(|m| fmt::from_fn(move |f| write!(f, " by {m}"))),
        "",
    );
    info!(
        "baton: kernel from {}: {} bytes at {:#x}, {initrd}, {} modules, cmdline \"{}\" ({took} ms{method})",
        source.origin,
        source.kernel.len,
        source.kernel.addr,
        source.modules.len(),
        source.cmdline,
    );
    let mut head = [0u8; 8];
    let n = source.kernel.len.min(head.len() as u64) as usize;
    if baton::support::phys::PhysMemory::read(
        &paging::IdentityMapped,
        source.kernel.addr,
        &mut head[..n],
    )
    .is_ok()
    {
        debug!(
            "kernel begins {}",
            baton::support::quote::HexBytes(&head[..n])
        );
    }
    for (i, m) in source.modules.iter().enumerate() {
        info!(
            "  module {i}: {} bytes at {:#x} \"{}\"",
            m.blob.len, m.blob.addr, m.cmdline
        );
    }
    if let Some(config) = &source.config {
        info!("config: \"{config}\"");
        for warning in &options.warnings {
            warn!("config: {warning}");
        }
    }
}

/// The banner of a negative-control build: each takeover hole it brings
/// back for the test suite.
pub fn negative_controls() {
    if cfg!(feature = "unsafe-takeover") {
        info!(
            "baton: UNSAFE-TAKEOVER BUILD: a negative control with Linux's takeover bugs back; never boot it for real"
        );
    }
    for hole in machine::NEGATIVE_CONTROLS {
        info!(
            "baton: NEGATIVE-CONTROL BUILD ({hole}): a takeover hole brought back for the test suite; never boot it for real"
        );
    }
}

/// The value, or `otherwise` when there is none: printed in place, where a
/// `String` built for the line cost its allocation, its formatting and its
/// drop at every value.
struct Or<T>(Option<T>, &'static str);

impl<T: fmt::Display> fmt::Display for Or<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(value) => value.fmt(f),
            None => f.write_str(self.1),
        }
    }
}
