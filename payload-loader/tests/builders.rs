//! Every builder's output decoded back and compared field by field, plus raw-offset checks
//! against the specifications (so that a builder and decoder cannot share one mistake).

mod common;
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

#[test]
fn pvh_start_info_round_trip() {
    let map = map();
    let mods = [
        Module {
            addr: 0x4000000,
            size: 0x123456,
            cmdline: "initrd",
        },
        Module {
            addr: 0x5000000,
            size: 0x1000,
            cmdline: "",
        },
        Module {
            addr: 0x1_2000_0000,
            size: 0x2000,
            cmdline: "dom0 console=hvc0",
        },
    ];
    let rsdp = rsdp_v2();
    let input = BootInfoInput {
        cmdline: "console=ttyS0 root=/dev/vda",
        loader_name: "baton",
        memory_map: &map,
        machine_map: &[],
        modules: &mods,
        display: None,
        rsdp: Some(Rsdp {
            addr: 0xf5a00,
            bytes: &rsdp,
        }),
    };
    let base = 0x7000;
    let b = pvh::build_start_info(&input, base).unwrap();
    assert_eq!(b.len(), boot_info_size(Protocol::Pvh, &input).unwrap());
    // Raw layout: Xen's struct hvm_start_info.
    assert_eq!(rd32(&b, 0), 0x336ec578);
    assert_eq!(rd32(&b, 4), 1);
    assert_eq!(rd32(&b, 12), 3); // nr_modules
    assert_eq!(rd64(&b, 32), 0xf5a00); // rsdp_paddr
    assert_eq!(rd64(&b, 40), base + 56); // memmap right after the 56-byte struct
    assert_eq!(rd32(&b, 48), map.len() as u32);
    assert_eq!(rd64(&b, 16), base + 56 + 24 * map.len() as u64); // modlist after memmap
    // The memmap entries: addr, size, type.
    assert_eq!(rd64(&b, 56 + 24 * 3), 0x7ffe0000);
    assert_eq!(rd64(&b, 56 + 24 * 3 + 8), 0x10000);
    assert_eq!(rd32(&b, 56 + 24 * 3 + 16), 3);
    assert_eq!(rd32(&b, 56 + 24 * 5 + 16), 5);
    let d = pvh::decode_start_info(&b, base).unwrap();
    assert_eq!(d.magic, pvh::START_INFO_MAGIC);
    assert_eq!(d.version, 1);
    assert_eq!(d.flags, 0);
    assert_eq!(d.rsdp_paddr, 0xf5a00);
    assert_eq!(d.cmdline, input.cmdline.as_bytes());
    assert_eq!(d.memory_map, map);
    assert_eq!(d.modules.len(), 3);
    for (dm, m) in d.modules.iter().zip(&mods) {
        assert!(dm.matches(m), "{dm:?} vs {m:?}");
    }
    // The same input at another base decodes the same.
    let b2 = pvh::build_start_info(&input, 0x1_0000_0000).unwrap();
    assert_eq!(pvh::decode_start_info(&b2, 0x1_0000_0000).unwrap(), d);
    // Decoding at the wrong base fails cleanly.
    assert!(matches!(
        pvh::decode_start_info(&b, base + 8).map_err(|e| *e),
        Err(Error::DecodeOutOfBounds { .. })
    ));
}

#[test]
fn pvh_empty_parts() {
    let input = BootInfoInput::default();
    let b = pvh::build_start_info(&input, 0x1000).unwrap();
    assert_eq!(b.len(), pvh::START_INFO_SIZE);
    assert_eq!(rd64(&b, 24), 0); // cmdline_paddr
    assert_eq!(rd64(&b, 16), 0); // modlist_paddr
    let d = pvh::decode_start_info(&b, 0x1000).unwrap();
    assert!(d.cmdline.is_empty() && d.modules.is_empty() && d.memory_map.is_empty());
    // Version 0 and a bad magic are refused by the decoder.
    let mut v0 = b.clone();
    v0[4] = 0;
    assert_eq!(
        pvh::decode_start_info(&v0, 0x1000).map_err(|e| *e),
        Err(Error::DecodeBadValue {
            field: "start_info.version",
            value: 0
        })
    );
    let mut bad = b;
    bad[0] = 0;
    assert!(matches!(
        pvh::decode_start_info(&bad, 0x1000).map_err(|e| *e),
        Err(Error::DecodeBadValue {
            field: "start_info.magic",
            ..
        })
    ));
}

