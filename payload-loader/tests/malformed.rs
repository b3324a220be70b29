//! The malformed-kernel corpus: every case is refused with its named error, never a panic.

mod common;
use common::*;
use payload_loader::{Error, PlanConfig, Protocol, plan};

fn plan_err(bytes: &[u8]) -> Error {
    let map = memory_map();
    *plan(bytes, &PlanConfig::new(&map, &[])).expect_err("malformed kernel was accepted")
}

fn plan_err_with(bytes: &[u8], protocol: Protocol) -> Error {
    let map = memory_map();
    let mut cfg = PlanConfig::new(&map, &[]);
    cfg.protocol = Some(protocol);
    *plan(bytes, &cfg).expect_err("malformed kernel was accepted")
}

#[test]
fn the_valid_baseline_plans() {
    let map = memory_map();
    let p = plan(&TestElf::kernel64().build(), &PlanConfig::new(&map, &[])).unwrap();
    assert_eq!(p.kind(), Protocol::Elf64);
    assert_eq!(p.entry, 0x200010);
}

#[test]
fn empty_and_truncated_header() {
    assert_eq!(plan_err(&[]), Error::TruncatedHeader { len: 0, need: 16 });
    let k = TestElf::kernel64().build();
    assert_eq!(
        plan_err(&k[..40]),
        Error::TruncatedHeader { len: 40, need: 64 }
    );
    let k32 = TestElf::kernel32().build();
    assert_eq!(
        plan_err(&k32[..51]),
        Error::TruncatedHeader { len: 51, need: 52 }
    );
}

#[test]
fn bad_ident_fields() {
    let mut k = TestElf::kernel64().build();
    k[0] = b'X';
    assert!(matches!(plan_err(&k), Error::BadMagic { .. }));
    let mut k = TestElf::kernel64().build();
    k[4] = 3;
    assert_eq!(plan_err(&k), Error::BadClass { class: 3 });
    let mut k = TestElf::kernel64().build();
    k[5] = 2;
    assert_eq!(plan_err(&k), Error::BadDataEncoding { data: 2 });
    let mut k = TestElf::kernel64().build();
    k[6] = 0;
    assert_eq!(plan_err(&k), Error::BadVersion { version: 0 });
}

#[test]
fn wrong_machine_and_type() {
    let k = TestElf {
        machine: 3,
        ..TestElf::kernel64()
    }
    .build();
    assert_eq!(
        plan_err(&k),
        Error::BadMachine {
            machine: 3,
            class_bits: 64
        }
    );
    let k = TestElf {
        machine: 62,
        ..TestElf::kernel32()
    }
    .build();
    assert_eq!(
        plan_err(&k),
        Error::BadMachine {
            machine: 62,
            class_bits: 32
        }
    );
    let k = TestElf {
        e_type: 1,
        ..TestElf::kernel64()
    }
    .build();
    assert_eq!(plan_err(&k), Error::BadType { e_type: 1 });
    let k = TestElf {
        e_type: 4,
        ..TestElf::kernel64()
    }
    .build();
    assert_eq!(plan_err(&k), Error::BadType { e_type: 4 });
}

#[test]
fn program_headers_beyond_the_end() {
    let mut k = TestElf::kernel64().build();
    let phoff = k.len() as u64 - 60;
    k[32..40].copy_from_slice(&phoff.to_le_bytes()); // e_phoff
    assert!(matches!(
        plan_err(&k),
        Error::ProgramHeadersOutOfFile {
            phnum: 2,
            phentsize: 56,
            ..
        }
    ));
    // e_phoff + table wraps past 2^64.
    let mut k = TestElf::kernel64().build();
    k[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        plan_err(&k),
        Error::ProgramHeadersOutOfFile {
            phoff: u64::MAX,
            ..
        }
    ));
    // A huge e_phnum.
    let mut k = TestElf::kernel64().build();
    k[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
    assert!(matches!(
        plan_err(&k),
        Error::ProgramHeadersOutOfFile { phnum: 0xffff, .. }
    ));
    let e = plan_err(&k);
    assert!(e.to_string().contains("65535 x 56 bytes"), "{e}");
}

