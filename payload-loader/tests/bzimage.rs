//! bzImage: every setup header field baton reads, every refusal with its numbers, protocol
//! detection, and where the protected-mode kernel is placed.

mod common;
use common::*;
use payload_loader::bzimage::{self, SetupHeader};
use payload_loader::{
    BootProtocol, ElfClass, Error, LoadPlan, MemoryKind, MemoryRegion, PlanConfig, Protocol, Range,
    plan,
};

fn header(k: &[u8]) -> SetupHeader {
    bzimage::find_header(k)
        .expect("a valid bzImage")
        .expect("a bzImage")
}

fn header_err(k: &[u8]) -> Error {
    *bzimage::find_header(k).expect_err("malformed bzImage was accepted")
}

fn plan_with(
    k: &[u8],
    map: &[MemoryRegion],
    firmware: &[Range],
) -> payload_loader::Result<LoadPlan> {
    plan(k, &PlanConfig::new(map, firmware))
}

fn plan_ok(k: &[u8]) -> LoadPlan {
    plan_with(k, &memory_map(), &[]).expect("plans")
}

#[test]
fn every_header_field_is_read() {
    let t = TestBz::linux64();
    let k = t.build();
    let h = header(&k);
    assert_eq!(h.setup_sects, 1);
    assert_eq!(h.setup_size(), 1024);
    assert_eq!(h.syssize, 0x100);
    assert_eq!(h.version, 0x020F);
    assert_eq!(h.loadflags, 0x01);
    assert_eq!(h.code32_start, 0x100000);
    assert_eq!(h.initrd_addr_max, 0x7fff_ffff);
    assert_eq!(h.kernel_alignment, 0x20_0000);
    assert!(h.relocatable);
    assert_eq!(h.xloadflags, 0x7f);
    assert!(h.long_mode_entry() && h.above_4g());
    assert_eq!(h.cmdline_size, 0x7ff);
    assert_eq!(h.pref_address, 0x100_0000);
    assert_eq!(h.init_size, 0x80_0000);
    // The header's bytes as in the file, [0x1F1, 0x202 + 0x6A).
    assert_eq!(h.raw, k[0x1f1..0x26c]);
    assert_eq!(h.initrd_limit(), u64::MAX);
    let h = header(
        &TestBz {
            xloadflags: 0x1,
            ..TestBz::linux64()
        }
        .build(),
    );
    assert!(h.long_mode_entry() && !h.above_4g());
    assert_eq!(h.initrd_limit(), 0x8000_0000);
}

#[test]
fn setup_sects_zero_means_four() {
    let t = TestBz {
        setup_sects: 0,
        ..TestBz::linux64()
    };
    let k = t.build();
    assert_eq!(header(&k).setup_size(), 2560);
    let p = plan_ok(&k);
    assert_eq!(p.segments[0].file_offset, 2560);
    assert_eq!(p.segments[0].file_bytes(&k), Some(&k[2560..]));
}

#[test]
fn a_header_longer_than_boot_params_room_is_cut() {
    let k = TestBz {
        header_len: 0xff,
        ..TestBz::linux64()
    }
    .build();
    assert_eq!(header(&k).raw, k[0x1f1..0x290]);
}

#[test]
fn xloadflags_and_prefs_only_from_their_versions() {
    // 2.11 has no xloadflags: the 32-bit entry even with the bits set.
    let h = header(
        &TestBz {
            version: 0x020B,
            ..TestBz::linux64()
        }
        .build(),
    );
    assert_eq!(h.xloadflags, 0);
    assert!(!h.long_mode_entry());
    // 2.09 has no pref_address or init_size: 1 MiB, and three times the payload.
    let h = header(
        &TestBz {
            version: 0x0209,
            header_len: 0x56,
            ..TestBz::linux64()
        }
        .build(),
    );
    assert_eq!((h.pref_address, h.init_size), (0x100000, 0));
    assert_eq!(h.runtime_size(0x1800), 0x6000);
}

