//! Protocol detection, precedence and override; Multiboot address fields and tags; the plan's
//! memory checks, firmware marks, allocator and ET_DYN relocation.

mod common;
use common::*;
use payload_loader::multiboot2::FramebufferTag;
use payload_loader::{
    BootProtocol, ElfClass, Error, MemoryKind, MemoryRegion, PlanConfig, Protocol, Range, elf,
    multiboot2, plan,
};

fn plan_ok(k: &[u8]) -> payload_loader::LoadPlan {
    let map = memory_map();
    plan(k, &PlanConfig::new(&map, &[])).expect("plan")
}

fn with_override(k: &[u8], p: Protocol) -> payload_loader::Result<payload_loader::LoadPlan> {
    let map = memory_map();
    let mut cfg = PlanConfig::new(&map, &[]);
    cfg.protocol = Some(p);
    plan(k, &cfg)
}

/// ELF64 with a PVH note, a Multiboot2 header and a Multiboot1 header.
fn everything() -> TestElf {
    TestElf::kernel64()
        .with_note(pvh_note(0x200020))
        .patch(0x800, mb2_header(&[(3, 0, u32s(&[0x200030]))]))
        .patch(0x900, mb1_header(0x3, None))
}

#[test]
fn precedence_pvh_then_mb2_then_mb1_then_elf64() {
    let k = everything().build();
    let p = plan_ok(&k);
    assert_eq!(p.kind(), Protocol::Pvh);
    assert_eq!(p.entry, 0x200020);
    // Without the PVH note: Multiboot2 with its entry tag.
    let mut t = everything();
    t.segs.pop();
    let p = plan_ok(&t.build());
    assert_eq!(p.kind(), Protocol::Multiboot2);
    assert_eq!(p.entry, 0x200030);
    // Without Multiboot2: Multiboot1 enters at e_entry.
    let k = TestElf::kernel64()
        .patch(0x900, mb1_header(0x3, None))
        .build();
    let p = plan_ok(&k);
    assert_eq!(p.kind(), Protocol::Multiboot1);
    assert_eq!(p.entry, 0x200010);
    assert_eq!(
        plan_ok(&TestElf::kernel64().build()).kind(),
        Protocol::Elf64
    );
    assert_eq!(
        Protocol::PRECEDENCE,
        [
            Protocol::Pvh,
            Protocol::Multiboot2,
            Protocol::Multiboot1,
            Protocol::Elf64
        ]
    );
}

#[test]
fn override_picks_any_present_protocol() {
    let k = everything().build();
    for (p, entry) in [
        (Protocol::Pvh, 0x200020),
        (Protocol::Multiboot2, 0x200030),
        (Protocol::Multiboot1, 0x200010),
        (Protocol::Elf64, 0x200010),
    ] {
        let plan = with_override(&k, p).unwrap();
        assert_eq!((plan.kind(), plan.entry), (p, entry));
    }
    assert_eq!(Protocol::from_name("multiboot"), Some(Protocol::Multiboot1));
    assert_eq!(Protocol::from_name("pvh"), Some(Protocol::Pvh));
    assert_eq!(Protocol::from_name("linux"), Some(Protocol::Linux));
    assert_eq!(Protocol::from_name("bzimage"), None);
}

#[test]
fn a_malformed_higher_protocol_is_an_error_not_a_fall_through() {
    let mut bad = mb2_header(&[]);
    bad[12] ^= 0x40;
    let k = TestElf::kernel64()
        .patch(0x800, bad)
        .patch(0x900, mb1_header(0x3, None))
        .build();
    let map = memory_map();
    assert!(matches!(
        plan(&k, &PlanConfig::new(&map, &[])).map_err(|e| *e),
        Err(Error::Mb2Checksum { .. })
    ));
    // ... but an override to Multiboot1 never looks at it.
    assert_eq!(
        with_override(&k, Protocol::Multiboot1).unwrap().kind(),
        Protocol::Multiboot1
    );
}

