//! ET_DYN images: placement and `R_X86_64_RELATIVE` relocation.

use super::*;

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
