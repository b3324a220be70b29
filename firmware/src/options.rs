//! baton's own command line: `key=value` words separated by blanks.
//! Unknown words and bad values are reported, never fatal: a typo in an
//! option must not cost the boot.

use alloc::string::String;

use crate::smp::apic::Preference;
use crate::smp::plan::SipiTiming;
use alloc::vec::Vec;

/// What baton does in the end when something goes wrong (an exception, a
/// panic, an error it cannot get past): `on-fail=halt|reset|off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailPolicy {
    /// Halt every CPU (the default).
    Halt,
    /// Reset the machine (the FADT's reset register, else the keyboard
    /// controller).
    Reset,
    /// ACPI power-off (halts where the machine cannot be switched off).
    PowerOff,
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
    /// Time the copy stub's loop against a plain byte loop (benchmark).
    CopyBench,
}

impl core::fmt::Display for SelfTest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SelfTest::InvalidOpcode => "InvalidOpcode",
            SelfTest::PageFault => "PageFault",
            SelfTest::GeneralProtection => "GeneralProtection",
            SelfTest::DivideError => "DivideError",
            SelfTest::Nmi => "NMI",
            SelfTest::Panic => "Panic",
            SelfTest::TripleFault => "TripleFault",
            SelfTest::Hang => "Hang",
            SelfTest::CopyBench => "CopyBench",
        })
    }
}

/// How the APs are started (`smp=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BringUp {
    /// INIT to every AP, then SIPI, SIPI to every AP, then wait for all.
    Parallel,
    /// One AP at a time, each waited for (Limine's way; for comparison).
    Sequential,
    /// Leave the APs alone.
    Off,
}

impl core::fmt::Display for BringUp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            BringUp::Parallel => "parallel",
            BringUp::Sequential => "sequential",
            BringUp::Off => "no",
        })
    }
}

/// Where parked APs wait (`park=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkPreference {
    /// MONITOR/MWAIT on the control line when the CPU has it, else HLT.
    Auto,
    /// HLT with interrupts on, woken by an IPI, even where MWAIT exists.
    Hlt,
}

/// Faults injected for the test suite (`inject=...`, repeatable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inject {
    /// The AP with this APIC ID never leaves the trampoline.
    DeadAp(u32),
    /// The AP with this APIC ID ignores the stop request with interrupts
    /// off: only the NMI stops it.
    WedgeAp(u32),
    /// The AP with this APIC ID takes this many milliseconds in its stop
    /// path after WBINVD, before it reports: the BSP must wait.
    SlowStop {
        /// The AP.
        apic_id: u32,
        /// Its delay after WBINVD.
        ms: u64,
    },
    /// The APs with these two APIC IDs are given each other's stacks by
    /// the trampoline (a mis-built boot table): each runs on the other's,
    /// and the arrival check must name both.
    SwapStacks(u32, u32),
    /// The AP with this APIC ID comes online only once the stop has begun
    /// (after the BSP gave up waiting for it): it must stop by itself, and
    /// with `ap-handoff=hlt` get INIT.
    LateAp(u32),
    /// The BSP sends itself an NMI in the copy stub's 32-bit tail
    /// (`nmi-in-handoff`): the handoff IDT must return from it.
    NmiInHandoff,
    /// The kernel is entered with FS and GS null (`null-fs`), against the
    /// Multiboot specifications: the probe's entry checks must catch it.
    NullFs,
    /// The AP with this APIC ID sends itself an NMI in the park area right
    /// after its LIDT, before its report (`nmi-in-park:APIC_ID`): the park
    /// IDT's NMI gate must report for it.
    NmiInPark(u32),
    /// The BSP sends the AP with this APIC ID an NMI right after it
    /// published the stop state, and waits for it to park
    /// (`nmi-at-publish:APIC_ID`): the AP's bit must already be in the mask.
    NmiAtPublish(u32),
    /// Two APs' park entries overlap (`park-stack-race:WAITER:LATE`): the
    /// waiter pauses in the park area after its LIDT (where a far return
    /// would have its frame on the stack) until the late AP, parked, has
    /// taken an NMI it sent itself after its report. With one stack for
    /// all APs that NMI's frame lands on the waiter's.
    ParkStackRace {
        /// The AP that pauses before its report.
        waiter: u32,
        /// The AP that takes an NMI after its report.
        late: u32,
    },
}

