//! Every byte of a bzImage's setup header set to edge values, and every truncation: the plan
//! and the boot_params either succeed with their invariants or give a named error whose
//! message carries its numbers; nothing panics.

mod common;
use common::*;
use payload_loader::{BootInfoInput, Error, Module, PlanConfig, Protocol, Range, plan};

fn check(k: &[u8]) -> Option<Error> {
    let map = memory_map();
    let firmware = [Range::new(0x10_0000, 0x20_0000)];
    let mut p = match plan(k, &PlanConfig::new(&map, &firmware)) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return Some(*e);
        }
    };
    assert_eq!(p.kind(), Protocol::Linux);
    let s = p.segments[0];
    assert!(s.file_bytes(k).is_some());
    assert!(s.dest <= p.entry && p.entry < s.dest + s.file_size);
    let initrd = p
        .allocate_below("initrd", 0x1000, 4096, p.initrd_limit())
        .ok()?;
    let modules = [Module {
        addr: initrd,
        size: 0x1000,
        cmdline: "",
    }];
    let info = BootInfoInput {
        cmdline: "console=ttyS0",
        loader_name: "baton",
        memory_map: &map,
        machine_map: &[],
        modules: &modules,
        display: None,
        rsdp: None,
    };
    match p.build_boot_info(&info, 0x9_0000) {
        Ok(blob) => {
            let d = payload_loader::boot_params::decode(&blob, 0x9_0000).expect("decodes");
            assert_eq!(d.memory_map, map);
            None
        }
        Err(e) => Some(*e),
    }
}

#[test]
fn every_header_byte_at_edge_values() {
    let mut refusals = std::collections::BTreeMap::<String, usize>::new();
    for base in [TestBz::linux64(), TestBz::linux32_fixed()] {
        let k = base.build();
        for off in 0x1f0..0x290 {
            for v in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff] {
                let mut m = k.clone();
                m[off] = v;
                if let Some(e) = check(&m) {
                    let name = format!("{e:?}");
                    let name = name.split([' ', '{', '(']).next().unwrap_or("").to_string();
                    *refusals.entry(name).or_default() += 1;
                }
            }
        }
    }
    println!("{refusals:?}");
    for named in [
        "BzBootFlag",
        "BzProtocolTooOld",
        "BzHeaderTooShort",
        "BzSetupPastEnd",
        "BzTruncated",
        "BzNotLoadedHigh",
        "BzBadAlignment",
        "BzEntryOutsideImage",
    ] {
        assert!(refusals.contains_key(named), "{named} never seen");
    }
}

#[test]
fn every_truncation() {
    let k = TestBz::linux64().build();
    for len in 0..k.len() {
        let e = check(&k[..len]).expect("a truncated bzImage was accepted");
        assert!(
            matches!(
                e,
                Error::BadMagic { .. }
                    | Error::TruncatedHeader { .. }
                    | Error::BzSetupPastEnd { .. }
                    | Error::BzTruncated { .. }
            ),
            "{len}: {e}"
        );
    }
    assert_eq!(check(&k), None);
}
