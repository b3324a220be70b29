//! The malformed-kernel corpus: every case is refused with its named error, never a panic.
//! The cases are grouped by what they break, one file each under `malformed/`; here the helpers
//! and the cases about the plan as a whole.

mod common;
#[path = "malformed/elf_header.rs"]
mod elf_header;
#[path = "malformed/multiboot.rs"]
mod multiboot;
#[path = "malformed/notes.rs"]
mod notes;
#[path = "malformed/segments.rs"]
mod segments;
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