/// What the APs are left in at the jump (`ap-handoff=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveMode {
    /// INIT: wait-for-SIPI, as on a cold boot (default).
    Init,
    /// A HLT loop in the park page, which the memory map then reserves
    /// (for firmware whose SMI handlers rendezvous with every CPU).
    Hlt,
}

/// Multiprocessor settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmpOptions {
    /// `smp=`: all APs at once, one at a time, or none.
    pub bring_up: BringUp,
    /// `sipi=`: the INIT-SIPI-SIPI delays.
    pub timing: SipiTiming,
    /// `apic=`: when to use x2APIC mode.
    pub apic: Preference,
    /// `park=`: MWAIT where offered, or HLT.
    pub park: ParkPreference,
    /// How long an AP may take to come online, or to answer a command.
    pub ap_timeout_ms: u64,
    /// After bring-up, send every AP a command all at once and then one at
    /// a time (`roll-call=on`): a check of the mailboxes that costs
    /// round trips (under TCG about 3 ms at 4 CPUs, 50-80 ms at 64), so
    /// off by default; each AP's own APIC ID and stack are checked anyway.
    pub roll_call: bool,
}

impl Default for SmpOptions {
    fn default() -> Self {
        Self {
            bring_up: BringUp::Parallel,
            timing: SipiTiming::MODERN,
            apic: Preference::Auto,
            park: ParkPreference::Auto,
            // Linux waits 10 s for an AP to call in; a slow machine (or
            // QEMU's TCG with many vCPUs on few cores) needs the margin.
            ap_timeout_ms: 10_000,
            roll_call: false,
        }
    }
}

/// baton's options, from its command line or a source's `config` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `log=`: the console's level.
    pub log_level: log::LevelFilter,
    /// `on-fail=`: what an exception, panic or fatal error does.
    pub on_fail: FailPolicy,
    /// `on-fail=next[,halt|reset|off]`: a kernel source whose files cannot
    /// be read or whose kernel cannot be loaded is passed over for the next
    /// one (fw_cfg, CBFS, boot modules) before `on_fail` applies.
    pub next_source: bool,
    /// `no-kernel=ok`: no kernel anywhere ends the run as a success (a
    /// diagnostics run: the checks up to the kernel read); by default it is
    /// an error under `on_fail`.
    pub no_kernel_ok: bool,
    /// I/O port of QEMU's isa-debug-exit device: every end of the run is
    /// reported there (the harness sets it).
    pub debug_exit: Option<u16>,
    /// `test=`: a deliberate fault.
    pub self_test: Option<SelfTest>,
    /// The SMP options.
    pub smp: SmpOptions,
    /// `inject=`: test faults in the APs.
    pub inject: Vec<Inject>,
    /// `ap-handoff=`: INIT or HLT at the jump.
    pub ap_handoff: LeaveMode,
    /// How long the APs get to confirm the stop before their NMI.
    pub stop_timeout_ms: u64,
    /// The kernel's entry protocol, instead of detecting it.
    pub protocol: Option<payload_loader::Protocol>,
    /// `linux-entry=32`: a bzImage entered at its 32-bit entry (as GRUB's
    /// `linux` does on BIOS) even where it has the 64-bit one.
    pub linux_entry_32: bool,
    /// Run the AML interpreter at boot (`aml=eager`: `\_S5` and the
    /// processor objects cross-checked) instead of only for power-off.
    pub aml_eager: bool,
    /// Words that could not be understood, with the reason.
    pub warnings: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            log_level: log::LevelFilter::Info,
            on_fail: FailPolicy::Halt,
            next_source: false,
            no_kernel_ok: false,
            debug_exit: None,
            self_test: None,
            smp: SmpOptions::default(),
            inject: Vec::new(),
            ap_handoff: LeaveMode::Init,
            stop_timeout_ms: 1000,
            protocol: None,
            linux_entry_32: false,
            aml_eager: false,
            warnings: Vec::new(),
        }
    }
}

