//! The Multiboot2 header search, its tags and the address tag.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::multiboot2;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(h)) = multiboot2::find_header(data) {
        assert!(h.offset < multiboot2::SEARCH_LIMIT);
        assert!(h.offset + h.header_length as usize <= data.len());
        if let Ok(Some(l)) = h.address_load(data.len()) {
            assert!(l.file_offset + l.file_len <= data.len() as u64);
            assert!(l.file_len <= l.mem_len);
        }
    }
});