#[test]
fn bad_phentsize_and_no_phdrs() {
    let mut k = TestElf::kernel64().build();
    k[54..56].copy_from_slice(&32u16.to_le_bytes());
    assert_eq!(
        plan_err(&k),
        Error::BadPhentsize {
            found: 32,
            expected: 56
        }
    );
    let k = TestElf {
        segs: vec![],
        ..TestElf::kernel64()
    }
    .build();
    assert_eq!(plan_err(&k), Error::NoProgramHeaders);
    let mut t = TestElf::kernel64();
    t.segs.iter_mut().for_each(|s| s.memsz = 0);
    t.segs.iter_mut().for_each(|s| s.filesz = 0);
    assert_eq!(plan_err(&t.build()), Error::NoLoadableSegments);
}

#[test]
fn filesz_greater_than_memsz() {
    let mut t = TestElf::kernel64();
    t.segs[1].filesz = 0x3000;
    t.min_len = 0x6000;
    let e = plan_err(&t.build());
    assert_eq!(
        e,
        Error::FileSizeExceedsMemSize {
            segment: 1,
            filesz: 0x3000,
            memsz: 0x2000
        }
    );
    assert_eq!(
        e.to_string(),
        "segment 1: p_filesz 0x3000 exceeds p_memsz 0x2000"
    );
}

#[test]
fn segment_outside_the_file() {
    let mut t = TestElf::kernel64();
    t.segs[1].offset = 0x10_0000_0000;
    let e = plan_err(&t.build());
    assert!(
        matches!(
            e,
            Error::SegmentOutOfFile {
                segment: 1,
                offset: 0x10_0000_0000,
                filesz: 0x800,
                ..
            }
        ),
        "{e}"
    );
    // offset + filesz wraps.
    let mut t = TestElf::kernel64();
    t.segs[0].offset = u64::MAX - 0x10;
    t.segs[0].filesz = 0x20;
    t.segs[0].memsz = 0x1000;
    assert!(matches!(
        plan_err(&t.build()),
        Error::SegmentOutOfFile { segment: 0, .. }
    ));
    // Truncated file: the last segment's bytes are cut off.
    let k = TestElf::kernel64().build();
    assert!(matches!(
        plan_err(&k[..0x2400]),
        Error::SegmentOutOfFile { segment: 1, .. }
    ));
}

#[test]
fn segment_wrapping_past_2_64() {
    let mut t = TestElf::kernel64();
    t.segs[1].paddr = u64::MAX - 0xfff;
    t.segs[1].vaddr = u64::MAX - 0xfff;
    let e = plan_err(&t.build());
    assert_eq!(
        e,
        Error::SegmentWraps {
            segment: 1,
            addr: u64::MAX - 0xfff,
            memsz: 0x2000
        }
    );
    assert!(e.to_string().contains("wraps"));
    // ELF32: wrapping past 4 GiB.
    let mut t = TestElf::kernel32();
    t.segs[1].paddr = 0xffff_f000;
    t.segs[1].vaddr = 0xffff_f000;
    assert!(matches!(
        plan_err(&t.build()),
        Error::SegmentWraps {
            segment: 1,
            addr: 0xffff_f000,
            ..
        }
    ));
}

#[test]
fn overlapping_segments() {
    let mut t = TestElf::kernel64();
    t.segs[1].paddr = 0x200800;
    t.segs[1].vaddr = 0x200800;
    t.segs[1].offset = 0x1800;
    let e = plan_err(&t.build());
    assert_eq!(
        e,
        Error::SegmentOverlap {
            segment: 1,
            start: 0x200800,
            end: 0x202800,
            other: 0,
            other_start: 0x200000,
            other_end: 0x201000
        }
    );
    assert_eq!(
        e.to_string(),
        "segment 1 [0x200800..0x202800) overlaps segment 0 [0x200000..0x201000)"
    );
}

#[test]
fn bad_alignment() {
    let mut t = TestElf::kernel64();
    t.segs[0].align = 0x1800;
    assert!(matches!(
        plan_err(&t.build()),
        Error::BadAlignment {
            segment: 0,
            align: 0x1800,
            ..
        }
    ));
    let mut t = TestElf::kernel64();
    t.segs[0].vaddr = 0x200100;
    t.segs[0].paddr = 0x200100;
    t.entry = 0x200110;
    assert!(matches!(
        plan_err(&t.build()),
        Error::BadAlignment {
            segment: 0,
            align: 0x1000,
            vaddr: 0x200100,
            offset: 0x1000
        }
    ));
}

