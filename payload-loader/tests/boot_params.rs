//! Linux boot_params: built from a planned bzImage and decoded back, field by field; the e820
//! overflow into setup_data; every refusal with its numbers.

mod common;
use common::*;
use payload_loader::boot_params::{self, BootParams};
use payload_loader::{
    BootInfoInput, Error, LoadPlan, MemoryKind, MemoryRegion, Module, PlanConfig, Protocol, Rsdp,
    build_boot_info, plan,
};

const CMDLINE: &str = "console=ttyS0 root=/dev/vda1";

fn planned(t: &TestBz) -> (Vec<u8>, LoadPlan) {
    let k = t.build();
    let p = plan(&k, &PlanConfig::new(&memory_map(), &[])).expect("plans");
    (k, p)
}

fn input<'a>(map: &'a [MemoryRegion], modules: &'a [Module<'a>]) -> BootInfoInput<'a> {
    BootInfoInput {
        cmdline: CMDLINE,
        loader_name: "baton",
        memory_map: map,
        machine_map: &[],
        modules,
        display: None,
        rsdp: Some(Rsdp {
            addr: 0xf5a40,
            bytes: &[0; 20],
        }),
    }
}

fn build(p: &LoadPlan, info: &BootInfoInput<'_>, at: u64) -> payload_loader::Result<BootParams> {
    let blob = p.build_boot_info(info, at)?;
    assert_eq!(blob.len(), p.boot_info_size(info)?);
    boot_params::decode(&blob, at)
}

const INITRD: [Module<'static>; 1] = [Module {
    addr: 0x3000_0000,
    size: 0x12_3456,
    cmdline: "ignored",
}];

#[test]
fn round_trip() {
    let (k, p) = planned(&TestBz::linux64());
    let map = memory_map();
    let at = 0x9_0000;
    let d = build(&p, &input(&map, &INITRD), at).expect("builds");
    assert_eq!(d.version, 0x020F);
    assert_eq!(d.type_of_loader, 0xff);
    // LOADED_HIGH only: no CAN_USE_HEAP, no KEEP_SEGMENTS, no QUIET.
    assert_eq!(d.loadflags, 0x01);
    assert_eq!(d.code32_start, 0x100_0000);
    assert_eq!(d.cmd_line_ptr, at + 4096);
    assert_eq!(d.cmdline, CMDLINE.as_bytes());
    assert_eq!((d.ramdisk_image, d.ramdisk_size), (0x3000_0000, 0x12_3456));
    assert_eq!(d.acpi_rsdp_addr, 0xf5a40);
    assert_eq!(d.memory_map, map);
    assert!(d.setup_data_types.is_empty());
    // The setup header as in the file but for what the loader writes: type_of_loader (0x210),
    // loadflags (0x211), code32_start (0x214..0x218), ramdisk (0x218..0x220), cmd_line_ptr
    // (0x228..0x22c).
    let written = [0x210..0x218, 0x218..0x220, 0x228..0x22c];
    for (i, (&got, &file)) in d.header.iter().zip(&k[0x1f1..0x26c]).enumerate() {
        let off = 0x1f1 + i;
        if !written.iter().any(|r| r.contains(&off)) {
            assert_eq!(got, file, "header byte 0x{off:x}");
        }
    }
    // Past the header's end (0x26c) the zero page is zero up to 0x290.
    assert!(d.header[0x26c - 0x1f1..].iter().all(|&b| b == 0));
}

#[test]
fn rsdp_only_from_protocol_2_14() {
    let map = memory_map();
    let (_, p) = planned(&TestBz {
        version: 0x020D,
        ..TestBz::linux64()
    });
    assert_eq!(
        build(&p, &input(&map, &[]), 0x9_0000)
            .unwrap()
            .acpi_rsdp_addr,
        0
    );
    let (_, p) = planned(&TestBz {
        version: 0x020E,
        ..TestBz::linux64()
    });
    assert_eq!(
        build(&p, &input(&map, &[]), 0x9_0000)
            .unwrap()
            .acpi_rsdp_addr,
        0xf5a40
    );
}

