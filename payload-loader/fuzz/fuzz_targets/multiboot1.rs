//! The Multiboot1 header search, its flags and address fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::multiboot1;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(h)) = multiboot1::find_header(data) {
        assert!(h.offset < multiboot1::SEARCH_LIMIT);
        if let Ok(Some(l)) = h.address_load(data.len()) {
            assert!(l.file_offset + l.file_len <= data.len() as u64);
            assert!(l.file_len <= l.mem_len);
            assert!(l.entry >= l.load_addr && l.entry < l.load_addr + l.mem_len);
        }
    }
});
