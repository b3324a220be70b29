//! The boot-info decoders on arbitrary blobs (they must refuse, never panic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::{boot_params, multiboot1, multiboot2, pvh};

fuzz_target!(|data: &[u8]| {
    let base = 0x10000;
    let _ = pvh::decode_start_info(data, base);
    let _ = multiboot1::decode_info(data, base);
    let _ = multiboot2::decode_info(data, base);
    let _ = boot_params::decode(data, base);
});
