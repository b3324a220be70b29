//! The probe's own command-line options (`probe.settle-ms=N`,
//! `probe.ap-timeout-ms=N`); other words are the loader's business.

use crate::fail;

pub struct Options {
    /// How long the overwritten memory is left alone before it is verified.
    pub settle_ms: u64,
    /// How long each AP round may take.
    pub ap_timeout_ms: u64,
}

impl Options {
    pub fn parse(cmdline: &[u8]) -> Self {
        let mut o = Options {
            settle_ms: 200,
            ap_timeout_ms: 5000,
        };
        for word in cmdline.split(|b| b.is_ascii_whitespace()) {
            let (slot, value) = if let Some(v) = word.strip_prefix(b"probe.settle-ms=") {
                (&mut o.settle_ms, v)
            } else if let Some(v) = word.strip_prefix(b"probe.ap-timeout-ms=") {
                (&mut o.ap_timeout_ms, v)
            } else {
                continue;
            };
            match core::str::from_utf8(value).ok().and_then(|s| s.parse().ok()) {
                Some(v) => *slot = v,
                None => fail!(
                    "bad option \"{}\": want a number of milliseconds",
                    crate::phys::Printable(word)
                ),
            }
        }
        o
    }
}
