//! The `\_S5` byte reader over arbitrary AML: it ends, and a sleep type it
//! returns fits the 3-bit SLP_TYP field. Inputs get a `Name (_S5, ` in
//! front half of the time, so the fuzzer spends its time in the package.
#![no_main]

use baton::acpi::s5;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let mut aml = input.to_vec();
    if input.first().is_some_and(|b| b & 1 == 1) {
        aml.splice(0..0, [0x08, b'_', b'S', b'5', b'_', 0x12]);
    }
    match s5::find(&aml) {
        Ok(Some(t)) => assert!(t.a <= 7 && t.b <= 7),
        Ok(None) => {}
        Err(e) => assert!(!format!("{e}").is_empty()),
    }
});
