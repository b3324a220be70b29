//! PT_LOAD segments: sizes, file ranges, wrapping, overlap, alignment, the entry, usable RAM.

use super::*;

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
