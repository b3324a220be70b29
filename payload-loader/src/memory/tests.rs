use super::*;
use crate::error::MemoryKindName;
use alloc::vec::Vec;

#[test]
fn the_more_restrictive_kind_has_the_higher_priority() {
    use MemoryKind::*;
    let order = [Usable, Acpi, Nvs, Other(7), Reserved, Other(12), Other(5)];
    for pair in order.windows(2) {
        assert!(pair[0].priority() < pair[1].priority(), "{pair:?}");
    }
    assert_eq!(Other(6).priority(), Other(5).priority());
    assert!(Other(7).is_ram() && Nvs.is_ram() && !Reserved.is_ram());
    assert!(Reserved.is_readable() && !Other(5).is_readable() && !Other(6).is_readable());
    assert_eq!(
        alloc::format!("{} {}", Other(7), Other(9)),
        "persistent type 9"
    );
}

#[test]
fn a_free_list_hands_out_from_the_top_and_keeps_the_rest() {
    let mut f = FreeList::new(&[
        Range::new(0x10_0000, 0x20_0000),
        Range::new(0, 0x9_f000),
        Range::new(0x18_0000, 0x30_0000),
        Range::new(0x40_0000, 0x40_0000),
    ]);
    assert_eq!(
        f.ranges(),
        &[Range::new(0, 0x9_f000), Range::new(0x10_0000, 0x30_0000)]
    );
    assert_eq!(
        f.take_top_down(0x1000, 0x1000, 0x10_0000, u64::MAX),
        Some(0x2f_f000)
    );
    assert_eq!(
        f.take_top_down(0x1000, 0x1000, 0, 0x10_0000),
        Some(0x9_e000)
    );
    f.take(Range::new(0x10_0000, 0x2f_0000));
    assert_eq!(f.bytes_from(0x10_0000), 0xf000);
    assert_eq!(
        f.take_top_down(0x10_0000, 0x1000, 0x10_0000, u64::MAX),
        None
    );
}

fn map() -> Vec<MemoryRegion> {
    vec![
        MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
        MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
        MemoryRegion::new(0x10_0000, 0x7fe0_0000, MemoryKind::Usable),
        MemoryRegion::new(0x7fe0_0000, 0x8000_0000, MemoryKind::Acpi),
    ]
}

#[test]
fn lower_upper() {
    assert_eq!(
        mem_lower_upper(&map()),
        (639, (0x7fe0_0000 - 0x10_0000) / 1024)
    );
}

#[test]
fn usable_minus_reserved_overlap() {
    let m = [
        MemoryRegion::new(0, 0x1000_0000, MemoryKind::Usable),
        MemoryRegion::new(0x20_0000, 0x30_0000, MemoryKind::Nvs),
    ];
    let u = usable_ram(&m);
    assert_eq!(
        u,
        vec![Range::new(0, 0x20_0000), Range::new(0x30_0000, 0x1000_0000)]
    );
    assert_eq!(
        check_usable(&m, &u, Range::new(0x1f_0000, 0x21_0000)),
        Err(Some(MemoryKindName("ACPI NVS")))
    );
    assert_eq!(
        check_usable(&m, &u, Range::new(0x1000_0000, 0x1000_1000)),
        Err(None)
    );
    assert_eq!(check_usable(&m, &u, Range::new(0x1000, 0x2000)), Ok(()));
}

#[test]
fn reserving_boot_info() {
    let m = map();
    let out = with_reserved(
        &m,
        &[
            Range::new(0x7000, 0x8000),
            Range::new(0x7fdf_f000, 0x7fe0_1000),
            Range::new(0x7800, 0x9000),
        ],
    );
    assert_eq!(
        out,
        vec![
            MemoryRegion::new(0, 0x7000, MemoryKind::Usable),
            // Overlapping cuts are one entry.
            MemoryRegion::new(0x7000, 0x9000, MemoryKind::Reserved),
            MemoryRegion::new(0x9000, 0x9fc00, MemoryKind::Usable),
            MemoryRegion::new(0x9fc00, 0xa0000, MemoryKind::Reserved),
            MemoryRegion::new(0x10_0000, 0x7fdf_f000, MemoryKind::Usable),
            MemoryRegion::new(0x7fdf_f000, 0x7fe0_0000, MemoryKind::Reserved),
            MemoryRegion::new(0x7fe0_0000, 0x8000_0000, MemoryKind::Acpi),
        ]
    );
    assert_eq!(with_reserved(&m, &[]), m);
    // Touching cuts (the park area, then the boot information) too.
    let touching = with_reserved(
        &m,
        &[Range::new(0x2000, 0x3000), Range::new(0x1000, 0x2000)],
    );
    assert_eq!(
        touching[..3],
        [
            MemoryRegion::new(0, 0x1000, MemoryKind::Usable),
            MemoryRegion::new(0x1000, 0x3000, MemoryKind::Reserved),
            MemoryRegion::new(0x3000, 0x9fc00, MemoryKind::Usable),
        ]
    );
}

#[test]
fn allocators() {
    let free = free_ranges(&usable_ram(&map()), &[Range::new(0x7000_0000, 0x7fe0_0000)]);
    assert_eq!(
        alloc_top_down(&free, 0x1000, 0x1000, 0x10_0000, u64::MAX),
        Some(0x6fff_f000)
    );
    assert_eq!(
        alloc_bottom_up(&free, 0x1000, 0x1000, 0x10_0001, u64::MAX),
        Some(0x10_1000)
    );
    assert_eq!(alloc_top_down(&free, 0x8000_0000, 8, 0, u64::MAX), None);
}