#[test]
fn pvh_note_with_8_byte_descriptor_and_other_notes_first() {
    let mut notes = note(b"GNU", 3, &[0xaa; 20]);
    notes.extend(note(b"Xen", 6, b"linux\0"));
    notes.extend(note(b"Xen", 18, &0x200040u64.to_le_bytes()));
    let p = plan_ok(&TestElf::kernel64().with_note(notes).build());
    let BootProtocol::Pvh(n) = p.protocol else {
        panic!()
    };
    assert_eq!((n.entry, n.segment), (0x200040, 2));
    // A note named "Xenon" with type 18 is not the PVH note.
    let p = plan_ok(
        &TestElf::kernel64()
            .with_note(note(b"Xenon", 18, &[0x40, 0, 0x20, 0]))
            .build(),
    );
    assert_eq!(p.kind(), Protocol::Elf64);
}

#[test]
fn pvh_on_elf32() {
    let p = plan_ok(&TestElf::kernel32().with_note(pvh_note(0x200000)).build());
    assert_eq!(
        (p.kind(), p.class, p.entry),
        (Protocol::Pvh, ElfClass::Elf32, 0x200000)
    );
}

#[test]
fn multiboot1_address_fields_replace_program_headers() {
    // header at file 0x1000 = address 0x201000 -> load_addr 0x200000 is file offset 0.
    let k = TestElf::kernel32()
        .patch(
            0x1000,
            mb1_header(
                0x10003,
                Some([0x201000, 0x200000, 0x201800, 0x210000, 0x200040]),
            ),
        )
        .build();
    let p = plan_ok(&k);
    let BootProtocol::Multiboot1(h) = &p.protocol else {
        panic!()
    };
    assert_eq!(h.offset, 0x1000);
    let a = h.address.unwrap();
    assert_eq!((a.load_addr, a.entry_addr), (0x200000, 0x200040));
    assert_eq!(p.segments.len(), 1);
    let s = p.segments[0];
    assert_eq!(
        (s.phdr, s.file_offset, s.file_size, s.dest, s.mem_size),
        (None, 0, 0x1800, 0x200000, 0x10000)
    );
    assert_eq!(p.entry, 0x200040);
    // load_end_addr 0: the rest of the file; bss_end_addr 0: no bss.
    let k = TestElf::kernel32()
        .patch(
            0x1000,
            mb1_header(0x10000, Some([0x201000, 0x200000, 0, 0, 0x200040])),
        )
        .build();
    let p = plan_ok(&k);
    assert_eq!(p.segments[0].file_size, k.len() as u64);
    assert_eq!(p.segments[0].mem_size, k.len() as u64);
}

#[test]
fn multiboot1_video_fields_and_flags() {
    let mut h = mb1_header(0x10007, Some([0x201000, 0x200000, 0, 0, 0x200040]));
    h.extend(u32s(&[1, 80, 25, 0]));
    let p = plan_ok(&TestElf::kernel32().patch(0x1000, h).build());
    let BootProtocol::Multiboot1(h) = &p.protocol else {
        panic!()
    };
    assert_eq!(h.video, Some([1, 80, 25, 0]));
    assert_eq!(h.flags & payload_loader::multiboot1::FLAG_PAGE_ALIGN, 1);
}

#[test]
fn multiboot2_tags() {
    let h = mb2_header(&[
        (1, 0, u32s(&[1, 3, 6, 14])),
        (1, 1, u32s(&[8, 9])),
        (4, 0, u32s(&[3])),
        (5, 1, u32s(&[1024, 768, 32])),
        (6, 0, vec![]),
        (7, 1, vec![]),
        (9, 1, u32s(&[0x200050])),
        (3, 0, u32s(&[0x200010])),
    ]);
    let p = plan_ok(&TestElf::kernel32().patch(0x1000, h).build());
    let BootProtocol::Multiboot2(h) = &p.protocol else {
        panic!()
    };
    assert_eq!(h.info_requests, vec![1, 3, 6, 14, 8, 9]);
    assert_eq!(h.console_flags, Some(3));
    assert_eq!(
        h.framebuffer,
        Some(FramebufferTag {
            width: 1024,
            height: 768,
            depth: 32,
            required: false
        })
    );
    assert!(h.module_align);
    assert_eq!(h.entry, Some(0x200010));
    assert_eq!(p.entry, 0x200010);
    // A required EFI tag is refused.
    let h = mb2_header(&[(7, 0, vec![])]);
    assert!(matches!(
        plan(
            &TestElf::kernel32().patch(0x1000, h).build(),
            &PlanConfig::new(&memory_map(), &[])
        )
        .map_err(|e| *e),
        Err(Error::Mb2UnsupportedTag { tag: 7, .. })
    ));
    // Unaligned headers are not found: only 8-byte aligned offsets are searched.
    let k = TestElf::kernel32().patch(0x1004, mb2_header(&[])).build();
    assert_eq!(multiboot2::find_header(&k).unwrap(), None);
}

