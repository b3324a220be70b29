//! Host tests over tables built by the `acpi_tables` crate (raw bytes where
//! it has no structure: x2APIC entries, broken tables). A parser that hung
//! would hang the test: each case must end with a named result.
//! Over 500 lines on purpose: the table builders at the top serve every
//! parser's cases, which split across files would each need a copy.

use alloc::vec::Vec;

use acpi_tables::Aml;
use acpi_tables::madt::{
    EnabledStatus, IoApic as IoApicEntry, LocalInterruptController, MADT, ProcessorLocalApic,
};

use super::*;
use crate::support::phys::FakeMemory;

const RSDP: u64 = 0xe_0040;
const XSDT: u64 = 0x1_0000;
const MADT_AT: u64 = 0x1_1000;
const FADT_AT: u64 = 0x1_2000;
const DSDT_AT: u64 = 0x1_3000;

fn bytes(t: &impl Aml) -> Vec<u8> {
    let mut v = Vec::new();
    t.to_aml_bytes(&mut v);
    v
}

/// A table with a correct header and checksum around `body`.
fn raw_table(signature: &[u8; 4], revision: u8, body: &[u8]) -> Vec<u8> {
    let mut t = Vec::from(*signature);
    t.extend(((36 + body.len()) as u32).to_le_bytes());
    t.push(revision);
    t.push(0);
    t.extend(b"BATON BATONTST");
    t.extend([0u8; 12]);
    t.extend(body);
    fix_checksum(&mut t);
    t
}

fn fix_checksum(t: &mut [u8]) {
    t[9] = 0;
    t[9] = 0u8.wrapping_sub(sdt::checksum(t));
}

fn xapic_madt(cpus: &[(u8, u8, EnabledStatus)]) -> Vec<u8> {
    let mut m = MADT::new(
        *b"BATON ",
        *b"BATONTST",
        1,
        LocalInterruptController::Address(0xfee0_0000),
    );
    for &(uid, id, status) in cpus {
        m.add_structure(ProcessorLocalApic::new(uid, id, status));
    }
    m.add_structure(IoApicEntry::new(0, 0xfec0_0000, 0));
    bytes(&m)
}

fn x2apic_entry(uid: u32, id: u32, flags: u32) -> Vec<u8> {
    let mut e = alloc::vec![9u8, 16, 0, 0];
    e.extend(id.to_le_bytes());
    e.extend(flags.to_le_bytes());
    e.extend(uid.to_le_bytes());
    e
}

/// A MADT from raw entries.
fn raw_madt(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::from(0xfee0_0000u32.to_le_bytes());
    body.extend(1u32.to_le_bytes());
    for e in entries {
        body.extend(e);
    }
    raw_table(b"APIC", 5, &body)
}

/// A FADT of `length` with the 12-byte GAS `gas` at `offset`, parsed.
fn fadt_with_gas(length: usize, revision: u8, offset: usize, gas: [u8; 12]) -> fadt::Fadt {
    let mut t = fadt(length, revision);
    t[offset..offset + 12].copy_from_slice(&gas);
    fix_checksum(&mut t);
    fadt::Fadt::parse(&t)
}

fn fadt(length: usize, revision: u8) -> Vec<u8> {
    let mut body = alloc::vec![0u8; length - 36];
    body[40 - 36..44 - 36].copy_from_slice(&(DSDT_AT as u32).to_le_bytes());
    body[64 - 36..68 - 36].copy_from_slice(&0x604u32.to_le_bytes());
    body[89 - 36] = 2;
    if length >= 129 {
        body[112 - 36..116 - 36].copy_from_slice(&(1u32 << 10).to_le_bytes());
        body[116 - 36..128 - 36].copy_from_slice(&[1, 8, 0, 1, 0xf9, 0x0c, 0, 0, 0, 0, 0, 0]);
        body[128 - 36] = 0x0f;
    }
    raw_table(b"FACP", revision, &body)
}