#[test]
fn multiboot1_info_round_trip() {
    let map = map();
    let mods = [
        Module {
            addr: 0x200000,
            size: 0x10000,
            cmdline: "/boot/xen.gz dom0_mem=512M",
        },
        Module {
            addr: 0x300000,
            size: 0x20000,
            cmdline: "",
        },
    ];
    let input = BootInfoInput {
        cmdline: "invaders",
        loader_name: "baton 0.1",
        memory_map: &map,
        machine_map: &[],
        modules: &mods,
        display: None,
        rsdp: None,
    };
    let base = 0x9000;
    let b = multiboot1::build_info(&input, base).unwrap();
    assert_eq!(
        b.len(),
        boot_info_size(Protocol::Multiboot1, &input).unwrap()
    );
    // Raw layout: multiboot.h struct multiboot_info.
    let flags = rd32(&b, 0);
    assert_eq!(flags, 1 | 4 | 8 | 64 | 512);
    assert_eq!(rd32(&b, 4), 639); // mem_lower: 0..0x9fc00
    assert_eq!(rd32(&b, 8), (0x7ffe0000 - 0x100000) / 1024); // mem_upper
    assert_eq!(rd32(&b, 20), 2); // mods_count
    assert_eq!(rd32(&b, 44), 24 * map.len() as u32); // mmap_length
    let mmap = (rd32(&b, 48) as u64 - base) as usize;
    assert_eq!(rd32(&b, mmap), 20); // size field excludes itself
    assert_eq!(rd64(&b, mmap + 4), 0);
    assert_eq!(rd64(&b, mmap + 12), 0x9fc00);
    assert_eq!(rd32(&b, mmap + 20), 1);
    let mods_at = (rd32(&b, 24) as u64 - base) as usize;
    assert_eq!(
        (rd32(&b, mods_at), rd32(&b, mods_at + 4)),
        (0x200000, 0x210000)
    ); // mod_end is exclusive
    let d = multiboot1::decode_info(&b, base).unwrap();
    assert_eq!(d.flags, flags);
    assert_eq!(d.mem_lower, Some(639));
    assert_eq!(d.mem_upper, Some((0x7ffe0000 - 0x100000) / 1024));
    assert_eq!(d.cmdline.as_deref(), Some(&b"invaders"[..]));
    assert_eq!(d.loader_name.as_deref(), Some(&b"baton 0.1"[..]));
    assert_eq!(d.memory_map, map);
    assert_eq!(d.modules.len(), 2);
    for (dm, m) in d.modules.iter().zip(&mods) {
        assert!(dm.matches(m), "{dm:?} vs {m:?}");
    }
}

#[test]
fn multiboot1_limits() {
    let map = map();
    let input = BootInfoInput {
        memory_map: &map,
        machine_map: &[],
        ..Default::default()
    };
    // The info itself must end below 4 GiB.
    let e = *multiboot1::build_info(&input, 0xffff_ff00).unwrap_err();
    assert!(
        matches!(
            e,
            Error::FieldTooLarge {
                field: "Multiboot1 info end",
                ..
            }
        ),
        "{e}"
    );
    // So must every module.
    let mods = [Module {
        addr: 0xffff_f000,
        size: 0x2000,
        cmdline: "",
    }];
    let input = BootInfoInput {
        modules: &mods,
        ..Default::default()
    };
    assert!(matches!(
        multiboot1::build_info(&input, 0x1000).map_err(|e| *e),
        Err(Error::FieldTooLarge {
            field: "Multiboot1 module end",
            ..
        })
    ));
    // NUL inside a string.
    let input = BootInfoInput {
        cmdline: "a\0b",
        ..Default::default()
    };
    assert_eq!(
        multiboot1::build_info(&input, 0x1000).map_err(|e| *e),
        Err(Error::NulInString {
            field: "kernel command line",
            at: 1
        })
    );
}