#[test]
fn refusals_name_their_numbers() {
    let bad = |t: TestBz| header_err(&t.build());
    assert_eq!(
        bad(TestBz {
            boot_flag: 0x55aa,
            ..TestBz::linux64()
        }),
        Error::BzBootFlag { found: 0x55aa }
    );
    let e = bad(TestBz {
        version: 0x0205,
        ..TestBz::linux64()
    });
    assert_eq!(e, Error::BzProtocolTooOld { version: 0x0205 });
    assert!(e.to_string().contains("2.05"), "{e}");
    assert_eq!(
        bad(TestBz {
            header_len: 0x61,
            ..TestBz::linux64()
        }),
        Error::BzHeaderTooShort {
            version: 0x020F,
            end: 0x263,
            need: 0x264
        }
    );
    assert_eq!(
        bad(TestBz {
            version: 0x0206,
            header_len: 0x39,
            ..TestBz::linux64()
        }),
        Error::BzHeaderTooShort {
            version: 0x0206,
            end: 0x23b,
            need: 0x23c
        }
    );
    assert_eq!(
        bad(TestBz {
            loadflags: 0x80,
            ..TestBz::linux64()
        }),
        Error::BzNotLoadedHigh { loadflags: 0x80 }
    );
    assert_eq!(
        bad(TestBz {
            kernel_alignment: 0x30_0000,
            ..TestBz::linux64()
        }),
        Error::BzBadAlignment {
            kernel_alignment: 0x30_0000
        }
    );
    // Not relocatable: the alignment is not used.
    header(
        &TestBz {
            kernel_alignment: 0,
            ..TestBz::linux32_fixed()
        }
        .build(),
    );
}

#[test]
fn setup_past_the_end_and_truncation() {
    let k = TestBz::linux64().build();
    // setup_sects 9: the protected-mode part would start at 0x1400, the file ends at 0x1400.
    let mut b = k.clone();
    b[0x1f1] = 9;
    assert_eq!(
        header_err(&b),
        Error::BzSetupPastEnd {
            setup_sects: 9,
            setup_size: 0x1400,
            file_len: 0x1400
        }
    );
    // Cut inside the setup sectors.
    assert!(matches!(
        header_err(&k[..0x300]),
        Error::BzSetupPastEnd {
            file_len: 0x300,
            ..
        }
    ));
    // Cut inside the protected-mode part: syssize says 0x1000 bytes.
    assert_eq!(
        header_err(&k[..0x1000]),
        Error::BzTruncated {
            syssize: 0x100,
            need: 0x1400,
            file_len: 0x1000
        }
    );
    // Too short to show "HdrS": not a bzImage, and not ELF either.
    assert!(matches!(
        *plan_with(&k[..0x205], &memory_map(), &[]).unwrap_err(),
        Error::BadMagic { .. }
    ));
}

#[test]
fn entries_outside_the_image() {
    // The 64-bit entry at 0x200 needs more than 0x200 bytes.
    let k = TestBz {
        payload: 0x200,
        ..TestBz::linux64()
    }
    .build();
    assert_eq!(
        *plan_with(&k, &memory_map(), &[]).unwrap_err(),
        Error::BzEntryOutsideImage {
            code32_start: 0x100000,
            entry_offset: 0x200,
            payload: 0x200
        }
    );
    let k = TestBz {
        code32_start: 0x101000,
        ..TestBz::linux32_fixed()
    }
    .build();
    assert!(matches!(
        *plan_with(&k, &memory_map(), &[]).unwrap_err(),
        Error::BzEntryOutsideImage {
            entry_offset: 0x1000,
            ..
        }
    ));
    let k = TestBz {
        code32_start: 0xff000,
        ..TestBz::linux32_fixed()
    }
    .build();
    assert!(matches!(
        *plan_with(&k, &memory_map(), &[]).unwrap_err(),
        Error::BzEntryOutsideImage { .. }
    ));
}