#[test]
fn above_4g_uses_the_ext_fields() {
    let map = memory_map();
    let (_, p) = planned(&TestBz::linux64());
    let high = [Module {
        addr: 0x1_2000_0000,
        size: 0x1_0000_1000,
        cmdline: "",
    }];
    let at = 0x1_4000_0000;
    let blob = p.build_boot_info(&input(&map, &high), at).unwrap();
    // ext_ramdisk_image, ext_ramdisk_size, ext_cmd_line_ptr.
    assert_eq!(blob[0xc0..0xcc], [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    let d = boot_params::decode(&blob, at).unwrap();
    assert_eq!(
        (d.ramdisk_image, d.ramdisk_size),
        (0x1_2000_0000, 0x1_0000_1000)
    );
    assert_eq!(d.cmd_line_ptr, at + 4096);
    // Without XLF_CAN_BE_LOADED_ABOVE_4G: refused, with the numbers.
    let (_, p) = planned(&TestBz {
        xloadflags: 1,
        ..TestBz::linux64()
    });
    assert_eq!(
        *p.build_boot_info(&input(&map, &high), 0x9_0000)
            .unwrap_err(),
        Error::BzInitrdAboveMax {
            start: 0x1_2000_0000,
            end: 0x2_2000_1000,
            max: 0x7fff_ffff
        }
    );
    let e = *p.build_boot_info(&input(&map, &[]), at).unwrap_err();
    assert!(
        matches!(
            e,
            Error::FieldTooLarge {
                max: 0x1_0000_0000,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn initrd_up_to_initrd_addr_max() {
    let map = memory_map();
    let (_, mut p) = planned(&TestBz::linux32_fixed());
    assert_eq!(p.initrd_limit(), 0x3800_0000);
    let fits = [Module {
        addr: 0x37ff_f000,
        size: 0x1000,
        cmdline: "",
    }];
    build(&p, &input(&map, &fits), 0x9_0000).expect("ends at initrd_addr_max + 1");
    let over = [Module {
        size: 0x1001,
        ..fits[0]
    }];
    let e = *build(&p, &input(&map, &over), 0x9_0000).unwrap_err();
    assert_eq!(
        e,
        Error::BzInitrdAboveMax {
            start: 0x37ff_f000,
            end: 0x3800_0001,
            max: 0x37ff_ffff
        }
    );
    assert!(e.to_string().contains("0x37ffffff"), "{e}");
    // The plan places one below the limit.
    let at = p
        .allocate_below("initrd", 0x100_0000, 4096, p.initrd_limit())
        .unwrap();
    assert_eq!(at, 0x3700_0000);
}

#[test]
fn command_line_up_to_cmdline_size() {
    let map = memory_map();
    let (_, p) = planned(&TestBz {
        cmdline_size: CMDLINE.len() as u32,
        ..TestBz::linux64()
    });
    build(&p, &input(&map, &[]), 0x9_0000).expect("exactly cmdline_size");
    let (_, p) = planned(&TestBz {
        cmdline_size: CMDLINE.len() as u32 - 1,
        ..TestBz::linux64()
    });
    let e = *build(&p, &input(&map, &[]), 0x9_0000).unwrap_err();
    assert_eq!(
        e,
        Error::BzCmdlineTooLong {
            len: CMDLINE.len(),
            max: CMDLINE.len() as u32 - 1
        }
    );
    // An empty one is still a string.
    let (_, p) = planned(&TestBz::linux64());
    let empty = BootInfoInput {
        cmdline: "",
        ..input(&map, &[])
    };
    let d = build(&p, &empty, 0x9_0000).unwrap();
    assert_eq!((d.cmd_line_ptr, d.cmdline.len()), (0x9_1000, 0));
    let nul = BootInfoInput {
        cmdline: "a\0b",
        ..input(&map, &[])
    };
    assert!(matches!(
        *build(&p, &nul, 0x9_0000).unwrap_err(),
        Error::NulInString { at: 1, .. }
    ));
}

#[test]
fn one_initrd_only() {
    let map = memory_map();
    let (_, p) = planned(&TestBz::linux64());
    let two = [INITRD[0], INITRD[0]];
    assert_eq!(
        *build(&p, &input(&map, &two), 0x9_0000).unwrap_err(),
        Error::BzTooManyModules { count: 2 }
    );
}

fn map_of(entries: usize) -> Vec<MemoryRegion> {
    (0..entries as u64)
        .map(|i| {
            let kind = if i % 2 == 0 {
                MemoryKind::Usable
            } else {
                MemoryKind::Other(5 + (i % 3) as u32)
            };
            MemoryRegion::new(0x10_0000 * i, 0x10_0000 * (i + 1), kind)
        })
        .collect()
}

#[test]
fn e820_beyond_128_entries_goes_to_setup_data() {
    let (_, p) = planned(&TestBz::linux64());
    for entries in [0, 1, 127, 128, 129, 1024] {
        let map = map_of(entries);
        let at = 0x9_0000;
        let blob = p.build_boot_info(&input(&map, &[]), at).unwrap();
        assert_eq!(usize::from(blob[0x1e8]), entries.min(128));
        let d = boot_params::decode(&blob, at).unwrap();
        assert_eq!(d.memory_map, map, "{entries} entries");
        let setup_data = u64::from_le_bytes(blob[0x250..0x258].try_into().unwrap());
        if entries > 128 {
            assert_eq!(d.setup_data_types, [1]);
            assert_eq!(setup_data % 8, 0);
            assert!(setup_data > at + 4096 + CMDLINE.len() as u64);
        } else {
            assert_eq!(setup_data, 0);
            assert_eq!(blob.len(), 4096 + CMDLINE.len() + 1);
        }
    }
    // Before 2.09 there is no setup_data.
    let (_, p) = planned(&TestBz {
        version: 0x0208,
        header_len: 0x4e,
        ..TestBz::linux32_fixed()
    });
    let map = map_of(129);
    assert_eq!(
        *p.build_boot_info(&input(&map, &[]), 0x9_0000).unwrap_err(),
        Error::BzTooManyE820 {
            entries: 129,
            version: 0x0208
        }
    );
    build(&p, &input(&map[..128], &[]), 0x9_0000).expect("128 fit the zero page");
}

#[test]
fn file_bytes_at_loader_fields_are_not_handed_over() {
    // Protocol 2.06 with a header reaching past 0x250: what the file has at setup_data and
    // hardware_subarch is not the kernel's to say.
    let t = TestBz {
        version: 0x0206,
        ..TestBz::linux32_fixed()
    };
    let mut k = t.build();
    k[0x210..0x268].fill(0xff);
    k[0x211] = 0x01;
    k[0x214..0x218].copy_from_slice(&0x10_0000u32.to_le_bytes());
    k[0x234] = 0; // not relocatable
    k[0x238..0x23c].copy_from_slice(&0x100u32.to_le_bytes());
    let p = plan(&k, &PlanConfig::new(&memory_map(), &[])).unwrap();
    let map = memory_map();
    let blob = p.build_boot_info(&input(&map, &[]), 0x9_0000).unwrap();
    // hardware_subarch and its data, setup_data (payload_offset/length between are the file's).
    assert!(blob[0x23c..0x248].iter().all(|&b| b == 0));
    assert!(blob[0x250..0x258].iter().all(|&b| b == 0));
    assert_eq!(blob[0x224..0x228], [0; 4]); // heap_end_ptr, ext_loader_ver/type
    boot_params::decode(&blob, 0x9_0000).unwrap();
}

#[test]
fn the_protocol_alone_cannot_build_boot_params() {
    let map = memory_map();
    assert_eq!(
        *build_boot_info(Protocol::Linux, &input(&map, &[]), 0x9_0000).unwrap_err(),
        Error::BootParamsNeedPlan
    );
    // For the other protocols the plan builds what the protocol builds.
    let elf = plan(&TestElf::kernel64().build(), &PlanConfig::new(&map, &[])).unwrap();
    assert_eq!(
        elf.build_boot_info(&input(&map, &[]), 0x9_0000).unwrap(),
        build_boot_info(Protocol::Elf64, &input(&map, &[]), 0x9_0000).unwrap()
    );
    assert!(elf.enters_long_mode());
    assert_eq!(elf.initrd_limit(), u64::MAX);
}

#[test]
fn decode_refuses_what_is_not_boot_params() {
    let (_, p) = planned(&TestBz::linux64());
    let map = map_of(200);
    let at = 0x9_0000;
    let blob = p.build_boot_info(&input(&map, &[]), at).unwrap();
    let err = |b: &[u8]| *boot_params::decode(b, at).unwrap_err();
    assert!(matches!(
        err(&blob[..4095]),
        Error::DecodeOutOfBounds { .. }
    ));
    let mut b = blob.clone();
    b[0x1fe] = 0;
    assert!(matches!(
        err(&b),
        Error::DecodeBadValue {
            field: "boot_params.hdr.boot_flag",
            ..
        }
    ));
    let mut b = blob.clone();
    b[0x202] = b'h';
    assert!(matches!(
        err(&b),
        Error::DecodeBadValue {
            field: "boot_params.hdr.header",
            ..
        }
    ));
    let mut b = blob.clone();
    b[0x1e8] = 129;
    assert!(matches!(
        err(&b),
        Error::DecodeBadValue {
            field: "boot_params.e820_entries",
            ..
        }
    ));
    // setup_data pointing at itself.
    let mut b = blob.clone();
    let sd = u64::from_le_bytes(b[0x250..0x258].try_into().unwrap());
    let off = (sd - at) as usize;
    b[off..off + 8].copy_from_slice(&sd.to_le_bytes());
    assert!(matches!(
        err(&b),
        Error::DecodeBadValue {
            field: "setup_data list (cycle)",
            ..
        }
    ));
    // setup_data's length past the blob.
    let mut b = blob;
    b[off + 12..off + 16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        err(&b),
        Error::DecodeOutOfBounds {
            field: "setup_data.data",
            ..
        }
    ));
}
