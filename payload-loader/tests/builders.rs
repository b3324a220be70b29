//! Every builder's output decoded back and compared field by field, plus raw-offset checks
//! against the specifications (so that a builder and decoder cannot share one mistake).
//! One file per protocol's builder under `builders/`; here the helpers and the cases that go
//! across protocols.

mod common;
#[path = "builders/multiboot1_info.rs"]
mod multiboot1_info;
#[path = "builders/multiboot2_info.rs"]
mod multiboot2_info;
#[path = "builders/pvh_info.rs"]
mod pvh_info;
use payload_loader::{
    BootInfoInput, Error, MemoryKind, MemoryRegion, Module, Protocol, Rsdp, boot_info_size,
    build_boot_info, multiboot1, multiboot2, pvh,
};

fn rd32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn rd64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn map() -> Vec<MemoryRegion> {
    vec![
        MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
        MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
        MemoryRegion::new(0x100000, 0x7ffe0000, MemoryKind::Usable),
        MemoryRegion::new(0x7ffe0000, 0x7fff0000, MemoryKind::Acpi),
        MemoryRegion::new(0x7fff0000, 0x80000000, MemoryKind::Nvs),
        MemoryRegion::new(0xb0000000, 0xc0000000, MemoryKind::Other(5)),
        MemoryRegion::new(0x100000000, 0x180000000, MemoryKind::Usable),
    ]
}

fn rsdp_v2() -> Vec<u8> {
    let mut r = vec![0u8; 36];
    r[..8].copy_from_slice(b"RSD PTR ");
    r[9..15].copy_from_slice(b"BOCHS ");
    r[15] = 2;
    r[16..20].copy_from_slice(&0x7ffe1234u32.to_le_bytes());
    r[20..24].copy_from_slice(&36u32.to_le_bytes());
    r[24..32].copy_from_slice(&0x7ffe5678u64.to_le_bytes());
    r
}

/// What a Multiboot kernel that drops the first word (Xen, tboot) sees: every
/// option of its own command line and of each module's, decoded back from
/// the information baton builds, word by word.
#[test]
fn multiboot_command_lines_word_by_word() {
    let words = |s: &[u8]| -> Vec<String> {
        String::from_utf8(s.to_vec())
            .expect("text")
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    for p in [Protocol::Multiboot1, Protocol::Multiboot2] {
        let cmdline = p.command_line("opt/baton/kernel", "console=com1 com1=115200,8n1");
        let dom0 = p.command_line("opt/baton/module/0", "console=hvc0 earlyprintk=xen");
        let initrd = p.command_line("opt/baton/module/1", "");
        let modules = [
            Module {
                addr: 0x200000,
                size: 0x1000,
                cmdline: &dom0,
            },
            Module {
                addr: 0x300000,
                size: 0x1000,
                cmdline: &initrd,
            },
        ];
        let input = BootInfoInput {
            cmdline: &cmdline,
            loader_name: "baton",
            memory_map: &map(),
            machine_map: &[],
            modules: &modules,
            display: None,
            rsdp: None,
        };
        let b = build_boot_info(p, &input, 0x1000).unwrap();
        let (kernel, mods) = match p {
            Protocol::Multiboot1 => {
                let d = multiboot1::decode_info(&b, 0x1000).unwrap();
                (d.cmdline.unwrap(), d.modules)
            }
            _ => {
                let d = multiboot2::decode_info(&b, 0x1000).unwrap();
                (d.cmdline.unwrap(), d.modules)
            }
        };
        assert_eq!(
            words(&kernel),
            ["opt/baton/kernel", "console=com1", "com1=115200,8n1"],
            "{p}"
        );
        // A kernel that drops the first word keeps every option.
        assert_eq!(words(&kernel)[1..], ["console=com1", "com1=115200,8n1"]);
        assert_eq!(
            words(&mods[0].cmdline),
            ["opt/baton/module/0", "console=hvc0", "earlyprintk=xen"],
            "{p}"
        );
        assert_eq!(words(&mods[1].cmdline), ["opt/baton/module/1"], "{p}");
    }
}

/// A map of 1024 entries (the firmware parser's limit) reaches every
/// protocol's kernel whole: no protocol's own format is smaller.
#[test]
fn memory_maps_of_1024_entries_reach_every_protocol() {
    let map: Vec<MemoryRegion> = (0..1024u64)
        .map(|i| {
            let kind = if i % 2 == 0 {
                MemoryKind::Usable
            } else {
                MemoryKind::Reserved
            };
            MemoryRegion::new(i << 24, (i + 1) << 24, kind)
        })
        .collect();
    let input = BootInfoInput {
        cmdline: "console=ttyS0",
        loader_name: "baton",
        memory_map: &map,
        machine_map: &[],
        modules: &[],
        display: None,
        rsdp: None,
    };
    let base = 0x1000;
    let pvh = pvh::decode_start_info(&build_boot_info(Protocol::Pvh, &input, base).unwrap(), base)
        .unwrap();
    assert_eq!(pvh.memory_map, map);
    let mb1 = multiboot1::decode_info(
        &build_boot_info(Protocol::Multiboot1, &input, base).unwrap(),
        base,
    )
    .unwrap();
    assert_eq!(mb1.memory_map, map);
    for p in [Protocol::Multiboot2, Protocol::Elf64] {
        let b = build_boot_info(p, &input, base).unwrap();
        assert_eq!(multiboot2::decode_info(&b, base).unwrap().memory_map, map);
        // 1024 entries of 24 bytes fit the room the firmware gives them.
        assert!(boot_info_size(p, &input).unwrap() < 32 * 1024);
    }
}

/// `mem_lower`/`mem_upper` describe the machine, not the map with the
/// loader's own blocks reserved in it (GRUB reports 639 KiB whatever it put
/// there; Xen places its trampoline by mem_lower).
#[test]
fn multiboot_meminfo_describes_the_machine() {
    let machine = map();
    let handed =
        payload_loader::with_reserved(&machine, &[payload_loader::Range::new(0x3000, 0xe000)]);
    for p in [Protocol::Multiboot1, Protocol::Multiboot2] {
        let input = BootInfoInput {
            cmdline: "",
            loader_name: "baton",
            memory_map: &handed,
            machine_map: &machine,
            modules: &[],
            display: None,
            rsdp: None,
        };
        let b = build_boot_info(p, &input, 0x3000).unwrap();
        let (lower, upper, mmap) = match p {
            Protocol::Multiboot1 => {
                let d = multiboot1::decode_info(&b, 0x3000).unwrap();
                (d.mem_lower, d.mem_upper, d.memory_map)
            }
            _ => {
                let d = multiboot2::decode_info(&b, 0x3000).unwrap();
                (d.mem_lower, d.mem_upper, d.memory_map)
            }
        };
        assert_eq!(lower, Some(639), "{p}");
        assert_eq!(upper, Some((0x7ffe0000 - 0x100000) / 1024), "{p}");
        // The map itself still shows the reserved block.
        assert_eq!(mmap, handed, "{p}");
        // Without a machine map, the handed map is all there is.
        let bare = BootInfoInput {
            machine_map: &[],
            ..input
        };
        let b = build_boot_info(Protocol::Multiboot1, &bare, 0x3000).unwrap();
        assert_eq!(
            multiboot1::decode_info(&b, 0x3000).unwrap().mem_lower,
            Some(12)
        );
    }
}
