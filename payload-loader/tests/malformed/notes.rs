//! PT_NOTE segments and the PVH note.

use super::*;

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
