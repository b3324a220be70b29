//! The note walker and the PVH note parser on raw PT_NOTE contents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::{elf, pvh};

fuzz_target!(|data: &[u8]| {
    let (align, data) = match data.split_first() {
        Some((a, d)) => (if a & 1 == 0 { 4 } else { 8 }, d),
        None => return,
    };
    let mut notes = Vec::new();
    if elf::parse_notes(0, data, align, &mut notes).is_ok() {
        for n in &notes {
            assert!(n.desc.len() <= data.len());
        }
        if let Ok(Some(n)) = pvh::find_note(&notes) {
            assert_ne!(n.entry, 0);
        }
    }
});
