//! Multiboot address fields and tags, video fields, and the strings the info carries.

use super::*;

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