#[test]
fn detection_and_overrides() {
    let bz = TestBz::linux64().build();
    assert_eq!(Protocol::from_name("linux"), Some(Protocol::Linux));
    assert_eq!(Protocol::Linux.to_string(), "Linux boot protocol");
    assert_eq!(Protocol::Linux.command_line("vmlinuz", "quiet"), "quiet");
    let map = memory_map();
    let with = |k: &[u8], p| {
        let mut cfg = PlanConfig::new(&map, &[]);
        cfg.protocol = p;
        plan(k, &cfg)
    };
    assert_eq!(with(&bz, None).unwrap().kind(), Protocol::Linux);
    assert_eq!(
        with(&bz, Some(Protocol::Linux)).unwrap().kind(),
        Protocol::Linux
    );
    for other in Protocol::PRECEDENCE {
        assert_eq!(
            *with(&bz, Some(other)).unwrap_err(),
            Error::ProtocolNotPresent { protocol: other }
        );
    }
    // An ELF file is ELF even with "HdrS" at 0x202.
    let elf = TestElf::kernel64()
        .patch(0x1fe, b"\x55\xaaxxHdrS".to_vec())
        .build();
    assert_eq!(with(&elf, None).unwrap().kind(), Protocol::Elf64);
    assert_eq!(
        *with(&elf, Some(Protocol::Linux)).unwrap_err(),
        Error::ProtocolNotPresent {
            protocol: Protocol::Linux
        }
    );
}

#[test]
fn the_64bit_kernel_goes_to_pref_address() {
    let k = TestBz::linux64().build();
    let p = plan_ok(&k);
    let BootProtocol::Linux(h) = &p.protocol else {
        panic!("{:?}", p.protocol)
    };
    assert_eq!(h.pref_address, 0x100_0000);
    assert_eq!((p.class, p.entry), (ElfClass::Elf64, 0x100_0200));
    assert!(p.enters_long_mode());
    assert_eq!(p.segments.len(), 1);
    let s = p.segments[0];
    assert_eq!(
        (s.file_offset, s.file_size, s.dest, s.mem_size),
        (0x400, 0x1000, 0x100_0000, 0x80_0000)
    );
    assert!(!s.overlaps_firmware && p.relocations.is_empty());
    // init_size smaller than the file's part: the part wins.
    let p = plan_ok(
        &TestBz {
            init_size: 0x10,
            ..TestBz::linux64()
        }
        .build(),
    );
    assert_eq!(p.segments[0].mem_size, 0x1000);
}

#[test]
fn a_64bit_kernel_may_be_entered_at_its_32bit_entry() {
    let k = TestBz::linux64().build();
    let map = memory_map();
    let config = PlanConfig {
        linux_entry_32: true,
        ..PlanConfig::new(&map, &[])
    };
    let p = plan(&k, &config).expect("plans");
    // code32_start is the load address: the 32-bit entry, below 4 GiB.
    assert_eq!((p.class, p.entry), (ElfClass::Elf32, 0x100_0000));
    assert!(!p.enters_long_mode());
    assert_eq!(p.segments[0].dest, 0x100_0000);
}

#[test]
fn firmware_at_pref_address_moves_a_relocatable_kernel_up() {
    let k = TestBz::linux64().build();
    let map = memory_map();
    let p = plan_with(&k, &map, &[Range::new(0x100_0000, 0x110_0000)]).unwrap();
    assert_eq!(p.segments[0].dest, 0x120_0000);
    assert_eq!(p.entry, 0x120_0200);
    assert!(!p.needs_relocation());
    // Never below pref_address, even where RAM is free: the decompressor would move up.
    let p = plan_with(&k, &map, &[Range::new(0x100_0000, 0x7000_0000)]).unwrap();
    assert_eq!(p.segments[0].dest, 0x7000_0000);
    // No free place at all: pref_address over firmware memory, staged.
    let small = [MemoryRegion::new(0x10_0000, 0x190_0000, MemoryKind::Usable)];
    let p = plan_with(&k, &small, &[Range::new(0x140_0000, 0x150_0000)]).unwrap();
    assert_eq!(p.segments[0].dest, 0x100_0000);
    assert!(p.segments[0].overlaps_firmware && p.needs_relocation());
    // RAM only below pref_address.
    let low = [MemoryRegion::new(0x10_0000, 0x100_0000, MemoryKind::Usable)];
    assert_eq!(
        *plan_with(&k, &low, &[]).unwrap_err(),
        Error::OutOfMemory {
            what: "Linux kernel (init_size from pref_address)",
            size: 0x80_0000,
            align: 0x20_0000,
            below: 0x1_0000_0000
        }
    );
}

