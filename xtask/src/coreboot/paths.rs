//! Where the built ROMs and cbfstool are kept.

use std::path::PathBuf;

use super::variant::Variant;

/// target/coreboot
pub fn dir() -> PathBuf {
    crate::root().join("target/coreboot")
}

pub fn rom_path(variant: Variant) -> PathBuf {
    dir().join(format!("coreboot-{}.rom", variant.name()))
}

pub fn cbfstool_path() -> PathBuf {
    dir().join("cbfstool")
}
