//! bzImage planning and boot_params: plan against one of four memory maps, place an initrd
//! and the boot_params, build them and decode them back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::{
    BootInfoInput, BootProtocol, Error, MemoryKind, MemoryRegion, Module, PlanConfig, Protocol,
    Range, Rsdp, boot_params, bzimage, plan,
};

const LOW: [MemoryRegion; 3] = [
    MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
    MemoryRegion::new(0xf0000, 0x100000, MemoryKind::Reserved),
    MemoryRegion::new(0x100000, 0x1ffe0000, MemoryKind::Usable),
];
const HIGH: [MemoryRegion; 4] = [
    MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
    MemoryRegion::new(0x100000, 0x80000000, MemoryKind::Usable),
    MemoryRegion::new(0xfeffc000, 0xff000000, MemoryKind::Reserved),
    MemoryRegion::new(0x100000000, 0x200000000, MemoryKind::Usable),
];

/// 300 entries: usable 2 MiB pieces split by reserved pages (more than boot_params hold).
fn many() -> Vec<MemoryRegion> {
    let mut m = Vec::new();
    for i in 0..150u64 {
        let at = 0x100000 + i * 0x400000;
        m.push(MemoryRegion::new(at, at + 0x3ff000, MemoryKind::Usable));
        m.push(MemoryRegion::new(at + 0x3ff000, at + 0x400000, MemoryKind::Reserved));
    }
    m.push(MemoryRegion::new(0x100000000, 0x140000000, MemoryKind::Usable));
    m
}

fuzz_target!(|data: &[u8]| {
    let [mode, cmdline_len, rest @ ..] = data else {
        return;
    };
    let mut k = rest.to_vec();
    if mode & 0x10 == 0 {
        if k.len() < 0x500 {
            k.resize(0x500, 0);
        }
        k[0x1fe..0x200].copy_from_slice(&0xAA55u16.to_le_bytes());
        k[0x202..0x206].copy_from_slice(b"HdrS");
    }
    let many = many();
    let map: &[MemoryRegion] = match mode & 3 {
        0 => &LOW,
        1 => &HIGH,
        _ => &many,
    };
    let firmware: &[Range] = if mode & 4 != 0 {
        &[Range::new(0x100000, 0x200000), Range::new(0x1000000, 0x1400000)]
    } else {
        &[Range::new(0x100000, 0x200000)]
    };
    let mut cfg = PlanConfig::new(map, firmware);
    if mode & 8 != 0 {
        cfg.alloc_max = 1 << 36;
    }
    let Ok(mut p) = plan(&k, &cfg) else {
        return;
    };
    let BootProtocol::Linux(h) = p.protocol.clone() else {
        panic!("a file with HdrS planned as {}", p.kind());
    };
    assert_eq!(p.kind(), Protocol::Linux);
    let kernel = p.segments[0];
    assert_eq!(kernel.file_offset, h.setup_size());
    assert_eq!(kernel.file_bytes(&k), k.get(h.setup_size() as usize..));
    assert!(kernel.dest <= p.entry && p.entry < kernel.dest + kernel.file_size);
    if h.long_mode_entry() {
        assert_eq!(p.entry, kernel.dest + 0x200);
    }
    if h.relocatable {
        assert_eq!(kernel.dest % u64::from(h.kernel_alignment), 0);
        assert!(kernel.dest >= h.pref_address);
        assert!(kernel.mem_size >= h.runtime_size(kernel.file_size));
    } else {
        assert_eq!(kernel.dest, bzimage::HIGH_LOAD_ADDR);
    }
    for (i, s) in p.segments.iter().enumerate() {
        assert!(s.file_size <= s.mem_size);
        let overlaps = firmware.iter().any(|f| f.overlaps(&s.dest_range()));
        assert_eq!(s.overlaps_firmware, overlaps);
        for t in &p.segments[i + 1..] {
            assert!(!s.dest_range().overlaps(&t.dest_range()));
        }
        let end = if h.long_mode_entry() && h.above_4g() {
            cfg.alloc_max
        } else {
            cfg.alloc_max.min(1 << 32)
        };
        assert!(s.dest_range().end <= end);
    }

    let initrd_size = 0x10000 + u64::from(*cmdline_len) * 0x1000;
    let Ok(initrd) = p.allocate_below("initrd", initrd_size, 4096, p.initrd_limit()) else {
        return;
    };
    let modules = [Module {
        addr: initrd,
        size: initrd_size,
        cmdline: "",
    }];
    let cmdline = "x".repeat(usize::from(*cmdline_len) * 9);
    let info = BootInfoInput {
        cmdline: &cmdline,
        loader_name: "baton",
        memory_map: map,
        machine_map: &[],
        modules: &modules,
        display: None,
        rsdp: Some(Rsdp {
            addr: 0xf5000,
            bytes: &[0; 20],
        }),
    };
    let size = match p.boot_info_size(&info) {
        Ok(size) => size,
        Err(e) => {
            assert!(cmdline.len() > h.cmdline_size as usize || map.len() > 128);
            assert!(matches!(
                *e,
                Error::BzCmdlineTooLong { .. } | Error::BzTooManyE820 { .. }
            ));
            return;
        }
    };
    let Ok(at) = p.allocate_low("boot_params", size as u64, 4096) else {
        return;
    };
    let blob = p.build_boot_info(&info, at).expect("sized, then built");
    assert_eq!(blob.len(), size);
    let d = boot_params::decode(&blob, at).expect("decode");
    assert_eq!(d.memory_map, map);
    assert_eq!(d.cmdline, cmdline.as_bytes());
    assert_eq!((d.ramdisk_image, d.ramdisk_size), (initrd, initrd_size));
    assert_eq!(d.type_of_loader, 0xff);
    assert_eq!(d.loadflags, bzimage::LOADED_HIGH);
    assert_eq!(d.acpi_rsdp_addr != 0, h.version >= 0x020E);
    assert_eq!(&d.header[..0x1f], &h.raw[..0x1f]); // up to type_of_loader, as in the file
});
