//! `cargo xtask coreboot`: a real coreboot ROM for QEMU q35, built from
//! Debian's source package, and baton put into it as the payload.
//!
//! How it is made (each step only when its result is missing):
//! - a `deb-src` entry for Debian's `sid` suite (coreboot 25.09+dfsg-1), the
//!   archive URI taken from the machine's apt sources
//!   (`/etc/apt/sources.list.d/baton-sid-src.sources`), `apt-get update`,
//!   `apt-get source --download-only coreboot` into `target/coreboot/src/`,
//!   the orig tarball (21.7 MB) unpacked with tar;
//! - `.config` = the fragment below, `make olddefconfig`, `make -j2` with the
//!   host toolchain (`CONFIG_ANY_TOOLCHAIN`), objects in `build-<variant>/`
//!   of the tree; `GIT_CEILING_DIRECTORIES` keeps coreboot's Makefile from
//!   seeing baton's git repository (it would take its version string from it
//!   and run `git submodule update` there);
//! - `util/cbfstool` from the same tree;
//! - the ROM and cbfstool copied to `target/coreboot/`.
//!
//! Facts measured here (bookworm host, gcc 12.2, 2 cores):
//! - Debian packages the build needs beyond a Rust machine: flex, bison,
//!   acpica-tools (iasl 20200925 is new enough), m4, and gcc-multilib: the
//!   bootblock, romstage and postcar are 32-bit and link libgcc's
//!   `__udivdi3`/`__udivmoddi4` from `gcc -m32` (without it: "undefined
//!   reference to `__udivmoddi4'"). zlib1g-dev, make, python3, xz-utils were
//!   there already.
//! - Times from nothing (`rm -rf target/coreboot; cargo xtask coreboot
//!   --tseg`): apt-get update + source download + unpack about 10 s,
//!   util/cbfstool 16 s, the q35 ROM 46 s, the q35-tseg ROM 57 s (`make
//!   -j2`, each a clean tree), both bare boots included 2 min 9 s in all.
//! - The default SMM set-up (`CPU_QEMU_X86_ASEG_SMM`) gives `MAX_CPUS=4`:
//!   with `-smp 5` or more coreboot says "CPU count(5) exceeds
//!   CONFIG_MAX_CPUS(4)" and "MP initialization failure". With
//!   `CONFIG_CPU_QEMU_X86_TSEG_SMM=y`, `MAX_CPUS=32`: 4, 8, 16 and 32 CPUs
//!   are all initialized, 33 fails the same way (the `q35-tseg` variant).
//! - The 16 MiB ROM, `cbfstool coreboot-q35.rom layout -w`:
//!   ```text
//!   'BIOS' (read-only, size 16777216, offset 0)
//!   'FMAP' (read-only, size 512, offset 0)
//!   'COREBOOT' (CBFS, size 16776704, offset 512)
//!   ```
//!   `cbfstool coreboot-q35.rom print` (no payload):
//!   ```text
//!   Name                  Offset     Type         Size   Comp
//!   cbfs_master_header    0x0        cbfs header        32 none
//!   fallback/romstage     0x80       stage           19616 none
//!   fallback/ramstage     0x4d80     stage           73071 LZMA (149796 decompressed)
//!   config                0x16b80    raw              2482 LZMA (7767 decompressed)
//!   revision              0x17580    raw               793 none
//!   build_info            0x178c0    raw               115 none
//!   fallback/dsdt.aml     0x17980    raw              7175 none
//!   cmos_layout.bin       0x195c0    cmos_layout       640 none
//!   fallback/postcar      0x19880    stage           20960 none
//!   (empty)               0x1eac0    null         16634596 none
//!   bootblock             0xffbdc0   bootblock       16384 none
//!   ```
//!   so about 15.8 MiB of CBFS is free. The ROM is mapped at 0xff000000
//!   (16 MiB below 4 GiB); CBFS (the FMAP region COREBOOT) begins at ROM
//!   offset 0x200, i.e. at 0xff000200.
//! - Booted bare (`-smp 4 -m 512M`): bootblock, romstage, postcar, ramstage
//!   all x86_32; the forward table is written at 0x500 (0x10 bytes of
//!   entries) and the real coreboot table at 0x1fe98000 (0x300 bytes of
//!   entries) in CBMEM at the top of RAM (0x1fd89000 with the TSEG ROM at
//!   -smp 32); then "CBFS: 'fallback/payload' not
//!   found" and "Payload not loaded." (the machine halts there).
//!
//! Then a run through coreboot (`entry = coreboot`): the cached ROM with
//! the kernel, initrd and modules already in CBFS (cached under
//! `target/coreboot/cache/`, keyed by the files), copied per run, baton
//! added as `fallback/payload` (`add-payload -c lzma`), and the small
//! files (`cmdline`, `config`, `module/N/cmdline`) added raw. CBFS names
//! are fw_cfg's (`opt/baton/kernel`, ...): coreboot's build already puts its
//! own `.config` into CBFS as `config` (LZMA, 7.7 KB).
//!
//! `variant.rs` names the ROMs and their `.config`, `paths.rs` where they
//! are kept, `build.rs` fetches and builds coreboot, `rom.rs` puts baton
//! and its files into a run's ROM, `cbfs.rs` runs cbfstool and adds files
//! to CBFS, `cache.rs` keeps the ROMs with the big files already in,
//! `bare.rs` boots a ROM without a payload.

