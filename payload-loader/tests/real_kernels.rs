//! Real kernels from Debian: Linux 6.1 (PVH) and grub-invaders (Multiboot1).
//! Fetch them with `payload-loader/tests/fetch-assets.sh`; without them these tests SKIP.

mod common;
use common::*;
use payload_loader::{
    BootInfoInput, BootProtocol, MemoryKind, MemoryRegion, Module, PlanConfig, Protocol, Range,
    build_boot_info, multiboot1, plan, pvh,
};
use std::fs;
use std::path::PathBuf;
use std::process::Command;

fn skip(what: &str, path: &std::path::Path) {
    println!(
        "SKIP: {what}: {} is absent (run payload-loader/tests/fetch-assets.sh)",
        path.display()
    );
}

/// The ELF inside a bzImage: payload_offset/length in the setup header, relative to the
/// protected-mode code at (setup_sects + 1) * 512; lz4 (legacy frame) only.
fn extract_vmlinux(bzimage: &[u8]) -> Result<Vec<u8>, String> {
    let rd = |at: usize| {
        u32::from_le_bytes(bzimage[at..at + 4].try_into().expect("test asset")) as usize
    };
    if bzimage.len() < 0x250 || &bzimage[0x202..0x206] != b"HdrS" {
        return Err("not a bzImage".into());
    }
    let setup_sects = match bzimage[0x1f1] {
        0 => 4,
        n => n as usize,
    };
    let start = (setup_sects + 1) * 512 + rd(0x248);
    let payload = &bzimage[start..start + rd(0x24c)];
    if payload[..4] != [0x02, 0x21, 0x4c, 0x18] {
        return Err(format!(
            "payload magic {:02x?} is not lz4 legacy (xz needs the generic flavour's decoder)",
            &payload[..6]
        ));
    }
    let mut out = Vec::new();
    let mut pos = 4;
    let mut block = vec![0u8; 8 << 20];
    while pos + 4 <= payload.len() {
        let size =
            u32::from_le_bytes(payload[pos..pos + 4].try_into().expect("test asset")) as usize;
        if size == 0x184c2102 {
            pos += 4;
            continue;
        }
        if pos + 4 + size > payload.len() {
            break; // the trailing uncompressed-size word
        }
        let n = lz4_flex::block::decompress_into(&payload[pos + 4..pos + 4 + size], &mut block)
            .map_err(|e| e.to_string())?;
        out.extend_from_slice(&block[..n]);
        pos += 4 + size;
    }
    Ok(out)
}

/// `target/test-assets/linux/vmlinux`, decompressed from `vmlinuz` on first use; or
/// `$BATON_VMLINUX`. Loaded once per test process (the tests run in parallel threads).
fn vmlinux() -> Option<(PathBuf, Vec<u8>)> {
    static ONCE: std::sync::OnceLock<Option<(PathBuf, Vec<u8>)>> = std::sync::OnceLock::new();
    ONCE.get_or_init(load_vmlinux).clone()
}

fn load_vmlinux() -> Option<(PathBuf, Vec<u8>)> {
    if let Ok(p) = std::env::var("BATON_VMLINUX") {
        return Some((p.clone().into(), fs::read(p).expect("test asset")));
    }
    let dir = assets_dir().join("linux");
    let elf = dir.join("vmlinux");
    if let Ok(b) = fs::read(&elf) {
        return Some((elf, b));
    }
    let z = dir.join("vmlinuz");
    let Ok(bz) = fs::read(&z) else {
        skip("Debian Linux vmlinuz", &z);
        return None;
    };
    match extract_vmlinux(&bz) {
        Ok(b) => {
            let tmp = dir.join(format!("vmlinux.{}", std::process::id()));
            fs::write(&tmp, &b).expect("test asset");
            fs::rename(&tmp, &elf).expect("test asset");
            Some((elf, b))
        }
        Err(e) => {
            println!("SKIP: cannot extract {}: {e}", z.display());
            None
        }
    }
}