#[test]
fn above_4g_only_with_the_flag() {
    let high = [
        MemoryRegion::new(0x10_0000, 0x80_0000, MemoryKind::Usable),
        MemoryRegion::new(0x1_0000_0000, 0x1_4000_0000, MemoryKind::Usable),
    ];
    let k = TestBz::linux64().build();
    let mut cfg = PlanConfig::new(&high, &[]);
    cfg.alloc_max = 1 << 40;
    let p = plan(&k, &cfg).unwrap();
    assert_eq!(p.segments[0].dest, 0x1_0000_0000);
    let no_flag = TestBz {
        xloadflags: 0x1,
        ..TestBz::linux64()
    }
    .build();
    assert!(matches!(
        *plan(&no_flag, &cfg).unwrap_err(),
        Error::OutOfMemory {
            below: 0x1_0000_0000,
            ..
        }
    ));
}

#[test]
fn a_32bit_relocatable_kernel_enters_at_its_load_address() {
    let k = TestBz {
        xloadflags: 0,
        ..TestBz::linux64()
    }
    .build();
    let p = plan_with(&k, &memory_map(), &[Range::new(0x100_0000, 0x100_1000)]).unwrap();
    assert_eq!((p.class, p.segments[0].dest), (ElfClass::Elf32, 0x120_0000));
    assert_eq!(p.entry, 0x120_0000);
    assert!(!p.enters_long_mode());
}

#[test]
fn a_fixed_kernel_loads_at_1m_and_runs_at_pref_address() {
    let k = TestBz::linux32_fixed().build();
    let p = plan_with(&k, &memory_map(), &[Range::new(0x10_0000, 0x20_0000)]).unwrap();
    assert_eq!(p.entry, 0x10_0000);
    assert_eq!(p.segments.len(), 2);
    let (image, run) = (p.segments[0], p.segments[1]);
    assert_eq!(
        (image.dest, image.file_size, image.mem_size),
        (0x10_0000, 0x1000, 0x1000)
    );
    assert!(image.overlaps_firmware);
    assert_eq!(
        (run.dest, run.file_size, run.mem_size),
        (0x100_0000, 0, 0x80_0000)
    );
    assert!(!run.overlaps_firmware);
    // Where it runs must be RAM.
    let small = [MemoryRegion::new(0x10_0000, 0x120_0000, MemoryKind::Usable)];
    assert_eq!(
        *plan_with(&k, &small, &[]).unwrap_err(),
        Error::SegmentNotInUsableRam {
            segment: 1,
            start: 0x100_0000,
            end: 0x180_0000,
            region: None
        }
    );
    // Running where it is loaded: one segment, init_size long.
    let k = TestBz {
        pref_address: 0x10_0000,
        ..TestBz::linux32_fixed()
    }
    .build();
    let p = plan_ok(&k);
    assert_eq!(p.segments.len(), 1);
    assert_eq!(
        (p.segments[0].dest, p.segments[0].mem_size),
        (0x10_0000, 0x80_0000)
    );
    // Running below where it is loaded: the part below is zeroed, the rest extends the image.
    let k = TestBz {
        pref_address: 0x8_0000,
        init_size: 0x10_0000,
        ..TestBz::linux32_fixed()
    }
    .build();
    let map = [MemoryRegion::new(0, 0x800_0000, MemoryKind::Usable)];
    let p = plan_with(&k, &map, &[]).unwrap();
    let got: Vec<_> = p
        .segments
        .iter()
        .map(|s| (s.dest, s.file_size, s.mem_size))
        .collect();
    assert_eq!(
        got,
        [(0x10_0000, 0x1000, 0x8_0000), (0x8_0000, 0, 0x8_0000)]
    );
}

#[test]
fn plan_allocations_avoid_init_size() {
    let mut p = plan_ok(&TestBz::linux64().build());
    let kernel = p.kernel_range();
    assert_eq!(kernel, Range::new(0x100_0000, 0x180_0000));
    for _ in 0..8 {
        let at = p.allocate_low("boot params", 0x10_0000, 4096).unwrap();
        assert!(!Range::new(at, at + 0x10_0000).overlaps(&kernel));
    }
}
