//! Whole pipeline: validate + detect + plan, then build the protocol's boot info at an
//! allocated address and decode it back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::display::MultibootFramebuffer;
use payload_loader::{
    BootInfoInput, ColorField, Screen, Error, LinearFramebuffer, MemoryKind, MemoryRegion,
    Module, PlanConfig, Protocol, Range, Rsdp, TextConsole, boot_params, multiboot1, multiboot2,
    plan, pvh, screen_info,
};

const MAP: [MemoryRegion; 5] = [
    MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
    MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
    MemoryRegion::new(0x100000, 0x7ffe0000, MemoryKind::Usable),
    MemoryRegion::new(0x7ffe0000, 0x80000000, MemoryKind::Acpi),
    MemoryRegion::new(0x100000000, 0x180000000, MemoryKind::Usable),
];
const FIRMWARE: [Range; 1] = [Range::new(0x100000, 0x180000)];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the override (bits 0-2: 0..=4 a protocol, anything else none)
    // and the screen (bits 3-4: none, a framebuffer, VGA text).
    let (sel, kernel) = match data.split_first() {
        Some((s, k)) => (*s, k),
        None => return,
    };
    let mut cfg = PlanConfig::new(&MAP, &FIRMWARE);
    cfg.protocol = match sel & 7 {
        0 => Some(Protocol::Pvh),
        1 => Some(Protocol::Multiboot2),
        2 => Some(Protocol::Multiboot1),
        3 => Some(Protocol::Elf64),
        4 => Some(Protocol::Linux),
        _ => None,
    };
    let Ok(mut p) = plan(kernel, &cfg) else {
        return;
    };
    // Plan invariants.
    for s in &p.segments {
        assert!(s.file_size <= s.mem_size);
        assert!(s.file_bytes(kernel).is_some());
        assert_eq!(s.overlaps_firmware, FIRMWARE[0].overlaps(&s.dest_range()));
    }
    assert!(
        p.segments
            .iter()
            .any(|s| s.dest <= p.entry && p.entry < s.dest + s.mem_size)
    );
    let Ok(initrd) = p.allocate("initrd", 0x10000, p.module_align) else {
        return;
    };
    for s in &p.segments {
        assert!(
            !s.dest_range()
                .overlaps(&Range::new(initrd, initrd + 0x10000))
        );
    }
    let modules = [Module {
        addr: initrd,
        size: 0x10000,
        cmdline: "initrd",
    }];
    let field = |position, size| ColorField { position, size };
    let display = match sel >> 3 & 3 {
        1 => Some(Screen::Linear(LinearFramebuffer {
            addr: 0xfd00_0000,
            pitch: 3200,
            width: 800,
            height: 600,
            bits_per_pixel: 32,
            red: field(16, 8),
            green: field(8, 8),
            blue: field(0, 8),
            reserved: field(24, 8),
        })),
        2 => Some(Screen::Text(TextConsole {
            columns: 80,
            rows: 25,
            char_height: 16,
            cursor_x: 3,
            cursor_y: 4,
        })),
        _ => None,
    };
    let mut rsdp = [0u8; 36];
    rsdp[15] = 2;
    rsdp[20] = 36;
    let input = BootInfoInput {
        cmdline: "console=ttyS0",
        loader_name: "baton",
        memory_map: &MAP,
        machine_map: &[],
        modules: &modules,
        display,
        rsdp: Some(Rsdp {
            addr: 0xf5000,
            bytes: &rsdp,
        }),
    };
    let Ok(at) = p.allocate("boot info", 0x1000, 8) else {
        return;
    };
    // The handed-over map reserves every allocation and loses no other byte.
    let handoff = payload_loader::with_reserved(&MAP, p.allocations());
    let usable = |m: &[MemoryRegion]| -> u64 {
        m.iter()
            .filter(|r| r.kind == MemoryKind::Usable)
            .map(|r| r.len())
            .sum()
    };
    let reserved: u64 = p.allocations().iter().map(|r| r.len()).sum();
    assert_eq!(usable(&handoff) + reserved, usable(&MAP));
    for r in handoff.iter().filter(|r| r.kind == MemoryKind::Usable) {
        assert!(
            p.allocations()
                .iter()
                .all(|a| !a.overlaps(&Range::new(r.start, r.end)))
        );
    }
    let blob = match p.build_boot_info(&input, at) {
        Ok(blob) => blob,
        // A bzImage's own limits (cmdline_size, initrd_addr_max) may refuse this input.
        Err(_) if p.kind() == Protocol::Linux => return,
        // A Multiboot kernel may require a screen, or a mode, that is not there.
        Err(e) if matches!(*e, Error::VideoModeUnavailable { .. }) => return,
        Err(e) => panic!("builder failed on valid input: {e}"),
    };
    match p.kind() {
        Protocol::Pvh => {
            let d = pvh::decode_start_info(&blob, at).expect("decode");
            assert_eq!(d.memory_map, MAP);
            assert!(d.modules[0].matches(&modules[0]));
        }
        Protocol::Multiboot1 => {
            let d = multiboot1::decode_info(&blob, at).expect("decode");
            assert_eq!(d.memory_map, MAP);
            assert_eq!(d.framebuffer, display.as_ref().map(MultibootFramebuffer::from));
        }
        Protocol::Linux => {
            let d = boot_params::decode(&blob, at).expect("decode");
            assert_eq!(d.memory_map, MAP);
            let video_type = match display {
                Some(Screen::Linear(_)) => screen_info::VIDEO_TYPE_EFI,
                Some(Screen::Text(_)) => screen_info::VIDEO_TYPE_VGAC,
                None => 0,
            };
            assert_eq!(d.screen_info.video_type, video_type);
        }
        Protocol::Multiboot2 | Protocol::Elf64 => {
            let d = multiboot2::decode_info(&blob, at).expect("decode");
            assert_eq!(d.memory_map, MAP);
            assert_eq!(d.rsdp_new.as_deref(), Some(&rsdp[..]));
            assert_eq!(d.framebuffer, display.as_ref().map(MultibootFramebuffer::from));
        }
    }
});