/// One PT_LOAD row of `readelf -lW`: (offset, vaddr, paddr, filesz, memsz, flags).
type LoadRow = (u64, u64, u64, u64, u64, String);

fn readelf_loads(path: &std::path::Path) -> Option<Vec<LoadRow>> {
    let out = Command::new("readelf").arg("-lW").arg(path).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("test asset");
    Some(
        text.lines()
            .filter(|l| l.trim_start().starts_with("LOAD "))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let flags = f[6..f.len() - 1].concat();
                (hex(f[1]), hex(f[2]), hex(f[3]), hex(f[4]), hex(f[5]), flags)
            })
            .collect(),
    )
}

fn flags_str(flags: u32) -> String {
    let mut s = String::new();
    if flags & 4 != 0 {
        s.push('R');
    }
    if flags & 2 != 0 {
        s.push('W');
    }
    if flags & 1 != 0 {
        s.push('E');
    }
    s
}

#[test]
fn debian_linux_is_pvh_with_readelf_segments() {
    let Some((path, k)) = vmlinux() else { return };
    let map = memory_map();
    // baton itself at 1 MiB..2 MiB and a heap at 16 MiB: the kernel overlaps the latter.
    let firmware = [
        Range::new(0x100000, 0x200000),
        Range::new(0x1000000, 0x1100000),
    ];
    let mut p = plan(&k, &PlanConfig::new(&map, &firmware)).unwrap();
    assert_eq!(p.kind(), Protocol::Pvh);
    let BootProtocol::Pvh(note) = p.protocol else {
        unreachable!()
    };
    println!(
        "PVH entry 0x{:x}, {} segments",
        note.entry,
        p.segments.len()
    );
    assert_eq!(p.entry, u64::from(note.entry));
    assert!(p.entry >= 0x1000000 && p.entry < 0x2000000);
    // Always by p_paddr: the first segment is linked at 0xffffffff81000000, loaded at 16 MiB.
    assert_eq!(p.segments[0].dest, 0x1000000);
    assert!(p.segments[0].overlaps_firmware);
    assert!(p.needs_relocation());
    assert!(p.segments[1..].iter().all(|s| !s.overlaps_firmware));
    // The .data..percpu segment: vaddr 0, loaded at its paddr.
    assert!(
        p.segments
            .iter()
            .any(|s| s.dest > 0x2000000 && s.dest < 0x4000000 && s.flags & 2 != 0)
    );
    match readelf_loads(&path) {
        Some(rows) => {
            assert_eq!(rows.len(), p.segments.len());
            for (s, r) in p.segments.iter().zip(&rows) {
                assert_eq!(
                    (s.file_offset, s.dest, s.file_size, s.mem_size),
                    (r.0, r.2, r.3, r.4)
                );
                assert_eq!(flags_str(s.flags), r.5);
            }
            println!("{} PT_LOADs match readelf -l", rows.len());
        }
        None => println!("SKIP readelf comparison: readelf not runnable"),
    }
    // Place an initrd and the start_info, and check nothing collides.
    let initrd = p.allocate("initrd", 0x80_0000, p.module_align).unwrap();
    assert_eq!(initrd % 4096, 0);
    let mods = [Module {
        addr: initrd,
        size: 0x80_0000,
        cmdline: "",
    }];
    let input = BootInfoInput {
        cmdline: "console=ttyS0 panic=-1",
        loader_name: "baton",
        memory_map: &map,
        machine_map: &[],
        modules: &mods,
        display: None,
        rsdp: None,
    };
    let size = payload_loader::boot_info_size(Protocol::Pvh, &input).unwrap();
    let at = p.allocate("start_info", size as u64, 8).unwrap();
    let blob = build_boot_info(Protocol::Pvh, &input, at).unwrap();
    let d = pvh::decode_start_info(&blob, at).unwrap();
    assert_eq!(d.version, 1);
    assert_eq!(d.memory_map, map);
    assert!(d.modules[0].matches(&mods[0]));
    for a in p.allocations() {
        for s in &p.segments {
            assert!(!a.overlaps(&s.dest_range()));
        }
        for f in &firmware {
            assert!(!a.overlaps(f));
        }
    }
}

