//! Multiboot1 and Multiboot2 headers: checksums, search windows, flags, address fields, tags.

use super::*;

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
