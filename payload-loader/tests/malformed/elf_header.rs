//! The ELF header and the program header table: truncation, ident fields, machine and type,
//! the table's extent and entry size.

use super::*;

#[test]
fn empty_and_truncated_header() {
    assert_eq!(plan_err(&[]), Error::TruncatedHeader { len: 0, need: 16 });
    let k = TestElf::kernel64().build();
    assert_eq!(
        plan_err(&k[..40]),
        Error::TruncatedHeader { len: 40, need: 64 }
    );
    let k32 = TestElf::kernel32().build();
    assert_eq!(
        plan_err(&k32[..51]),
        Error::TruncatedHeader { len: 51, need: 52 }
    );
}

#[test]
fn bad_ident_fields() {
    let mut k = TestElf::kernel64().build();
    k[0] = b'X';
    assert!(matches!(plan_err(&k), Error::BadMagic { .. }));
    let mut k = TestElf::kernel64().build();
    k[4] = 3;
    assert_eq!(plan_err(&k), Error::BadClass { class: 3 });
    let mut k = TestElf::kernel64().build();
    k[5] = 2;
    assert_eq!(plan_err(&k), Error::BadDataEncoding { data: 2 });
    let mut k = TestElf::kernel64().build();
    k[6] = 0;
    assert_eq!(plan_err(&k), Error::BadVersion { version: 0 });
}

#[test]
fn wrong_machine_and_type() {
    let k = TestElf {
        machine: 3,
        ..TestElf::kernel64()
    }
    .build();
    assert_eq!(
        plan_err(&k),
        Error::BadMachine {
            machine: 3,
            class_bits: 64
        }
    );
    let k = TestElf {
        machine: 62,
        ..TestElf::kernel32()
    }
    .build();
    assert_eq!(
        plan_err(&k),
        Error::BadMachine {
            machine: 62,
            class_bits: 32
        }
    );
    let k = TestElf {
        e_type: 1,
        ..TestElf::kernel64()
    }
    .build();
    assert_eq!(plan_err(&k), Error::BadType { e_type: 1 });
    let k = TestElf {
        e_type: 4,
        ..TestElf::kernel64()
    }
    .build();
    assert_eq!(plan_err(&k), Error::BadType { e_type: 4 });
}

#[test]
fn program_headers_beyond_the_end() {
    let mut k = TestElf::kernel64().build();
    let phoff = k.len() as u64 - 60;
    k[32..40].copy_from_slice(&phoff.to_le_bytes()); // e_phoff
    assert!(matches!(
        plan_err(&k),
        Error::ProgramHeadersOutOfFile {
            phnum: 2,
            phentsize: 56,
            ..
        }
    ));
    // e_phoff + table wraps past 2^64.
    let mut k = TestElf::kernel64().build();
    k[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        plan_err(&k),
        Error::ProgramHeadersOutOfFile {
            phoff: u64::MAX,
            ..
        }
    ));
    // A huge e_phnum.
    let mut k = TestElf::kernel64().build();
    k[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
    assert!(matches!(
        plan_err(&k),
        Error::ProgramHeadersOutOfFile { phnum: 0xffff, .. }
    ));
    let e = plan_err(&k);
    assert!(e.to_string().contains("65535 x 56 bytes"), "{e}");
}

#[test]
fn bad_phentsize_and_no_phdrs() {
    let mut k = TestElf::kernel64().build();
    k[54..56].copy_from_slice(&32u16.to_le_bytes());
    assert_eq!(
        plan_err(&k),
        Error::BadPhentsize {
            found: 32,
            expected: 56
        }
    );
    let k = TestElf {
        segs: vec![],
        ..TestElf::kernel64()
    }
    .build();
    assert_eq!(plan_err(&k), Error::NoProgramHeaders);
    let mut t = TestElf::kernel64();
    t.segs.iter_mut().for_each(|s| s.memsz = 0);
    t.segs.iter_mut().for_each(|s| s.filesz = 0);
    assert_eq!(plan_err(&t.build()), Error::NoLoadableSegments);
}
