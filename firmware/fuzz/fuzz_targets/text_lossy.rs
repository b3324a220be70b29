//! `text::lossy` against the standard library's lossy decoder: the same
//! text for any bytes (it decodes every name and command line from
//! outside).
#![no_main]

use baton::support::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    assert_eq!(text::lossy(input), String::from_utf8_lossy(input));
});