/// `next`, `halt`, `reset`, `off`, or `next,` and one of the others.
fn parse_on_fail(value: &str) -> Option<(bool, FailPolicy)> {
    let (next, end) = match value.split_once(',') {
        Some(("next", end)) => (true, end),
        Some(_) => return None,
        None if value == "next" => (true, "halt"),
        None => (false, value),
    };
    let end = match end {
        "halt" => FailPolicy::Halt,
        "reset" => FailPolicy::Reset,
        "off" => FailPolicy::PowerOff,
        _ => return None,
    };
    Some((next, end))
}

impl Options {
    /// Parses a command line; unknown options and bad values are noted in
    /// `warnings` and skipped.
    pub fn parse(cmdline: &str) -> Self {
        let mut o = Self::default();
        for word in cmdline.split_ascii_whitespace() {
            o.apply(word);
        }
        o
    }

    /// These options with a kernel source's config file on top (same
    /// syntax); `warnings` then holds the config's. The options that act
    /// before any kernel source is read are refused with a warning: only
    /// baton's command line sets them.
    pub fn with_config(&self, config: &str) -> Self {
        // Not `self.clone()` then clear: the command line's warnings are
        // never copied (saves 384 bytes).
        let mut o = Self {
            inject: self.inject.clone(),
            warnings: Vec::new(),
            ..*self
        };
        for word in config.split_ascii_whitespace() {
            let key = word.split_once('=').map_or(word, |(key, _)| key);
            if COMMAND_LINE_ONLY.contains(&key) {
                o.warnings.push(alloc::format!(
                    "`{word}` is ignored: it acts before any kernel source is read, so only baton's command line sets it"
                ));
            } else {
                o.apply(word);
            }
        }
        o
    }