/// A machine with RSDP (revision 2) -> XSDT -> {MADT, FADT -> DSDT}.
fn machine(madt: &[u8]) -> FakeMemory {
    let mut m = FakeMemory::new(0, 0x10_0000);
    m.write(
        RSDP,
        &bytes(&acpi_tables::rsdp::Rsdp::new(*b"BATON ", XSDT)),
    );
    let mut xsdt = acpi_tables::xsdt::XSDT::new(*b"BATON ", *b"BATONTST", 1);
    xsdt.add_entry(MADT_AT);
    xsdt.add_entry(FADT_AT);
    m.write(XSDT, &bytes(&xsdt));
    m.write(MADT_AT, madt);
    m.write(FADT_AT, &fadt(244, 3));
    m.write(DSDT_AT, &raw_table(b"DSDT", 2, &[0x10, 0x00]));
    m
}

fn topology(m: &FakeMemory, bsp: u32, x2apic: bool) -> Result<madt::Topology, AcpiError> {
    let tables = load(m, RSDP)?;
    let madt = tables
        .madt
        .ok_or(AcpiError::Missing { signature: "APIC" })?;
    madt::parse(&madt, bsp, x2apic)
}

#[test]
fn xsdt_path_finds_every_table() {
    let m = machine(&xapic_madt(&[(0, 0, EnabledStatus::Enabled)]));
    let t = load(&m, RSDP).unwrap();
    assert_eq!(t.root, "XSDT");
    assert_eq!(t.revision, 2);
    let names: Vec<_> = t.tables.iter().map(|t| t.name().to_string()).collect();
    assert_eq!(names, ["APIC", "FACP"]);
    assert_eq!(t.dsdt.as_ref().map(|d| d.addr), Some(DSDT_AT));
    assert!(t.rejected.is_empty());
}

#[test]
fn rsdt_only_revision_0() {
    let mut m = machine(&xapic_madt(&[(0, 0, EnabledStatus::Enabled)]));
    let mut rsdp = Vec::from(*b"RSD PTR ");
    rsdp.push(0);
    rsdp.extend(b"BATON ");
    rsdp.push(0);
    rsdp.extend(0x1_4000u32.to_le_bytes());
    rsdp[8] = 0u8.wrapping_sub(sdt::checksum(&rsdp));
    m.write(RSDP, &rsdp);
    let mut body = Vec::from((MADT_AT as u32).to_le_bytes());
    body.extend((FADT_AT as u32).to_le_bytes());
    m.write(0x1_4000, &raw_table(b"RSDT", 1, &body));
    let t = load(&m, RSDP).unwrap();
    assert_eq!((t.root, t.tables.len()), ("RSDT", 2));
}

#[test]
fn rsdp_scan_and_checksums() {
    let m = machine(&xapic_madt(&[]));
    assert_eq!(rsdp::scan(&m).unwrap().addr, RSDP);
    let mut bad = machine(&xapic_madt(&[]));
    bad.bytes[RSDP as usize + 8] ^= 1;
    assert!(matches!(
        rsdp::Rsdp::read(&bad, RSDP),
        Err(AcpiError::RsdpChecksum {
            part: "first 20 bytes",
            ..
        })
    ));
    assert_eq!(rsdp::scan(&bad), Err(AcpiError::RsdpNotFound));
    let mut bad = machine(&xapic_madt(&[]));
    bad.bytes[RSDP as usize + 32] ^= 1;
    assert!(matches!(
        rsdp::Rsdp::read(&bad, RSDP),
        Err(AcpiError::RsdpChecksum {
            part: "extended",
            ..
        })
    ));
}

#[test]
fn xapic_topology_with_bsp_by_apic_id() {
    let m = machine(&xapic_madt(&[
        (0, 0, EnabledStatus::Enabled),
        (1, 1, EnabledStatus::Enabled),
        (2, 2, EnabledStatus::DisabledOnlineCapable),
        (3, 3, EnabledStatus::Disabled),
    ]));
    let t = topology(&m, 1, false).unwrap();
    assert_eq!((t.present(), t.enabled()), (4, 2));
    assert_eq!(t.bsp().map(|c| c.uid), Some(1));
    assert_eq!(t.lapic_address, 0xfee0_0000);
    assert_eq!(
        t.io_apics,
        [madt::IoApic {
            id: 0,
            address: 0xfec0_0000,
            gsi_base: 0
        }]
    );
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
}

