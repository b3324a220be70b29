//! The probe's own command-line options (`probe.settle-ms=N`,
//! `probe.ap-timeout-ms=N`, `probe.sipi-only=...`, `probe.nmi-aps`); other
//! words are the loader's business.

use crate::fail;

/// How many APs must answer the bare SIPI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SipiOnly {
    /// Every AP (the loader left them in wait-for-SIPI): the default.
    All,
    /// None (APs parked in HLT, e.g. by SeaBIOS under QEMU direct boot or
    /// baton's `ap-handoff=hlt`): a negative control.
    None,
    /// Only reported.
    Any,
}

pub struct Options {
    /// `probe.sipi-only=all|none|any`.
    pub sipi_only: SipiOnly,
    /// How long the overwritten memory is left alone before it is verified.
    pub settle_ms: u64,
    /// How long each AP round may take.
    pub ap_timeout_ms: u64,
    /// `probe.nmi-aps`: after overwriting memory, send every AP an NMI (as a
    /// kernel's crash or backtrace path does): an AP the loader left in a
    /// HLT loop in memory the kernel now owns would wake into garbage.
    pub nmi_aps: bool,
    /// `probe.trap=START-END` (hex): the loader's old park loop, made a
    /// tripwire before the overwrite (trap.rs).
    pub trap: Option<crate::trap::Trap>,
}

/// `0x1000` or `1000`, as hex.
fn hex(text: &[u8]) -> Option<u64> {
    let text = core::str::from_utf8(text).ok()?;
    u64::from_str_radix(text.strip_prefix("0x").unwrap_or(text), 16).ok()
}

impl Options {
    pub fn parse(cmdline: &[u8]) -> Self {
        let mut o = Options {
            sipi_only: SipiOnly::All,
            settle_ms: 200,
            ap_timeout_ms: 5000,
            nmi_aps: false,
            trap: None,
        };
        for word in cmdline.split(|b| b.is_ascii_whitespace()) {
            if word == b"probe.nmi-aps" {
                o.nmi_aps = true;
                continue;
            }
            if let Some(v) = word.strip_prefix(b"probe.trap=") {
                let mut ends = v.splitn(2, |&b| b == b'-');
                match (ends.next().and_then(hex), ends.next().and_then(hex)) {
                    (Some(start), Some(end)) if start < end => {
                        o.trap = Some(crate::trap::Trap { start, end })
                    }
                    _ => fail!(
                        "bad option \"{}\": want START-END in hex, START below END",
                        crate::phys::Printable(word)
                    ),
                }
                continue;
            }
            if let Some(v) = word.strip_prefix(b"probe.sipi-only=") {
                o.sipi_only = match v {
                    b"all" => SipiOnly::All,
                    b"none" => SipiOnly::None,
                    b"any" => SipiOnly::Any,
                    _ => fail!(
                        "bad option \"{}\": want all, none or any",
                        crate::phys::Printable(word)
                    ),
                };
                continue;
            }
            let (slot, value) = if let Some(v) = word.strip_prefix(b"probe.settle-ms=") {
                (&mut o.settle_ms, v)
            } else if let Some(v) = word.strip_prefix(b"probe.ap-timeout-ms=") {
                (&mut o.ap_timeout_ms, v)
            } else {
                continue;
            };
            match core::str::from_utf8(value)
                .ok()
                .and_then(|s| s.parse().ok())
            {
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
