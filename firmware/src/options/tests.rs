use super::*;

#[test]
fn a_config_sets_the_takeover_but_not_what_acted_before() {
    let base = Options::parse("smp=sequential debug-exit=0xf4 frobnicate");
    let o = base.with_config("ap-handoff=hlt on-fail=next,off smp=off park=hlt log=debug");
    assert_eq!(o.ap_handoff, LeaveMode::Hlt);
    assert_eq!((o.next_source, o.on_fail), (true, FailPolicy::PowerOff));
    assert_eq!(o.log_level, log::LevelFilter::Debug);
    assert_eq!(o.debug_exit, Some(0xf4));
    // The APs came up under the command line's smp= and park=.
    assert_eq!(o.smp, base.smp);
    assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
    assert!(
        o.warnings[0].starts_with("`smp=off` is ignored: it acts before any kernel source is read")
    );
    assert!(o.warnings[1].starts_with("`park=hlt` is ignored"));
    assert_eq!(base.warnings, ["unknown option `frobnicate`"]);
}

#[test]
fn parses_known_options() {
    let o = Options::parse("log=debug  on-fail=reset debug-exit=0xf4 test=fault:pf");
    assert_eq!(o.log_level, log::LevelFilter::Debug);
    assert_eq!(o.on_fail, FailPolicy::Reset);
    assert!(!o.next_source);
    assert!(!o.no_kernel_ok);
    assert!(Options::parse("no-kernel=ok").no_kernel_ok);
    for (value, next, end) in [
        ("off", false, FailPolicy::PowerOff),
        ("next", true, FailPolicy::Halt),
        ("next,off", true, FailPolicy::PowerOff),
        ("next,reset", true, FailPolicy::Reset),
    ] {
        let o = Options::parse(&format!("on-fail={value}"));
        assert_eq!((o.next_source, o.on_fail), (next, end), "{value}");
    }
    for bad in ["next,next", "reset,next", "of", ""] {
        let o = Options::parse(&format!("on-fail={bad}"));
        assert_eq!(o.warnings.len(), 1, "{bad}");
    }
    assert_eq!(o.debug_exit, Some(0xf4));
    assert_eq!(o.self_test, Some(SelfTest::PageFault));
    assert!(o.warnings.is_empty());
}

#[test]
fn parses_smp_options() {
    let o = Options::parse(
        "smp=sequential sipi=legacy apic=x2apic park=hlt ap-timeout=2500 roll-call=on inject=dead-ap:3 inject=dead-ap:0x11f",
    );
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    assert_eq!(
        o.smp,
        SmpOptions {
            bring_up: BringUp::Sequential,
            timing: SipiTiming::LEGACY,
            apic: Preference::X2Apic,
            park: ParkPreference::Hlt,
            ap_timeout_ms: 2500,
            roll_call: true,
        }
    );
    assert_eq!(o.inject, [Inject::DeadAp(3), Inject::DeadAp(0x11f)]);
    let t = Options::parse(
        "ap-handoff=hlt stop-timeout=50 protocol=mb2 inject=wedge-ap:1 inject=slow-stop:2:300 linux-entry=32",
    );
    assert!(t.linux_entry_32);
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    assert_eq!(t.ap_handoff, LeaveMode::Hlt);
    assert_eq!(t.stop_timeout_ms, 50);
    assert_eq!(t.protocol, Some(payload_loader::Protocol::Multiboot2));
    assert_eq!(
        t.inject,
        [
            Inject::WedgeAp(1),
            Inject::SlowStop {
                apic_id: 2,
                ms: 300
            }
        ]
    );
    let bad = Options::parse("ap-handoff=init2 inject=slow-stop:2 protocol=coff");
    assert_eq!(bad.warnings.len(), 3, "{:?}", bad.warnings);
    let s = Options::parse(
        "inject=swap-stacks:1:0x2 inject=swap-stacks:1 inject=null-fs inject=late-ap:3 inject=nmi-in-handoff",
    );
    assert_eq!(
        s.inject,
        [
            Inject::SwapStacks(1, 2),
            Inject::NullFs,
            Inject::LateAp(3),
            Inject::NmiInHandoff
        ]
    );
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let park = Options::parse(
        "inject=nmi-in-park:2 inject=nmi-at-publish:0x3 inject=park-stack-race:1:2 inject=park-stack-race:1 inject=nmi-in-park",
    );
    assert_eq!(
        park.inject,
        [
            Inject::NmiInPark(2),
            Inject::NmiAtPublish(3),
            Inject::ParkStackRace { waiter: 1, late: 2 }
        ]
    );
    assert_eq!(park.warnings.len(), 2, "{:?}", park.warnings);
    let bad = Options::parse("smp=many ap-timeout=0 inject=dead-ap inject=dead-ap:x inject=eat:1");
    assert_eq!(bad.warnings.len(), 5, "{:?}", bad.warnings);
    assert_eq!(bad.smp, SmpOptions::default());
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

#[test]
fn numbers_read_as_from_str_radix_reads_them() {
    let reference = |s: &str| match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    };
    for s in [
        "0",
        "42",
        "+42",
        "0x2a",
        "0X2A",
        "0x+2a",
        "",
        "+",
        "0x",
        "0x+",
        "-1",
        "++1",
        "4 2",
        "0x1g",
        "1a",
        "18446744073709551615",
        "18446744073709551616",
        "0xffffffffffffffff",
        "0x10000000000000000",
        "00012",
        "0x0",
        "é",
        "0xé",
    ] {
        assert_eq!(parse_number(s), reference(s), "{s:?}");
    }
}
