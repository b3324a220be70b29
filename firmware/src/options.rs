//! baton's own command line: `key=value` words separated by blanks.
//! Unknown words and bad values are reported, never fatal: a typo in an
//! option must not cost the boot.

use alloc::string::String;
use alloc::vec::Vec;

/// What baton does when something goes wrong (an exception, a panic, an
/// error it cannot get past).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailPolicy {
    Halt,
    Reset,
}

/// Deliberate faults for the test suite (`test=...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTest {
    /// Invalid opcode (#UD).
    InvalidOpcode,
    /// Page fault on an unmapped address (#PF).
    PageFault,
    /// Non-canonical access (#GP).
    GeneralProtection,
    /// Divide by zero (#DE).
    DivideError,
    /// An NMI sent to ourselves through the local APIC: survived, not fatal.
    Nmi,
    /// A Rust panic.
    Panic,
    /// No IDT at all, then an exception: the CPU shuts down.
    TripleFault,
    /// Spin forever with interrupts off (the harness must call it a hang).
    Hang,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub log_level: log::LevelFilter,
    pub on_fail: FailPolicy,
    /// I/O port of QEMU's isa-debug-exit device: every end of the run is
    /// reported there (the harness sets it).
    pub debug_exit: Option<u16>,
    pub self_test: Option<SelfTest>,
    /// Words that could not be understood, with the reason.
    pub warnings: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            log_level: log::LevelFilter::Info,
            on_fail: FailPolicy::Halt,
            debug_exit: None,
            self_test: None,
            warnings: Vec::new(),
        }
    }
}

impl Options {
    pub fn parse(cmdline: &str) -> Self {
        let mut o = Self::default();
        for word in cmdline.split_ascii_whitespace() {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            let ok = match key {
                "log" => value.parse().map(|l| o.log_level = l).is_ok(),
                "on-fail" => match value {
                    "halt" => Some(FailPolicy::Halt),
                    "reset" => Some(FailPolicy::Reset),
                    _ => None,
                }
                .map(|p| o.on_fail = p)
                .is_some(),
                "debug-exit" => parse_number(value)
                    .and_then(|p| u16::try_from(p).ok())
                    .map(|p| o.debug_exit = Some(p))
                    .is_some(),
                "test" => match value {
                    "fault:ud" => Some(SelfTest::InvalidOpcode),
                    "fault:pf" => Some(SelfTest::PageFault),
                    "fault:gp" => Some(SelfTest::GeneralProtection),
                    "fault:de" => Some(SelfTest::DivideError),
                    "fault:nmi" => Some(SelfTest::Nmi),
                    "panic" => Some(SelfTest::Panic),
                    "triple-fault" => Some(SelfTest::TripleFault),
                    "hang" => Some(SelfTest::Hang),
                    _ => None,
                }
                .map(|t| o.self_test = Some(t))
                .is_some(),
                _ => {
                    o.warnings.push(alloc::format!("unknown option `{word}`"));
                    true
                }
            };
            if !ok {
                o.warnings
                    .push(alloc::format!("bad value in `{word}`: ignored"));
            }
        }
        o
    }
}

/// A decimal or `0x` hexadecimal number.
pub fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_options() {
        let o = Options::parse("log=debug  on-fail=reset debug-exit=0xf4 test=fault:pf");
        assert_eq!(o.log_level, log::LevelFilter::Debug);
        assert_eq!(o.on_fail, FailPolicy::Reset);
        assert_eq!(o.debug_exit, Some(0xf4));
        assert_eq!(o.self_test, Some(SelfTest::PageFault));
        assert!(o.warnings.is_empty());
    }

    #[test]
    fn bad_words_become_warnings() {
        let o = Options::parse("log=loud frobnicate debug-exit=0x10000 test=fault:xx");
        assert_eq!(
            o,
            Options {
                warnings: o.warnings.clone(),
                ..Options::default()
            }
        );
        assert_eq!(o.warnings.len(), 4, "{:?}", o.warnings);
    }
}