#[test]
fn multiboot2_info_round_trip() {
    let map = map();
    let mods = [
        Module {
            addr: 0x4000000,
            size: 0x123,
            cmdline: "initrd.img",
        },
        Module {
            addr: 0x5000000,
            size: 7,
            cmdline: "",
        },
    ];
    let rsdp = rsdp_v2();
    let input = BootInfoInput {
        cmdline: "console=ttyS0",
        loader_name: "baton",
        memory_map: &map,
        machine_map: &[],
        modules: &mods,
        display: None,
        rsdp: Some(Rsdp {
            addr: 0xf5a00,
            bytes: &rsdp,
        }),
    };
    let base = 0x8000;
    let b = multiboot2::build_info(&input, base).unwrap();
    assert_eq!(
        b.len(),
        boot_info_size(Protocol::Multiboot2, &input).unwrap()
    );
    assert_eq!(b.len(), boot_info_size(Protocol::Elf64, &input).unwrap());
    assert_eq!(rd32(&b, 0) as usize, b.len());
    assert_eq!(rd32(&b, 4), 0);
    // Walk the tags by hand: 8-aligned, sizes exclude padding, ends with type 0 size 8.
    let mut at = 8;
    let mut types = vec![];
    loop {
        assert_eq!(at % 8, 0);
        let (t, size) = (rd32(&b, at), rd32(&b, at + 4) as usize);
        types.push(t);
        if t == 6 {
            assert_eq!(rd32(&b, at + 8), 24); // entry_size
            assert_eq!(rd32(&b, at + 12), 0); // entry_version
            assert_eq!(size, 16 + 24 * map.len());
        }
        if t == 4 {
            assert_eq!(
                (rd32(&b, at + 8), rd32(&b, at + 12)),
                (639, (0x7ffe0000 - 0x100000) / 1024)
            );
        }
        if t == 0 {
            assert_eq!(size, 8);
            assert_eq!(at + 8, b.len());
            break;
        }
        at = (at + size + 7) & !7;
    }
    assert_eq!(types, vec![1, 2, 3, 3, 4, 6, 14, 15, 0]);
    let d = multiboot2::decode_info(&b, base).unwrap();
    assert_eq!(d.total_size as usize, b.len());
    assert_eq!(d.cmdline.as_deref(), Some(&b"console=ttyS0"[..]));
    assert_eq!(d.loader_name.as_deref(), Some(&b"baton"[..]));
    assert_eq!(d.mem_lower, Some(639));
    assert_eq!(d.memory_map, map);
    assert_eq!(d.rsdp_old.as_deref(), Some(&rsdp[..20]));
    assert_eq!(d.rsdp_new.as_deref(), Some(&rsdp[..]));
    assert!(d.other_tags.is_empty());
    for (dm, m) in d.modules.iter().zip(&mods) {
        assert!(dm.matches(m), "{dm:?} vs {m:?}");
    }
}

#[test]
fn multiboot2_rsdp_revisions() {
    let mut v1 = rsdp_v2();
    v1[15] = 0;
    v1.truncate(20);
    let input = BootInfoInput {
        display: None,
        rsdp: Some(Rsdp {
            addr: 0xf5a00,
            bytes: &v1,
        }),
        ..Default::default()
    };
    let d =
        multiboot2::decode_info(&multiboot2::build_info(&input, 0x1000).unwrap(), 0x1000).unwrap();
    assert_eq!(d.rsdp_old.as_deref(), Some(&v1[..]));
    assert_eq!(d.rsdp_new, None);
    // Revision 2 claiming 36 bytes but only 20 given.
    let mut short = rsdp_v2();
    short.truncate(30);
    let input = BootInfoInput {
        display: None,
        rsdp: Some(Rsdp {
            addr: 0xf5a00,
            bytes: &short,
        }),
        ..Default::default()
    };
    assert_eq!(
        multiboot2::build_info(&input, 0x1000).map_err(|e| *e),
        Err(Error::RsdpTooShort { len: 30, need: 36 })
    );
    let input = BootInfoInput {
        display: None,
        rsdp: Some(Rsdp {
            addr: 0xf5a00,
            bytes: &short[..10],
        }),
        ..Default::default()
    };
    assert_eq!(
        multiboot2::build_info(&input, 0x1000).map_err(|e| *e),
        Err(Error::RsdpTooShort { len: 10, need: 20 })
    );
}

#[test]
fn multiboot2_limits_and_decoder_checks() {
    let input = BootInfoInput::default();
    assert!(matches!(
        multiboot2::build_info(&input, 0xffff_fff0).map_err(|e| *e),
        Err(Error::FieldTooLarge { .. })
    ));
    let b = build_boot_info(Protocol::Multiboot2, &input, 0x1000).unwrap();
    assert!(matches!(
        multiboot2::decode_info(&b, 0x1004).map_err(|e| *e),
        Err(Error::DecodeBadValue { .. })
    ));
    let mut bad = b.clone();
    bad[0..4].copy_from_slice(&0x10000u32.to_le_bytes()); // total_size past the blob
    assert!(matches!(
        multiboot2::decode_info(&bad, 0x1000).map_err(|e| *e),
        Err(Error::DecodeOutOfBounds { .. })
    ));
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
