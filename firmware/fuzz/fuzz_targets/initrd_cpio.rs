//! The initrd's cpio walk over arbitrary bytes: it ends, and whatever it
//! accepts as whole archives really ends inside the file. Inputs that do
//! not start with the newc magic get it, so the fuzzer spends its time in
//! the members rather than on the first six bytes.
#![no_main]

use baton::source::initrd::{self, Checked};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let mut bytes = input.to_vec();
    if !bytes.starts_with(b"0707") && !input.first().is_some_and(|b| b & 1 == 1) {
        bytes.splice(0..0, *b"070701");
    }
    match initrd::check(&bytes) {
        Ok(Checked::Cpio { rest, .. }) => assert!(rest <= bytes.len()),
        Ok(Checked::NotCpio) => assert!(![&b"070701"[..], b"070702"].iter().any(|m| bytes.starts_with(m))),
        Err(e) => assert!(!format!("{e}").is_empty()),
    }
});
