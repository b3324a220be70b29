//! Links the probe with its own linker script (by absolute path, so it works
//! from any directory cargo runs the linker in). The elf64 flavour is entered
//! in long mode, so its ELF entry is the 64-bit stub.
use std::path::PathBuf;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut script = manifest.join("probe.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    // Feature `high`: linked at 32 MiB instead, clear of the loader's own
    // memory, so that its copy leaves the loader's parked APs' lines alone
    // and the probe's own writes are the first there (`probe.trap`).
    if std::env::var_os("CARGO_FEATURE_HIGH").is_some() {
        let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
        let text = std::fs::read_to_string(&script).unwrap_or_default();
        let high = text.replace(". = 0x100000;", ". = 0x2000000;");
        assert!(high != text, "probe.ld has no `. = 0x100000;` line to move");
        script = out.join("probe-high.ld");
        std::fs::write(&script, high).expect("writing the high linker script");
    }
    println!("cargo:rerun-if-changed=src/entry.s");
    println!("cargo:rerun-if-changed=src/ap.s");
    if target == "x86_64-unknown-none" {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
        println!("cargo:rustc-link-arg-bins=--no-dynamic-linker");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=0x1000");
        if std::env::var_os("CARGO_FEATURE_ELF64").is_some() {
            println!("cargo:rustc-link-arg-bins=--entry=probe_entry64");
        }
    }
}