#[test]
fn entry_outside_every_segment() {
    let t = TestElf {
        entry: 0x900000,
        ..TestElf::kernel64()
    };
    assert_eq!(
        plan_err(&t.build()),
        Error::EntryOutsideSegments { entry: 0x900000 }
    );
    // Inside a segment, but not an executable one.
    let t = TestElf {
        entry: 0x201010,
        ..TestElf::kernel64()
    };
    assert_eq!(
        plan_err(&t.build()),
        Error::EntryOutsideSegments { entry: 0x201010 }
    );
    // PVH note pointing outside.
    let t = TestElf::kernel64().with_note(pvh_note(0x800000));
    assert_eq!(
        plan_err(&t.build()),
        Error::EntryOutsideSegments { entry: 0x800000 }
    );
}

#[test]
fn bad_multiboot1_checksum() {
    let mut h = mb1_header(0x3, None);
    h[8] ^= 1;
    let k = TestElf::kernel32().patch(0x1000, h).build();
    let e = plan_err(&k);
    assert!(
        matches!(
            e,
            Error::Mb1Checksum {
                offset: 0x1000,
                flags: 3,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn bad_multiboot2_checksum() {
    let mut h = mb2_header(&[]);
    h[12] ^= 1;
    let k = TestElf::kernel32().patch(0x1000, h).build();
    assert!(matches!(
        plan_err(&k),
        Error::Mb2Checksum { offset: 0x1000, .. }
    ));
}

#[test]
fn multiboot_headers_past_their_window_are_not_seen() {
    // Multiboot1 only in the first 8 KiB: a header at 0x2000 is ignored, leaving ELF32 without
    // an entry protocol.
    let k = TestElf::kernel32()
        .patch(0x2000, mb1_header(0x3, None))
        .build();
    assert_eq!(plan_err(&k), Error::PlainElfNeeds64 { class_bits: 32 });
}

#[test]
fn zero_length_and_oversized_notes() {
    // Zero-length PVH descriptor.
    let t = TestElf::kernel64().with_note(note(b"Xen", 18, &[]));
    assert_eq!(plan_err(&t.build()), Error::PvhNoteSize { descsz: 0 });
    // 6-byte descriptor.
    let t = TestElf::kernel64().with_note(note(b"Xen", 18, &[1, 2, 3, 4, 5, 6]));
    assert_eq!(plan_err(&t.build()), Error::PvhNoteSize { descsz: 6 });
    // descsz far larger than the PT_NOTE.
    let mut n = pvh_note(0x200010);
    n[4..8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let t = TestElf::kernel64().with_note(n);
    let e = plan_err(&t.build());
    assert!(
        matches!(
            e,
            Error::NoteTruncated {
                segment: 2,
                offset: 0,
                namesz: 4,
                descsz: 0xffff_fff0,
                avail: 20
            }
        ),
        "{e}"
    );
    // namesz larger than the PT_NOTE.
    let mut n = pvh_note(0x200010);
    n[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
    let t = TestElf::kernel64().with_note(n);
    assert!(matches!(
        plan_err(&t.build()),
        Error::NoteTruncated {
            namesz: u32::MAX,
            ..
        }
    ));
    // A note header cut off after 8 bytes.
    let t = TestElf::kernel64().with_note(vec![0; 8]);
    assert!(matches!(
        plan_err(&t.build()),
        Error::NoteTruncated { avail: 8, .. }
    ));
    // A PT_NOTE beyond the file.
    let mut t = TestElf::kernel64().with_note(pvh_note(0x200010));
    t.segs[2].offset = 0xffff_ffff_0000;
    assert!(matches!(
        plan_err(&t.build()),
        Error::SegmentOutOfFile { segment: 2, .. }
    ));
}

#[test]
fn pvh_entry_zero_or_above_4g() {
    let t = TestElf::kernel64().with_note(note(b"Xen", 18, &0u32.to_le_bytes()));
    assert_eq!(plan_err(&t.build()), Error::PvhEntryInvalid { entry: 0 });
    let t = TestElf::kernel64().with_note(note(b"Xen", 18, &0x1_0000_0000u64.to_le_bytes()));
    assert_eq!(
        plan_err(&t.build()),
        Error::PvhEntryInvalid {
            entry: 0x1_0000_0000
        }
    );
}

#[test]
fn multiboot1_unsupported_flags_and_bad_addresses() {
    let k = TestElf::kernel32()
        .patch(0x1000, mb1_header(0x8, None))
        .build();
    assert_eq!(
        plan_err(&k),
        Error::Mb1UnsupportedFlags {
            flags: 8,
            unsupported: 8
        }
    );
    // header_addr below load_addr.
    let k = TestElf::kernel32()
        .patch(
            0x1000,
            mb1_header(0x10000, Some([0x1ff000, 0x200000, 0, 0, 0x200010])),
        )
        .build();
    assert!(matches!(
        plan_err(&k),
        Error::Mb1BadAddress {
            field: "header_addr",
            value: 0x1ff000,
            ..
        }
    ));
    // load_end_addr past the end of the file.
    let k = TestElf::kernel32()
        .patch(
            0x1000,
            mb1_header(0x10000, Some([0x201000, 0x200000, 0x300000, 0, 0x200010])),
        )
        .build();
    let e = plan_err(&k);
    assert!(
        matches!(
            e,
            Error::Mb1BadAddress {
                field: "load_end_addr",
                value: 0x300000,
                ..
            }
        ),
        "{e}"
    );
    // bss_end_addr below load_end_addr.
    let k = TestElf::kernel32()
        .patch(
            0x1000,
            mb1_header(
                0x10000,
                Some([0x201000, 0x200000, 0x201800, 0x201000, 0x200010]),
            ),
        )
        .build();
    assert!(matches!(
        plan_err(&k),
        Error::Mb1BadAddress {
            field: "bss_end_addr",
            ..
        }
    ));
    // entry outside.
    let k = TestElf::kernel32()
        .patch(
            0x1000,
            mb1_header(
                0x10000,
                Some([0x201000, 0x200000, 0x201800, 0x203000, 0x400000]),
            ),
        )
        .build();
    assert!(matches!(
        plan_err(&k),
        Error::Mb1BadAddress {
            field: "entry_addr",
            value: 0x400000,
            ..
        }
    ));
    // Truncated header: the address fields run past the end of the file.
    let mut t = TestElf::kernel32();
    t.segs.truncate(1);
    let mut k2 = t.build();
    k2.truncate(0x2000);
    k2[0x1ff4..0x2000].copy_from_slice(&mb1_header(0x10000, None));
    assert!(matches!(
        plan_err(&k2),
        Error::Mb1Truncated {
            offset: 0x1ff4,
            need: 32,
            ..
        }
    ));
}

#[test]
fn multiboot2_malformed_tags() {
    // Tag size runs past the header.
    let mut h = mb2_header(&[(3, 0, u32s(&[0x200010]))]);
    h[20..24].copy_from_slice(&0x100u32.to_le_bytes());
    let k = TestElf::kernel32().patch(0x1000, h).build();
    assert!(matches!(
        plan_err(&k),
        Error::Mb2TagSize {
            tag: 3,
            size: 0x100,
            ..
        }
    ));
    // Address tag too short.
    let h = mb2_header(&[(2, 0, u32s(&[1]))]);
    let k = TestElf::kernel32().patch(0x1000, h).build();
    assert!(matches!(
        plan_err(&k),
        Error::Mb2TagSize {
            tag: 2,
            size: 12,
            ..
        }
    ));
    // A required unknown information request (12: the EFI64 system table). A required
    // framebuffer tag is checked against the screen when the information is built
    // (tests/display.rs).
    let h = mb2_header(&[(1, 0, u32s(&[6, 12]))]);
    let k = TestElf::kernel32().patch(0x1000, h).build();
    assert_eq!(plan_err(&k), Error::Mb2UnsupportedRequest { request: 12 });
    // No end tag: header_length cut before it.
    let mut h = mb2_header(&[(3, 0, u32s(&[0x200010]))]);
    let len = h.len() as u32 - 8;
    h[8..12].copy_from_slice(&len.to_le_bytes());
    let sum = 0u32.wrapping_sub(0xE85250D6).wrapping_sub(len);
    h[12..16].copy_from_slice(&sum.to_le_bytes());
    let k = TestElf::kernel32().patch(0x1000, h).build();
    assert!(matches!(
        plan_err(&k),
        Error::Mb2NoEndTag { offset: 0x1000 }
    ));
    // Architecture MIPS.
    let mut h = mb2_header(&[]);
    h[4] = 4;
    let sum = 0u32
        .wrapping_sub(0xE85250D6)
        .wrapping_sub(4)
        .wrapping_sub(24);
    h[12..16].copy_from_slice(&sum.to_le_bytes());
    let k = TestElf::kernel32().patch(0x1000, h).build();
    assert_eq!(plan_err(&k), Error::Mb2Architecture { architecture: 4 });
    // header_length past the end of the file.
    let mut h = mb2_header(&[]);
    let len = 0x10_0000u32;
    h[8..12].copy_from_slice(&len.to_le_bytes());
    h[12..16].copy_from_slice(
        &0u32
            .wrapping_sub(0xE85250D6)
            .wrapping_sub(len)
            .to_le_bytes(),
    );
    let k = TestElf::kernel32().patch(0x1000, h).build();
    assert!(matches!(
        plan_err(&k),
        Error::Mb2HeaderLength {
            offset: 0x1000,
            length: 0x10_0000,
            ..
        }
    ));
}

#[test]
fn override_for_an_absent_protocol() {
    let k = TestElf::kernel64().build();
    assert_eq!(
        plan_err_with(&k, Protocol::Pvh),
        Error::ProtocolNotPresent {
            protocol: Protocol::Pvh
        }
    );
    assert_eq!(
        plan_err_with(&k, Protocol::Multiboot1),
        Error::ProtocolNotPresent {
            protocol: Protocol::Multiboot1
        }
    );
    let k = TestElf::kernel32().build();
    assert_eq!(
        plan_err_with(&k, Protocol::Elf64),
        Error::PlainElfNeeds64 { class_bits: 32 }
    );
    assert_eq!(plan_err(&k), Error::PlainElfNeeds64 { class_bits: 32 });
}

#[test]
fn destination_outside_usable_ram() {
    let mut t = TestElf::kernel64();
    t.segs[1].paddr = 0x7ffdf000; // runs into the ACPI region at 0x7ffe0000
    t.segs[1].vaddr = 0x7ffdf000;
    let e = plan_err(&t.build());
    assert!(
        matches!(
            e,
            Error::SegmentNotInUsableRam {
                segment: 1,
                start: 0x7ffdf000,
                end: 0x7ffe1000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "segment 1 [0x7ffdf000..0x7ffe1000) overlaps ACPI reclaimable memory"
    );
    let mut t = TestElf::kernel64();
    t.segs[1].paddr = 0x2_0000_0000; // beyond RAM
    t.segs[1].vaddr = 0x2_0000_0000;
    assert!(matches!(
        plan_err(&t.build()),
        Error::SegmentNotInUsableRam {
            segment: 1,
            region: None,
            ..
        }
    ));
}

#[test]
fn dyn_where_the_protocol_cannot_relocate() {
    let t = TestElf {
        e_type: 3,
        ..TestElf::kernel64()
    }
    .with_note(pvh_note(0x200010));
    assert_eq!(
        plan_err(&t.build()),
        Error::DynNotAllowed {
            protocol: Protocol::Pvh
        }
    );
}

#[test]
fn bad_memory_map_and_firmware_ranges() {
    let k = TestElf::kernel64().build();
    let map = [payload_loader::MemoryRegion::new(
        0x2000,
        0x1000,
        payload_loader::MemoryKind::Usable,
    )];
    let e = *plan(&k, &PlanConfig::new(&map, &[])).unwrap_err();
    assert_eq!(
        e,
        Error::BadRange {
            what: "memory region",
            index: 0,
            start: 0x2000,
            end: 0x1000
        }
    );
    let map = memory_map();
    let fw = [payload_loader::Range::new(5, 4)];
    let e = *plan(&k, &PlanConfig::new(&map, &fw)).unwrap_err();
    assert!(matches!(
        e,
        Error::BadRange {
            what: "firmware range",
            ..
        }
    ));
}

#[test]
fn every_error_message_names_numbers() {
    // Spot check: the Display of each corpus error carries a hex number or a count.
    let k = TestElf::kernel64().build();
    for cut in [0usize, 10, 40, 63, 100, 0x1000, 0x2400] {
        let e = plan_err(&k[..cut]);
        let s = e.to_string();
        assert!(s.chars().any(|c| c.is_ascii_digit()), "{s}");
    }
}
