//! Multiboot1 `multiboot_info`: round trip and limits.

use super::*;

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
