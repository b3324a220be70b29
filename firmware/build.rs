//! Links the bare-metal binary with baton's linker script (by absolute path,
//! so it works from any directory cargo runs the linker in).
use std::path::PathBuf;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let script = manifest.join("../linker/firmware.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=src/machine/entry/entry.s");
    // The unsafe-* negative controls build only where the harness
    // asks for them on purpose (BATON_NEGATIVE_CONTROL=1): a `--features`
    // typed by accident stops at a compile_error! in main.rs.
    println!("cargo:rustc-check-cfg=cfg(baton_negative_control)");
    println!("cargo:rerun-if-env-changed=BATON_NEGATIVE_CONTROL");
    if std::env::var("BATON_NEGATIVE_CONTROL").as_deref() == Ok("1") {
        println!("cargo:rustc-cfg=baton_negative_control");
    }
    if target == "x86_64-unknown-none" {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
        println!("cargo:rustc-link-arg-bins=--no-dynamic-linker");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=0x1000");
    }
}
