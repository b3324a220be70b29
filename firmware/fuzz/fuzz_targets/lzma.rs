//! baton's LZMA decoder against `lzma-rust2` on arbitrary .lzma streams:
//! ours never panics, and where both decode, both give the same bytes.
//! (The announced size is capped at 64 KiB to keep each run short.)
#![no_main]

use baton::source::lzma::decode;
use libfuzzer_sys::fuzz_target;
use lzma_rust2::LzmaReader;
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    let announced = data
        .get(5..13)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    let len = announced.min(64 << 10) as usize;
    let mut ours = vec![0u8; len];
    let mine = decode(data, &mut ours, 1024);
    if let Ok(n) = mine {
        assert!(n <= len);
    }
    let mut theirs = vec![0u8; len];
    let reference = LzmaReader::new_mem_limit(data, 1024 + 64, None)
        .ok()
        .and_then(|mut r| {
            let mut done = 0;
            while done < len {
                match r.read(&mut theirs[done..]) {
                    Ok(0) => break,
                    Ok(n) => done += n,
                    Err(_) => return None,
                }
            }
            Some(done)
        });
    if let (Ok(n), Some(m)) = (mine, reference) {
        assert_eq!(n, m);
        assert!(ours[..n] == theirs[..m]);
    }
});