#[test]
fn debian_linux_as_plain_elf64_override() {
    let Some((_, k)) = vmlinux() else { return };
    let map = memory_map();
    let mut cfg = PlanConfig::new(&map, &[]);
    cfg.protocol = Some(Protocol::Elf64);
    let p = plan(&k, &cfg).unwrap();
    assert_eq!(p.kind(), Protocol::Elf64);
    // vmlinux's e_entry is physical (startup_64 at 16 MiB).
    assert_eq!(p.entry, 0x1000000);
    cfg.protocol = Some(Protocol::Multiboot1);
    assert_eq!(
        *plan(&k, &cfg).unwrap_err(),
        payload_loader::Error::ProtocolNotPresent {
            protocol: Protocol::Multiboot1
        }
    );
}

#[test]
fn debian_linux_refused_when_ram_is_too_small() {
    let Some((_, k)) = vmlinux() else { return };
    let map = [MemoryRegion::new(0x100000, 0x2000000, MemoryKind::Usable)];
    let e = *plan(&k, &PlanConfig::new(&map, &[])).unwrap_err();
    println!("{e}");
    assert!(matches!(
        e,
        payload_loader::Error::SegmentNotInUsableRam { region: None, .. }
    ));
}

#[test]
fn grub_invaders_is_multiboot1_with_address_fields() {
    let path = assets_dir().join("grub-invaders/invaders.exec");
    let Ok(k) = fs::read(&path) else {
        skip("grub-invaders", &path);
        return;
    };
    let map = memory_map();
    let mut p = plan(&k, &PlanConfig::new(&map, &[])).unwrap();
    let BootProtocol::Multiboot1(h) = &p.protocol else {
        panic!("{:?}", p.protocol)
    };
    assert_eq!(h.offset, 0x84);
    assert_eq!(h.flags, 0x10003);
    assert_eq!(p.class, payload_loader::ElfClass::Elf32);
    // The address fields win over the program headers: one segment, bss to 0x105b50.
    assert_eq!(p.segments.len(), 1);
    let s = p.segments[0];
    assert_eq!(
        (s.file_offset, s.file_size, s.dest, s.mem_size),
        (0x80, 0x19d8, 0x100000, 0x5b50)
    );
    assert_eq!(p.entry, 0x100024);
    // Boot info never lands in the kernel's bss (0x101a64..0x105b50 included).
    let input = BootInfoInput {
        cmdline: "invaders",
        loader_name: "baton",
        memory_map: &map,
        machine_map: &[],
        modules: &[],
        display: None,
        rsdp: None,
    };
    let size = payload_loader::boot_info_size(Protocol::Multiboot1, &input).unwrap() as u64;
    let at = p.allocate("mbi", size, 8).unwrap();
    assert!(!Range::new(at, at + size).overlaps(&Range::new(0x100000, 0x105b50)));
    let blob = build_boot_info(Protocol::Multiboot1, &input, at).unwrap();
    let d = multiboot1::decode_info(&blob, at).unwrap();
    assert_eq!(d.mem_lower, Some(639));
    assert_eq!(d.cmdline.as_deref(), Some(&b"invaders"[..]));
}