#[test]
fn xapic_and_x2apic_mix() {
    let mut entries: Vec<Vec<u8>> = (0..3u8)
        .map(|i| alloc::vec![0, 8, i, i, 1, 0, 0, 0])
        .collect();
    entries.push(x2apic_entry(300, 0x100, 1));
    entries.push(x2apic_entry(301, 0x101, 1));
    entries.push(alloc::vec![5, 12, 0, 0, 0, 0, 0xe0, 0xfe, 0, 0, 0, 0]); // LAPIC address override
    entries.push(alloc::vec![4, 6, 0xff, 0, 0, 1]); // LAPIC NMI, all CPUs, LINT1
    let m = machine(&raw_madt(&entries));
    let t = topology(&m, 0, true).unwrap();
    assert_eq!(t.enabled(), 5);
    assert_eq!(
        t.cpus[3],
        madt::Cpu {
            uid: 300,
            apic_id: 0x100,
            enabled: true,
            online_capable: false,
            x2apic_entry: true,
            is_bsp: false
        }
    );
    assert_eq!(t.lapic_address, 0xfee0_0000);
    assert_eq!(
        t.nmis,
        [madt::LapicNmi {
            uid: u32::MAX,
            lint: 1,
            flags: 0
        }]
    );
    assert!(t.warnings.is_empty());
    let t = topology(&m, 0, false).unwrap();
    assert_eq!(t.warnings.len(), 2, "{:?}", t.warnings);
    assert!(t.warnings[0].contains("APIC ID 0x100 (UID 300) needs x2APIC"));
}

#[test]
fn zero_length_entry_is_an_error_not_a_hang() {
    let m = machine(&raw_madt(&[
        alloc::vec![0, 8, 0, 0, 1, 0, 0, 0],
        alloc::vec![0, 0, 0, 0],
    ]));
    let err = topology(&m, 0, false).unwrap_err();
    assert_eq!(
        err,
        AcpiError::MadtEntry {
            index: 1,
            offset: 52,
            kind: 0,
            length: 0,
            reason: "length below 2 (a zero length would loop forever)"
        }
    );
    assert!(
        err.to_string()
            .contains("MADT entry 1 (type 0, length 0) at offset 52")
    );
}

#[test]
fn short_entry_and_entry_past_the_end() {
    let m = machine(&raw_madt(&[alloc::vec![9, 8, 0, 0, 0, 0, 0, 0]]));
    assert!(matches!(
        topology(&m, 0, true),
        Err(AcpiError::MadtEntry {
            reason: "shorter than its structure",
            ..
        })
    ));
    let m = machine(&raw_madt(&[alloc::vec![0, 30, 0, 0, 1, 0, 0, 0]]));
    assert!(matches!(
        topology(&m, 0, true),
        Err(AcpiError::MadtEntry {
            reason: "runs past the end of the table",
            ..
        })
    ));
}

#[test]
fn bad_checksum_and_truncated_tables_are_rejected() {
    let mut madt = xapic_madt(&[(0, 0, EnabledStatus::Enabled)]);
    madt[40] ^= 0x55;
    let m = machine(&madt);
    let t = load(&m, RSDP).unwrap();
    assert!(t.find(b"APIC").is_none());
    assert!(
        matches!(&t.rejected[..], [AcpiError::TableChecksum { signature, .. }] if *signature == *"APIC")
    );

    let mut madt = xapic_madt(&[(0, 0, EnabledStatus::Enabled)]);
    madt[4..8].copy_from_slice(&20u32.to_le_bytes());
    let t = load(&machine(&madt), RSDP).unwrap();
    assert!(matches!(
        &t.rejected[..],
        [AcpiError::TableTooShort { length: 20, .. }]
    ));

    let mut m = machine(&xapic_madt(&[]));
    let huge = 0xffff_0000u32;
    m.write(MADT_AT + 4, &huge.to_le_bytes());
    let t = load(&m, RSDP).unwrap();
    assert!(matches!(
        &t.rejected[..],
        [AcpiError::TableTooLong {
            length: 0xffff_0000,
            ..
        }]
    ));

    // A table running off the end of memory.
    let mut m = machine(&xapic_madt(&[]));
    m.write(XSDT + 36, &(0x10_0000u64 - 40).to_le_bytes());
    fix_checksum(&mut m.bytes[XSDT as usize..XSDT as usize + 52]);
    let mut t = raw_table(b"APIC", 1, &[0; 64]);
    t.truncate(40);
    m.write(0x10_0000 - 40, &t);
    assert!(matches!(
        &load(&m, RSDP).unwrap().rejected[..],
        [AcpiError::TableUnreadable { .. }]
    ));
}