#[test]
fn multiboot2_address_tag() {
    let h = mb2_header(&[
        (2, 0, u32s(&[0x201000, 0x200000, 0x201800, 0x208000])),
        (3, 0, u32s(&[0x200100])),
    ]);
    let p = plan_ok(&TestElf::kernel32().patch(0x1000, h).build());
    assert_eq!(p.segments.len(), 1);
    let s = p.segments[0];
    assert_eq!(
        (s.file_offset, s.file_size, s.dest, s.mem_size),
        (0, 0x1800, 0x200000, 0x8000)
    );
    assert_eq!(p.entry, 0x200100);
    // Entry outside the loaded range.
    let h = mb2_header(&[
        (2, 0, u32s(&[0x201000, 0x200000, 0x201800, 0x208000])),
        (3, 0, u32s(&[0x300000])),
    ]);
    let e = *plan(
        &TestElf::kernel32().patch(0x1000, h).build(),
        &PlanConfig::new(&memory_map(), &[]),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Mb2BadAddress {
                field: "entry_addr",
                value: 0x300000,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn firmware_overlap_is_marked_not_refused() {
    let map = memory_map();
    let fw = [Range::new(0x1ff000, 0x200800)];
    let p = plan(&TestElf::kernel64().build(), &PlanConfig::new(&map, &fw)).unwrap();
    assert!(p.segments[0].overlaps_firmware);
    assert!(!p.segments[1].overlaps_firmware);
    assert!(p.needs_relocation());
    assert_eq!(p.kernel_range(), Range::new(0x200000, 0x203000));
}

#[test]
fn allocator_avoids_kernel_firmware_and_earlier_allocations() {
    let map = [
        MemoryRegion::new(0x100000, 0x400000, MemoryKind::Usable),
        MemoryRegion::new(0x3f0000, 0x3f8000, MemoryKind::Reserved),
    ];
    let fw = [Range::new(0x380000, 0x3c0000)];
    let mut p = plan(&TestElf::kernel64().build(), &PlanConfig::new(&map, &fw)).unwrap();
    let a = p.allocate("a", 0x8000, 0x1000).unwrap();
    assert_eq!(a, 0x3f8000); // top of usable RAM above the reserved hole
    let b = p.allocate("b", 0x30000, 0x1000).unwrap();
    assert_eq!(b, 0x3c0000); // exactly between the firmware and the reserved hole
    let c = p.allocate("c", 0x100, 8).unwrap();
    assert_eq!(c, 0x37ff00); // just below the firmware
    assert_eq!(p.allocations().len(), 3);
    for r in p.allocations() {
        assert!(!r.overlaps(&p.kernel_range()));
    }
    let e = *p.allocate("huge", 0x400000, 0x1000).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no free memory for huge: 0x400000 bytes aligned to 0x1000 below 0x100000000"
    );
    assert_eq!(
        p.allocate("x", 1, 3).map_err(|e| *e),
        Err(Error::BadAllocAlign { align: 3 })
    );
    let before = p.free_memory();
    p.reserve(Range::new(0x100000, 0x1f0000));
    assert!(p.free_memory().len() <= before.len());
}

#[test]
fn boot_information_goes_low_below_1_mib_where_it_fits() {
    let map = [
        MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
        MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
        MemoryRegion::new(0x100000, 0x8000_0000, MemoryKind::Usable),
        MemoryRegion::new(0x1_0000_0000, 0x2_0000_0000, MemoryKind::Usable),
    ];
    // The firmware occupies 0x9000..0x10000 of low memory (a trampoline, say).
    let fw = [Range::new(0x9000, 0x10000)];
    let mut p = plan(&TestElf::kernel64().build(), &PlanConfig::new(&map, &fw)).unwrap();
    // Top-down allocations are unchanged: high, below 4 GiB.
    assert_eq!(p.allocate("park", 0x9000, 0x1000).unwrap(), 0x7fff7000);
    // Low ones start at page 1, never page 0, and skip the firmware.
    assert_eq!(p.allocate_low("info", 0x2000, 0x1000).unwrap(), 0x1000);
    assert_eq!(p.allocate_low("info", 0x7000, 0x1000).unwrap(), 0x10000);
    assert_eq!(p.allocate_low("info", 0x6000, 0x1000).unwrap(), 0x3000);
    // Too big for low memory: the lowest place above 1 MiB clear of the
    // kernel (at 0x200000..0x203000): first just below it, then just above.
    let k = p.kernel_range();
    assert_eq!(p.allocate_low("info", 0x10_0000, 0x1000).unwrap(), 0x100000);
    let big = p.allocate_low("info", 0x10_0000, 0x1000).unwrap();
    assert_eq!(big, 0x203000);
    assert!(!Range::new(big, big + 0x10_0000).overlaps(&k));
    // Never above the first GiB.
    let e = *p.allocate_low("info", 0x4000_0000, 0x1000).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no free memory for info: 0x40000000 bytes aligned to 0x1000 below 0x40000000"
    );
}

#[test]
fn multiboot_strings_begin_with_the_file_name() {
    for p in [Protocol::Multiboot1, Protocol::Multiboot2] {
        assert_eq!(
            p.command_line("opt/baton/kernel", "console=com1 dom0_mem=512M"),
            "opt/baton/kernel console=com1 dom0_mem=512M"
        );
        assert_eq!(p.command_line("opt/baton/initrd", ""), "opt/baton/initrd");
    }
    for p in [Protocol::Pvh, Protocol::Elf64] {
        assert_eq!(
            p.command_line("opt/baton/kernel", "console=ttyS0"),
            "console=ttyS0"
        );
        assert_eq!(p.command_line("opt/baton/initrd", ""), "");
    }
}

/// A static-PIE ELF64 linked at 0x1000 with two R_X86_64_RELATIVE relocations.
fn pie() -> TestElf {
    let mut t = TestElf {
        e_type: 3,
        entry: 0x1010,
        ..TestElf::kernel64()
    };
    t.segs[0].vaddr = 0x1000;
    t.segs[0].paddr = 0x1000;
    t.segs[1].vaddr = 0x2000;
    t.segs[1].paddr = 0x2000;
    let mut dynamic = Vec::new();
    for (tag, val) in [(7u64, 0x2200u64), (8, 48), (9, 24), (0, 0)] {
        dynamic.extend_from_slice(&tag.to_le_bytes());
        dynamic.extend_from_slice(&val.to_le_bytes());
    }
    let mut rela = Vec::new();
    for (off, addend) in [(0x2300u64, 0x1010u64), (0x3800, 0x2000)] {
        rela.extend_from_slice(&off.to_le_bytes());
        rela.extend_from_slice(&8u64.to_le_bytes());
        rela.extend_from_slice(&addend.to_le_bytes());
    }
    t.segs.push(Seg {
        p_type: PT_DYNAMIC,
        flags: R | W,
        offset: 0x2100,
        vaddr: 0x2100,
        paddr: 0x2100,
        filesz: 64,
        memsz: 64,
        align: 8,
        data: dynamic,
    });
    t.patches.push((0x2200, rela));
    t
}

#[test]
fn dyn_plain_elf64_is_placed_and_relocated() {
    let k = pie().build();
    let img = elf::parse(&k).unwrap();
    assert_eq!(
        img.relative_relocations().unwrap(),
        vec![(0x2300, 0x1010), (0x3800, 0x2000)]
    );
    let p = plan_ok(&k);
    assert_eq!(p.kind(), Protocol::Elf64);
    // Lowest free page-aligned address at or above 1 MiB.
    assert_eq!(p.segments[0].dest, 0x100000);
    assert_eq!(p.load_bias, 0x100000 - 0x1000);
    assert_eq!(p.entry, 0x100010);
    assert_eq!(p.relocations.len(), 2);
    assert_eq!(
        (
            p.relocations[0].segment,
            p.relocations[0].offset,
            p.relocations[0].value
        ),
        (1, 0x300, 0x100010)
    );
    assert_eq!(
        (
            p.relocations[1].segment,
            p.relocations[1].offset,
            p.relocations[1].value
        ),
        (1, 0x1800, 0x101000)
    );
    let mut seg = vec![0u8; p.segments[1].mem_size as usize];
    p.relocate(1, &mut seg);
    assert_eq!(
        u64::from_le_bytes(seg[0x300..0x308].try_into().unwrap()),
        0x100010
    );
    assert_eq!(
        u64::from_le_bytes(seg[0x1800..0x1808].try_into().unwrap()),
        0x101000
    );
}

#[test]
fn dyn_with_unsupported_relocations() {
    let mut t = pie();
    t.patches[0].1[8] = 1; // R_X86_64_64
    let map = memory_map();
    assert_eq!(
        *plan(&t.build(), &PlanConfig::new(&map, &[])).unwrap_err(),
        Error::UnsupportedRelocation {
            index: 0,
            r_type: 1
        }
    );
    let mut t = pie();
    t.patches[0].1[0..8].copy_from_slice(&0x9000u64.to_le_bytes());
    assert_eq!(
        *plan(&t.build(), &PlanConfig::new(&map, &[])).unwrap_err(),
        Error::RelocationOutOfSegment {
            index: 0,
            r_offset: 0x9000
        }
    );
    let mut t = pie();
    t.segs[2].data[40..48].copy_from_slice(&16u64.to_le_bytes()); // DT_RELAENT 16
    assert!(matches!(
        *plan(&t.build(), &PlanConfig::new(&map, &[])).unwrap_err(),
        Error::BadDynamic { value: 16, .. }
    ));
}

#[test]
fn dyn_multiboot2_relocatable_prefers_highest() {
    let t = pie().patch(
        0x800,
        mb2_header(&[(10, 0, u32s(&[0x1000000, 0x4000000, 0x200000, 2]))]),
    );
    let p = plan_ok(&t.build());
    assert_eq!(p.kind(), Protocol::Multiboot2);
    let end = p.kernel_range().end;
    assert!(
        p.segments[0].dest >= 0x1000000 && end <= 0x4000001,
        "{:x?}",
        p.kernel_range()
    );
    assert_eq!(p.segments[0].dest % 0x200000, 0);
    assert!(p.segments[0].dest > 0x3000000);
    // Without the relocatable tag Multiboot2 cannot take ET_DYN.
    let t = pie().patch(0x800, mb2_header(&[]));
    let map = memory_map();
    assert_eq!(
        *plan(&t.build(), &PlanConfig::new(&map, &[])).unwrap_err(),
        Error::DynNotAllowed {
            protocol: Protocol::Multiboot2
        }
    );
}

#[test]
fn plan_segments_reference_file_bytes() {
    let mut t = TestElf::kernel64();
    t.segs[0].data = vec![0x90; 0x1000];
    let k = t.build();
    let p = plan_ok(&k);
    assert_eq!(p.segments[0].file_bytes(&k).unwrap(), &[0x90; 0x1000][..]);
    assert_eq!(p.segments[1].file_bytes(&k).unwrap().len(), 0x800);
    assert_eq!(
        p.segments[0].flags,
        payload_loader::FLAG_R | payload_loader::FLAG_X
    );
}

#[test]
fn dyn_linked_high_is_placed_low() {
    // A PIE linked at -2 GiB: the bias is "negative" and must not be mistaken for a wrap.
    let mut t = pie();
    let high = 0xffff_ffff_8000_0000u64;
    for s in t.segs.iter_mut() {
        s.vaddr += high;
        s.paddr += high;
    }
    t.entry += high;
    t.segs[2].data[8..16].copy_from_slice(&(0x2200 + high).to_le_bytes()); // DT_RELA
    t.patches[0].1[0..8].copy_from_slice(&(0x2300 + high).to_le_bytes());
    t.patches[0].1[24..32].copy_from_slice(&(0x3800 + high).to_le_bytes());
    let p = plan_ok(&t.build());
    assert_eq!(p.segments[0].dest, 0x100000);
    assert_eq!(p.entry, 0x100010);
    assert_eq!(p.relocations[0].value, 0x1010u64.wrapping_add(p.load_bias));
}
