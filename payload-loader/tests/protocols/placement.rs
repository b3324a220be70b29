//! The plan's memory: firmware marks, the allocator, low boot information, segment bytes.

use super::*;

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
