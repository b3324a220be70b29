//! Multiboot2 MBI: round trip, RSDP revisions, limits and the decoder's checks.

use super::*;

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
