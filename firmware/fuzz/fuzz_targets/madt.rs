//! The MADT entry walk on raw bytes (no checksum to get past): every
//! entry length is checked before use; a result is consistent.
#![no_main]

use baton::acpi::madt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bsp = data.first().copied().unwrap_or(0).into();
    if let Ok(t) = madt::parse(data, bsp, data.len() % 2 == 0) {
        assert!(t.enabled() <= t.present());
        assert!(t.cpus.iter().filter(|c| c.is_bsp).count() <= 1);
    }
});
