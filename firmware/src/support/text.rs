//! Text from outside bytes (file names, command lines, coreboot's strings).

use alloc::string::String;

/// `bytes` as text, each ill-formed sequence replaced by U+FFFD: the
/// result of `String::from_utf8_lossy`, from `str::from_utf8` alone (core's
/// lossy decoder is another 900 bytes of firmware).
pub fn lossy(mut bytes: &[u8]) -> String {
    let mut text = String::new();
    loop {
        match core::str::from_utf8(bytes) {
            Ok(valid) => {
                text.push_str(valid);
                return text;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                text.push_str(core::str::from_utf8(valid).unwrap_or_default());
                text.push(char::REPLACEMENT_CHARACTER);
                // No error length: the input ends inside a sequence.
                bytes = rest
                    .get(e.error_len().map_or(rest.len(), usize::from)..)
                    .unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_lossy_decoder() {
        let cases: &[&[u8]] = &[
            b"",
            b"fallback/payload",
            "caf\u{e9} \u{1f600}".as_bytes(),
            b"\xff",
            b"a\xffb",
            b"\xe2\x82",
            b"ab\xe2\x82",
            b"\xe2\x82z\xf0\x9f\x98",
            b"\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80",
        ];
        for case in cases {
            assert_eq!(lossy(case), String::from_utf8_lossy(case), "{case:x?}");
        }
        // Every short sequence of bytes from an alphabet of boundary cases.
        let alphabet = [
            0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
        ];
        for n in 0..alphabet.len().pow(4) {
            let bytes: alloc::vec::Vec<u8> = (0..4)
                .map(|i| alphabet[n / alphabet.len().pow(i) % alphabet.len()])
                .collect();
            assert_eq!(lossy(&bytes), String::from_utf8_lossy(&bytes), "{bytes:x?}");
        }
    }
}
