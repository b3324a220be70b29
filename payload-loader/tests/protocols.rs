//! Protocol detection, precedence and override; Multiboot address fields and tags; the plan's
//! memory checks, firmware marks, allocator and ET_DYN relocation.
//! Here the helpers and detection; under `protocols/` the Multiboot fields, placement and
//! relocation, one file each.

mod common;
#[path = "protocols/multiboot.rs"]
mod multiboot;
#[path = "protocols/placement.rs"]
mod placement;
#[path = "protocols/relocation.rs"]
mod relocation;
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