/// q35-like maps of 512 MiB, 2 GiB and 6 GiB (RAM above 4 GiB past 2 GiB).
fn maps() -> [(&'static str, Vec<MemoryRegion>); 3] {
    let hole = |low_end: u64| {
        vec![
            MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
            MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
            MemoryRegion::new(0xf0000, 0x100000, MemoryKind::Reserved),
            MemoryRegion::new(0x100000, low_end - 0x20000, MemoryKind::Usable),
            MemoryRegion::new(low_end - 0x20000, low_end, MemoryKind::Acpi),
            MemoryRegion::new(0xfeffc000, 0xff000000, MemoryKind::Reserved),
            MemoryRegion::new(0xfffc0000, 0x100000000, MemoryKind::Reserved),
        ]
    };
    let mut six = hole(0x8000_0000);
    six.push(MemoryRegion::new(
        0x1_0000_0000,
        0x2_0000_0000,
        MemoryKind::Usable,
    ));
    [
        ("512M", hole(0x2000_0000)),
        ("2G", hole(0x8000_0000)),
        ("6G", six),
    ]
}

#[test]
fn debian_bzimage_plans_and_gets_boot_params() {
    let path = assets_dir().join("linux/vmlinuz");
    let Ok(k) = fs::read(&path) else {
        skip("Debian Linux vmlinuz", &path);
        return;
    };
    let setup = (usize::from(k[0x1f1]) + 1) * 512;
    for (name, map) in maps() {
        // baton at 1 MiB..2 MiB; with and without a heap at pref_address (16 MiB).
        for (firmware, dest) in [
            (vec![Range::new(0x100000, 0x200000)], 0x100_0000),
            (
                vec![
                    Range::new(0x100000, 0x200000),
                    Range::new(0x100_0000, 0x110_0000),
                ],
                0x120_0000,
            ),
        ] {
            let mut p = plan(&k, &PlanConfig::new(&map, &firmware)).unwrap();
            let BootProtocol::Linux(h) = p.protocol.clone() else {
                panic!("{name}: {:?}", p.protocol)
            };
            assert_eq!(
                (h.version, h.xloadflags, h.cmdline_size, h.kernel_alignment),
                (0x020f, 0x7f, 0x7ff, 0x20_0000)
            );
            assert_eq!((h.pref_address, h.init_size), (0x100_0000, 0x337_8000));
            assert!(h.relocatable && p.enters_long_mode());
            assert_eq!(p.segments.len(), 1);
            let s = p.segments[0];
            assert_eq!(
                (s.file_offset, s.file_size, s.dest, s.mem_size),
                (setup as u64, (k.len() - setup) as u64, dest, 0x337_8000),
                "{name}"
            );
            assert!(!s.overlaps_firmware);
            assert_eq!(p.entry, dest + 0x200);
            println!(
                "{name}: bzImage at 0x{:x}..0x{:x}, entry 0x{:x}",
                s.dest,
                s.dest + s.mem_size,
                p.entry
            );

            let initrd_size = 0x200_0000;
            let initrd = p
                .allocate_below("initrd", initrd_size, p.module_align, p.initrd_limit())
                .unwrap();
            let modules = [Module {
                addr: initrd,
                size: initrd_size,
                cmdline: "",
            }];
            let input = BootInfoInput {
                cmdline: "console=ttyS0 panic=-1",
                loader_name: "baton",
                memory_map: &map,
                machine_map: &[],
                modules: &modules,
                display: None,
                rsdp: None,
            };
            let size = p.boot_info_size(&input).unwrap() as u64;
            let at = p.allocate_low("boot_params", size, 4096).unwrap();
            let blob = p.build_boot_info(&input, at).unwrap();
            let d = payload_loader::boot_params::decode(&blob, at).unwrap();
            assert_eq!(d.memory_map, map);
            assert_eq!(d.cmdline, b"console=ttyS0 panic=-1");
            assert_eq!((d.ramdisk_image, d.ramdisk_size), (initrd, initrd_size));
            assert_eq!(d.header[..0x1f], k[0x1f1..0x210]);
            for a in p.allocations() {
                assert!(!a.overlaps(&s.dest_range()), "{name}: {a:?}");
                assert!(firmware.iter().all(|f| !a.overlaps(f)));
            }
        }
    }
}