#[test]
fn duplicate_ids_and_missing_bsp_are_reported() {
    let m = machine(&xapic_madt(&[
        (0, 0, EnabledStatus::Enabled),
        (1, 0, EnabledStatus::Enabled),
        (2, 0xff, EnabledStatus::Enabled),
    ]));
    let t = topology(&m, 7, false).unwrap();
    assert_eq!(t.enabled(), 2);
    assert_eq!(t.warnings.len(), 3, "{:?}", t.warnings);
    assert!(t.warnings[0].contains("APIC ID 0x0 (UID 1) is listed twice"));
    assert!(t.warnings[1].contains("0xff"));
    assert!(t.warnings[2].contains("APIC ID 0x7) is not in the MADT"));
}

#[test]
fn fadt_fields_inside_the_length_only() {
    let full = fadt::Fadt::parse(&fadt(244, 3));
    assert_eq!(full.dsdt, DSDT_AT);
    assert_eq!(
        full.pm1a_control,
        Some(fadt::Register::Io {
            port: 0x604,
            width: 2
        })
    );
    assert_eq!(
        full.reset,
        Some(fadt::ResetRegister {
            register: fadt::Register::Io {
                port: 0xcf9,
                width: 1
            },
            value: 0x0f
        })
    );
    // Access size 0 ("undefined", as QEMU writes it): the bit width decides.
    assert_eq!(
        fadt_with_gas(244, 3, 172, [1, 16, 0, 0, 0x04, 0x06, 0, 0, 0, 0, 0, 0]).pm1a_control,
        Some(fadt::Register::Io {
            port: 0x604,
            width: 2
        })
    );
    // Hardware-reduced (microvm): the sleep control register at 244.
    assert_eq!(
        fadt_with_gas(268, 5, 244, [1, 8, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0]).sleep_control,
        Some(fadt::Register::Io {
            port: 0x600,
            width: 1
        })
    );
    // QEMU pc: revision 1, 116 bytes: no reset register, no X_ fields.
    let pc = fadt::Fadt::parse(&fadt(116, 1));
    assert_eq!(pc.reset, None);
    assert_eq!(
        pc.pm1a_control,
        Some(fadt::Register::Io {
            port: 0x604,
            width: 2
        })
    );
    assert_eq!(pc.length, 116);
    // Anything shorter still parses to "absent", never reads out of bounds.
    for len in 0..244 {
        let _ = fadt::Fadt::parse(&fadt(244, 3)[..len]);
    }
}

#[test]
fn s5_register_writes() {
    use fadt::Register::Io;
    let full = fadt::Fadt::parse(&fadt(244, 3));
    assert_eq!(
        full.s5_writes(5, 0),
        Ok(alloc::vec![(
            Io {
                port: 0x604,
                width: 2
            },
            (5 << 10) | (1 << 13)
        )])
    );
    let with_b = fadt::Fadt {
        pm1b_control: Some(Io {
            port: 0x608,
            width: 2,
        }),
        ..full
    };
    assert_eq!(
        with_b.s5_writes(5, 7),
        Ok(alloc::vec![
            (
                Io {
                    port: 0x608,
                    width: 2
                },
                (7 << 10) | (1 << 13)
            ),
            (
                Io {
                    port: 0x604,
                    width: 2
                },
                (5 << 10) | (1 << 13)
            )
        ])
    );
    assert!(
        fadt::Fadt {
            pm1a_control: None,
            ..full
        }
        .s5_writes(5, 0)
        .is_err()
    );
    let mut reduced = fadt_with_gas(268, 5, 244, [1, 8, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0]);
    reduced.hardware_reduced = true;
    assert_eq!(
        reduced.s5_writes(5, 0),
        Ok(alloc::vec![(
            Io {
                port: 0x600,
                width: 1
            },
            (5 << 2) | (1 << 5)
        )])
    );
    assert!(
        fadt::Fadt {
            sleep_control: None,
            ..reduced
        }
        .s5_writes(5, 0)
        .is_err()
    );
}

