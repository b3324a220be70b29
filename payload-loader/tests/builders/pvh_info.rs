//! PVH `hvm_start_info`: round trip and the empty parts.

use super::*;

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