    /// One `key=value` word; an unknown key or a bad value is noted in
    /// `warnings` and skipped.
    fn apply(&mut self, word: &str) {
        let o = self;
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        let ok = match key {
            "log" => value.parse().map(|l| o.log_level = l).is_ok(),
            "on-fail" => parse_on_fail(value)
                .map(|(next, end)| (o.next_source, o.on_fail) = (next, end))
                .is_some(),
            "no-kernel" => match value {
                "ok" => Some(true),
                "fail" => Some(false),
                _ => None,
            }
            .map(|ok| o.no_kernel_ok = ok)
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
                "copy-bench" => Some(SelfTest::CopyBench),
                _ => None,
            }
            .map(|t| o.self_test = Some(t))
            .is_some(),
            "smp" => match value {
                "parallel" => Some(BringUp::Parallel),
                "sequential" => Some(BringUp::Sequential),
                "off" => Some(BringUp::Off),
                _ => None,
            }
            .map(|b| o.smp.bring_up = b)
            .is_some(),
            "sipi" => match value {
                "modern" => Some(SipiTiming::MODERN),
                "legacy" => Some(SipiTiming::LEGACY),
                _ => None,
            }
            .map(|t| o.smp.timing = t)
            .is_some(),
            "apic" => match value {
                "auto" => Some(Preference::Auto),
                "x2apic" => Some(Preference::X2Apic),
                _ => None,
            }
            .map(|p| o.smp.apic = p)
            .is_some(),
            "park" => match value {
                "auto" => Some(ParkPreference::Auto),
                "hlt" => Some(ParkPreference::Hlt),
                _ => None,
            }
            .map(|p| o.smp.park = p)
            .is_some(),
            "roll-call" => match value {
                "on" => Some(true),
                "off" => Some(false),
                _ => None,
            }
            .map(|r| o.smp.roll_call = r)
            .is_some(),
            "ap-timeout" => parse_number(value)
                .filter(|&ms| ms > 0)
                .map(|ms| o.smp.ap_timeout_ms = ms)
                .is_some(),
            "inject" => parse_inject(value).map(|i| o.inject.push(i)).is_some(),
            "ap-handoff" => match value {
                "init" => Some(LeaveMode::Init),
                "hlt" => Some(LeaveMode::Hlt),
                _ => None,
            }
            .map(|h| o.ap_handoff = h)
            .is_some(),
            "stop-timeout" => parse_number(value)
                .map(|ms| o.stop_timeout_ms = ms)
                .is_some(),
            "aml" => match value {
                "eager" => Some(true),
                "lazy" => Some(false),
                _ => None,
            }
            .map(|e| o.aml_eager = e)
            .is_some(),
            "protocol" => payload_loader::Protocol::from_name(value)
                .map(|p| o.protocol = Some(p))
                .is_some(),
            "linux-entry" => match value {
                "32" => Some(true),
                "64" => Some(false),
                _ => None,
            }
            .map(|e| o.linux_entry_32 = e)
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

    /// The first injected fault `pick` recognises.
    pub fn injected<T>(&self, pick: impl Fn(&Inject) -> Option<T>) -> Option<T> {
        self.inject.iter().find_map(pick)
    }
}

/// The options that act before any kernel source is read (ACPI, the APs'
/// bring-up, the self-tests, the verdict when no source has a kernel).
const COMMAND_LINE_ONLY: &[&str] = &[
    "smp",
    "sipi",
    "apic",
    "park",
    "roll-call",
    "ap-timeout",
    "test",
    "aml",
    "no-kernel",
];

/// `dead-ap:APIC_ID`, `wedge-ap:APIC_ID`, `slow-stop:APIC_ID:MS`,
/// `swap-stacks:APIC_ID:APIC_ID`, `late-ap:APIC_ID`, `null-fs`,
/// `nmi-in-handoff`, `nmi-in-park:APIC_ID`, `nmi-at-publish:APIC_ID`,
/// `park-stack-race:APIC_ID:APIC_ID`.
fn parse_inject(value: &str) -> Option<Inject> {
    match value {
        "null-fs" => return Some(Inject::NullFs),
        "nmi-in-handoff" => return Some(Inject::NmiInHandoff),
        _ => {}
    }
    let (kind, rest) = value.split_once(':')?;
    let apic_id = |s: &str| parse_number(s).and_then(|id| u32::try_from(id).ok());
    match kind {
        "dead-ap" => apic_id(rest).map(Inject::DeadAp),
        "late-ap" => apic_id(rest).map(Inject::LateAp),
        "wedge-ap" => apic_id(rest).map(Inject::WedgeAp),
        "nmi-in-park" => apic_id(rest).map(Inject::NmiInPark),
        "nmi-at-publish" => apic_id(rest).map(Inject::NmiAtPublish),
        "park-stack-race" => {
            let (waiter, late) = rest.split_once(':')?;
            Some(Inject::ParkStackRace {
                waiter: apic_id(waiter)?,
                late: apic_id(late)?,
            })
        }
        "slow-stop" => {
            let (id, ms) = rest.split_once(':')?;
            Some(Inject::SlowStop {
                apic_id: apic_id(id)?,
                ms: parse_number(ms)?,
            })
        }
        "swap-stacks" => {
            let (a, b) = rest.split_once(':')?;
            Some(Inject::SwapStacks(apic_id(a)?, apic_id(b)?))
        }
        _ => None,
    }
}

/// A decimal or `0x` hexadecimal number.
pub fn parse_number(s: &str) -> Option<u64> {
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (s, 10),
    };
    // What `u64::from_str_radix` takes (an optional `+`, then at least one
    // digit, no overflow), in one loop for both radixes: its two inlined
    // copies cost 128 bytes more.
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(radix.into())?
            .checked_add(char::from(b).to_digit(radix)?.into())
    })
}

#[cfg(test)]
mod tests;