#[test]
fn a_second_madt_is_left_out_and_named_with_its_fault() {
    // As QEMU's `-acpitable sig=APIC,data=...` adds one: after the real MADT.
    let mut m = machine(&xapic_madt(&[(0, 0, EnabledStatus::Enabled)]));
    let second = 0x9_0000u64;
    m.write(
        second,
        &raw_madt(&[alloc::vec![0, 8, 1, 1, 1, 0, 0, 0], alloc::vec![0, 0, 0, 0]]),
    );
    let mut xsdt = acpi_tables::xsdt::XSDT::new(*b"BATON ", *b"BATONTST", 1);
    for at in [MADT_AT, FADT_AT, second] {
        xsdt.add_entry(at);
    }
    m.write(XSDT, &bytes(&xsdt));
    let t = load(&m, RSDP).unwrap();
    assert_eq!(
        t.madt.as_deref(),
        Some(&xapic_madt(&[(0, 0, EnabledStatus::Enabled)])[..])
    );
    let [
        e @ AcpiError::SecondMadt {
            addr,
            first,
            problem: Some(problem),
        },
    ] = &t.rejected[..]
    else {
        panic!("{:?}", t.rejected);
    };
    assert_eq!((*addr, *first), (second, MADT_AT));
    assert!(
        matches!(
            **problem,
            AcpiError::MadtEntry {
                index: 1,
                length: 0,
                ..
            }
        ),
        "{problem}"
    );
    assert!(alloc::format!("{e}").contains("a second MADT"), "{e}");
}

#[test]
fn signatures_print_each_non_graphic_byte_as_a_question_mark() {
    // The messages as they were when signatures were Strings: the bytes
    // as printed (a non-graphic byte as `?`), quoted where a wrong
    // signature is named.
    let mut m = FakeMemory::new(0, 0x2000);
    m.write(0x1000, &raw_table(b"A\x01C ", 1, &[0; 8]));
    let Err(wrong) = sdt::read_table(&m, 0x1000, Some(*b"APIC")) else {
        panic!("a wrong signature was accepted")
    };
    assert_eq!(
        wrong.to_string(),
        "table at 0x1000: signature \"A?C?\", expected \"APIC\""
    );
    // A table whose header reads but whose body runs off the end of memory.
    let mut cut = raw_table(b"S\x7fDT", 1, &[0; 64]);
    cut.truncate(40);
    m.write(0x2000 - 40, &cut);
    let Err(unreadable) = sdt::read_table(&m, 0x2000 - 40, None) else {
        panic!("a table running off memory was read")
    };
    assert!(matches!(unreadable, AcpiError::TableUnreadable { .. }));
    assert!(
        unreadable.to_string().starts_with("S?DT table: "),
        "{unreadable}"
    );
}

#[test]
fn lapic_nmi_entries_give_lint_values() {
    use crate::acpi::madt::LapicNmi;
    let all = LapicNmi {
        uid: u32::MAX,
        lint: 1,
        flags: 0,
    };
    assert!(all.applies_to(0) && all.applies_to(7));
    assert_eq!(all.lvt(), 0x400);
    let low = LapicNmi {
        uid: 3,
        lint: 0,
        flags: 0b1111, // active low, level: still edge for NMI
    };
    assert!(low.applies_to(3) && !low.applies_to(0));
    assert_eq!(low.lvt(), 0x2400);
    let high = LapicNmi {
        uid: 3,
        lint: 1,
        flags: 0b0101,
    };
    assert_eq!(high.lvt(), 0x400);
}
