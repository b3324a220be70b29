//! `cargo test -p payload-loader --test fuzz_seeds -- --ignored` writes seed inputs for the
//! fuzz targets into `payload-loader/fuzz/corpus/<target>/` (git-ignored).

mod common;
use common::*;
use payload_loader::{
    BootInfoInput, MemoryKind, MemoryRegion, Module, PlanConfig, Protocol, build_boot_info,
};
use std::fs;
use std::path::PathBuf;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("fuzz corpus dir");
    fs::write(dir.join(name), bytes).expect("fuzz corpus dir");
}

#[test]
#[ignore]
fn write_fuzz_seeds() {
    let kernels = [
        ("elf64", TestElf::kernel64().build()),
        (
            "pvh",
            TestElf::kernel64().with_note(pvh_note(0x200010)).build(),
        ),
        (
            "mb1",
            TestElf::kernel32()
                .patch(0x100, mb1_header(0x3, None))
                .build(),
        ),
        (
            "mb1addr",
            TestElf::kernel32()
                .patch(
                    0x1000,
                    mb1_header(
                        0x10003,
                        Some([0x200000, 0x200000, 0x201800, 0x204000, 0x200040]),
                    ),
                )
                .build(),
        ),
        (
            "mb2",
            TestElf::kernel32()
                .patch(
                    0x1000,
                    mb2_header(&[
                        (1, 0, u32s(&[1, 6, 14])),
                        (3, 0, u32s(&[0x200010])),
                        (5, 1, u32s(&[1024, 768, 32])),
                        (6, 0, vec![]),
                        (10, 1, u32s(&[0x100000, 0x10000000, 0x1000, 1])),
                    ]),
                )
                .build(),
        ),
        (
            "dyn",
            TestElf {
                e_type: 3,
                ..TestElf::kernel64()
            }
            .build(),
        ),
    ];
    for (name, k) in &kernels {
        write("elf", name, k);
        let mut p = vec![0xff];
        p.extend_from_slice(k);
        write("plan", name, &p);
        write("multiboot1", name, &k[..k.len().min(0x2000)]);
        write("multiboot2", name, &k[..k.len().min(0x2000)]);
    }
    let invaders = assets_dir().join("grub-invaders/invaders.exec");
    if let Ok(k) = fs::read(invaders) {
        write("elf", "invaders", &k);
        let mut p = vec![0xff];
        p.extend_from_slice(&k);
        write("plan", "invaders", &p);
        write("multiboot1", "invaders", &k);
    }
    let mut bzimages = vec![
        ("linux64", TestBz::linux64().build()),
        ("linux32-fixed", TestBz::linux32_fixed().build()),
        (
            "setup-sects-0",
            TestBz {
                setup_sects: 0,
                ..TestBz::linux64()
            }
            .build(),
        ),
        (
            "v2.09",
            TestBz {
                version: 0x0209,
                header_len: 0x56,
                ..TestBz::linux32_fixed()
            }
            .build(),
        ),
    ];
    // Debian's header over a short protected-mode part.
    if let Ok(k) = fs::read(assets_dir().join("linux/vmlinuz")) {
        let setup = (usize::from(k[0x1f1]) + 1) * 512;
        let mut head = k[..setup + 0x1000].to_vec();
        head[0x1f4..0x1f8].copy_from_slice(&0x100u32.to_le_bytes());
        bzimages.push(("debian-head", head));
    }
    for (name, k) in &bzimages {
        write("bzimage", name, &[&[0u8][..], k].concat());
        write("bzimage_plan", name, &[&[0x10u8, 8][..], k].concat());
        write("plan", name, &[&[0xffu8][..], k].concat());
    }
    let mut notes = vec![0u8];
    notes.extend(note(b"Xen", 6, b"linux\0"));
    notes.extend(pvh_note(0x1000850));
    notes.extend(note(b"GNU", 3, &[0; 20]));
    write("notes", "xen", &notes);
    let map = [
        MemoryRegion::new(0, 0x9fc00, MemoryKind::Usable),
        MemoryRegion::new(0x100000, 0x8000000, MemoryKind::Usable),
        MemoryRegion::new(0xfeffc000, 0xff000000, MemoryKind::Reserved),
    ];
    let mods = [Module {
        addr: 0x400000,
        size: 0x1000,
        cmdline: "initrd",
    }];
    let input = BootInfoInput {
        cmdline: "console=ttyS0",
        loader_name: "baton",
        memory_map: &map,
        machine_map: &[],
        modules: &mods,
        display: None,
        rsdp: None,
    };
    for p in [Protocol::Pvh, Protocol::Multiboot1, Protocol::Multiboot2] {
        write(
            "decoders",
            &format!("{p:?}"),
            &build_boot_info(p, &input, 0x10000).unwrap(),
        );
    }
    let bz = payload_loader::plan(&TestBz::linux64().build(), &PlanConfig::new(&map, &[])).unwrap();
    write(
        "decoders",
        "boot_params",
        &bz.build_boot_info(&input, 0x10000).unwrap(),
    );
}
