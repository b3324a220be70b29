//! `reads`: a copy of a kernel holding only the bytes `reads` names (the
//! rest garbage) plans exactly as the whole file does.

mod common;
use common::*;
use payload_loader::reads::{self, HEAD};
use payload_loader::{PlanConfig, Range, plan};

/// The kernel as a loader that fetched only what `reads` names sees it:
/// every other byte is 0xa5.
fn sparse(kernel: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa5u8; kernel.len()];
    let copy = |out: &mut Vec<u8>, r: Range| {
        let (s, e) = (r.start as usize, (r.end as usize).min(kernel.len()));
        out[s..e].copy_from_slice(&kernel[s..e]);
    };
    copy(&mut out, Range::new(0, HEAD));
    let table = reads::program_header_table(&out, kernel.len() as u64).expect("phdr table");
    copy(&mut out, table);
    for r in reads::metadata_ranges(&out).expect("metadata ranges") {
        copy(&mut out, r);
    }
    out
}

fn plans_alike(kernel: &[u8]) {
    let map = memory_map();
    let config = PlanConfig::new(&map, &[]);
    let whole = plan(kernel, &config).expect("plan of the whole file");
    let part = plan(&sparse(kernel), &config).expect("plan of the sparse copy");
    assert_eq!(format!("{whole:?}"), format!("{part:?}"));
}

/// A PVH kernel whose segments and note all lie past the head.
fn far_kernel() -> TestElf {
    let mut t = TestElf::kernel64();
    t.segs = vec![
        Seg::load(0x10000, 0x200000, 0x8000, 0x8000, R | X),
        Seg::load(0x18000, 0x208000, 0x800, 0x2000, R | W),
        Seg::note(0x20000, pvh_note(0x200020)),
    ];
    t.min_len = 0x21000;
    t
}

#[test]
fn a_sparse_copy_plans_as_the_whole_file() {
    let k = far_kernel().build();
    let r = reads::metadata_ranges(&sparse(&k)).unwrap();
    assert_eq!(r.len(), 1);
    assert!(r[0].start >= HEAD, "the note lies past the head");
    plans_alike(&k);
    plans_alike(&TestElf::kernel64().with_note(pvh_note(0x200020)).build());
    plans_alike(
        &TestElf::kernel32()
            .patch(0x900, mb1_header(0x3, None))
            .build(),
    );
}

#[test]
fn files_with_relocations_need_every_byte() {
    let mut dynamic = far_kernel();
    dynamic.e_type = 3;
    assert_eq!(reads::metadata_ranges(&dynamic.build()), None);
    let mut with_dynamic = far_kernel();
    let mut seg = Seg::note(0x20000, vec![0; 16]);
    seg.p_type = PT_DYNAMIC;
    with_dynamic.segs.push(seg);
    assert_eq!(reads::metadata_ranges(&with_dynamic.build()), None);
}

#[test]
fn broken_headers_mean_the_whole_file() {
    assert_eq!(reads::program_header_table(b"\x7fELF", 4), None);
    let k = far_kernel().build();
    // A table that runs past the end of the file.
    assert_eq!(reads::program_header_table(&k, 100), None);
    assert_eq!(reads::metadata_ranges(&k[..0x20008]), None);
}

/// Debian's vmlinux (when `fetch-assets.sh` or the Linux scenarios left
/// it): a sparse copy of a few KiB plans as the 53 MB file does.
#[test]
fn debian_vmlinux_plans_from_its_headers_and_notes() {
    let path = std::env::var("BATON_VMLINUX")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| assets_dir().join("linux/vmlinux"));
    let Ok(k) = std::fs::read(&path) else {
        println!("SKIP: {} is absent", path.display());
        return;
    };
    let table = reads::program_header_table(&k, k.len() as u64).unwrap();
    let notes = reads::metadata_ranges(&k).unwrap();
    let fetched: u64 =
        HEAD + table.end - table.start + notes.iter().map(|r| r.end - r.start).sum::<u64>();
    assert!(fetched < 64 * 1024, "{fetched} bytes");
    plans_alike(&k);
}

/// A bzImage read as far as its setup sectors (the rest garbage) plans as the whole file does;
/// Debian's too, where present.
#[test]
fn a_bzimage_plans_from_its_setup_sectors() {
    let mut kernels = vec![
        TestBz::linux64().build(),
        TestBz {
            setup_sects: 0,
            ..TestBz::linux32_fixed()
        }
        .build(),
    ];
    if let Ok(k) = std::fs::read(assets_dir().join("linux/vmlinuz")) {
        kernels.push(k);
    }
    for k in kernels {
        let head = &k[..k.len().min(HEAD as usize)];
        let setup = reads::setup_sectors(head, k.len() as u64).expect("a bzImage");
        let sects = match k[0x1f1] {
            0 => 4,
            n => u64::from(n),
        };
        assert_eq!(setup, Range::new(0, (sects + 1) * 512));
        let mut part = vec![0xa5u8; k.len()];
        part[..setup.end as usize].copy_from_slice(&k[..setup.end as usize]);
        let map = memory_map();
        let config = PlanConfig::new(&map, &[]);
        let whole = plan(&k, &config).expect("plan of the whole file");
        assert_eq!(
            format!("{whole:?}"),
            format!("{:?}", plan(&part, &config).expect("plan of the setup"))
        );
    }
    // Not a bzImage, or the setup past the head: None.
    let elf = TestElf::kernel64().build();
    assert_eq!(reads::setup_sectors(&elf, elf.len() as u64), None);
    let k = TestBz::linux64().build();
    assert_eq!(reads::setup_sectors(&k[..0x300], k.len() as u64), None);
    assert_eq!(reads::setup_sectors(&k, 0x400), None);
}