mod bare;
mod build;
mod cache;
mod cbfs;
mod paths;
mod rom;
mod variant;

use std::time::Duration;

use anyhow::{Result, bail};

pub use bare::{BareBoot, strip_ansi};
pub use build::ensure;
use build::{BUILD_PACKAGES, source_present};
pub use cbfs::{Compression, Contents, cbfstool};
use paths::{cbfstool_path, dir, rom_path};
pub use rom::payload_rom;
pub use variant::Variant;

/// Adds what building the ROM of `variant` needs from Debian, unless it
/// is built already.
pub fn add_needs(variant: Variant, needs: &mut crate::setup::Needs) {
    if !(rom_path(variant).exists() && cbfstool_path().exists()) {
        needs.add("building coreboot", BUILD_PACKAGES);
        needs.coreboot_source |= !source_present();
    }
}

/// `cargo xtask coreboot`.
pub fn command(args: &crate::CorebootArgs) -> Result<std::process::ExitCode> {
    let mut variants = vec![Variant::Q35];
    if args.tseg {
        variants.push(Variant::Q35Tseg);
    }
    if args.framebuffer {
        variants.push(Variant::Q35Framebuffer);
    }
    let mut needs = crate::setup::Needs::qemu();
    for &variant in &variants {
        if args.rebuild {
            needs.add("building coreboot", BUILD_PACKAGES);
        }
        add_needs(variant, &mut needs);
    }
    crate::setup::ensure(&needs)?;
    for &variant in &variants {
        if args.rebuild {
            let _ = std::fs::remove_file(rom_path(variant));
        }
        let rom = ensure(variant)?;
        println!("{}: {}", variant.name(), rom.display());
        let smp = args.smp.unwrap_or(variant.max_cpus());
        let boot = BareBoot::start(
            &rom,
            smp,
            "512M",
            "Payload not loaded",
            Duration::from_secs(120),
        )?;
        let log = strip_ansi(&boot.serial);
        let log_file = dir().join(format!("bare-{}-smp{smp}.log", variant.name()));
        std::fs::write(&log_file, &log)?;
        let cpus = log
            .lines()
            .filter(|l| l.contains("CPU #") && l.contains(" initialized"))
            .count();
        let table = log
            .lines()
            .find(|l| l.contains("Writing coreboot table at"))
            .map(|l| l.trim().to_string())
            .unwrap_or_default();
        println!(
            "  bare boot at -smp {smp}: {} ({cpus} CPUs initialized; {table}; log {})",
            if boot.reached {
                "reached \"Payload not loaded\""
            } else {
                "did NOT reach the payload stage"
            },
            log_file.display()
        );
        if !boot.reached {
            bail!(
                "coreboot ({}) did not reach its payload stage",
                variant.name()
            );
        }
    }
    println!("cbfstool: {}", cbfstool_path().display());
    print!(
        "{}",
        cbfstool(&[
            rom_path(Variant::Q35).as_ref(),
            "layout".as_ref(),
            "-w".as_ref()
        ])?
    );
    print!(
        "{}",
        cbfstool(&[rom_path(Variant::Q35).as_ref(), "print".as_ref()])?
    );
    Ok(std::process::ExitCode::SUCCESS)
}
