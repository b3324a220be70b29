use super::*;

fn entry(name: &str, size: u32, select: u16) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&size.to_be_bytes());
    e.extend_from_slice(&select.to_be_bytes());
    e.extend_from_slice(&[0, 0]);
    let mut n = [0u8; NAME_LEN];
    n[..name.len()].copy_from_slice(name.as_bytes());
    e.extend_from_slice(&n);
    e
}

fn dir(entries: &[(&str, u32)]) -> Vec<u8> {
    let mut d = (entries.len() as u32).to_be_bytes().to_vec();
    for (i, (name, size)) in entries.iter().enumerate() {
        d.extend(entry(name, *size, 0x20 + i as u16));
    }
    d
}

fn files(names: &[&str]) -> Vec<File> {
    let d = dir(&names.iter().map(|n| (*n, 10)).collect::<Vec<_>>());
    parse_directory(&d).unwrap()
}

#[test]
fn parses_a_directory() {
    let d = dir(&[("etc/e820", 40), ("opt/baton/kernel", 53_243_444)]);
    let f = parse_directory(&d).unwrap();
    assert_eq!(
        f,
        [
            File {
                name: "etc/e820".into(),
                size: 40,
                select: 0x20
            },
            File {
                name: KERNEL.into(),
                size: 53_243_444,
                select: 0x21
            }
        ]
    );
    assert_eq!(parse_directory(&dir(&[])).unwrap(), []);
}

#[test]
fn refuses_bad_directories_by_name() {
    assert_eq!(
        parse_directory(&[0, 0]),
        Err(DirError::Truncated { need: 4, have: 2 })
    );
    let mut d = dir(&[("a", 1), ("b", 2)]);
    d.truncate(100);
    assert_eq!(
        parse_directory(&d),
        Err(DirError::Truncated {
            need: 132,
            have: 100
        })
    );
    let big = 5000u32.to_be_bytes();
    assert_eq!(
        parse_directory(&big),
        Err(DirError::TooMany {
            count: 5000,
            max: MAX_FILES
        })
    );
    let mut d = dir(&[("a", 1)]);
    d[4 + 8..4 + 64].fill(b'x');
    assert_eq!(
        parse_directory(&d),
        Err(DirError::Unterminated { index: 0 })
    );
    let mut d = dir(&[("a", 1)]);
    d[4 + 8] = 0xff;
    assert_eq!(parse_directory(&d), Err(DirError::BadName { index: 0 }));
    let mut d = (1u32).to_be_bytes().to_vec();
    d.extend(entry("etc/x", 1, 0x19));
    let e = parse_directory(&d).unwrap_err();
    assert_eq!(
        e.to_string(),
        "fw_cfg directory entry 0 (etc/x): selector 0x19 is outside the file range [0x20..0x4000)"
    );
    let e = parse_directory(&dir(&[("a", 1), ("a", 2)])).unwrap_err();
    assert_eq!(
        e,
        DirError::Duplicate {
            index: 1,
            name: "a".into()
        }
    );
}

#[test]
fn a_55_byte_name_fits() {
    let name = "n".repeat(NAME_LEN - 1);
    assert_eq!(files(&[&name])[0].name, name);
}

#[test]
fn plans_the_scheme() {
    let f = files(&[
        "etc/e820",
        KERNEL,
        INITRD,
        CMDLINE,
        CONFIG,
        "opt/baton/module/1",
        "opt/baton/module/0",
        "opt/baton/module/0/cmdline",
    ]);
    let p = plan(&f);
    assert_eq!(p.kernel.unwrap().name, KERNEL);
    assert_eq!(p.initrd.unwrap().name, INITRD);
    assert_eq!(p.cmdline.unwrap().name, CMDLINE);
    assert_eq!(p.config.unwrap().name, CONFIG);
    let names: Vec<_> = p.modules.iter().map(|m| m.file.name.as_str()).collect();
    assert_eq!(names, ["opt/baton/module/0", "opt/baton/module/1"]);
    assert_eq!(
        p.modules[0].cmdline.as_ref().unwrap().name,
        "opt/baton/module/0/cmdline"
    );
    assert_eq!(p.modules[1].cmdline, None);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn a_gap_ends_the_module_list_with_a_warning() {
    let p = plan(&files(&[
        KERNEL,
        "opt/baton/module/0",
        "opt/baton/module/2",
        "opt/baton/module/2/cmdline",
        "opt/baton/module/03",
        "opt/baton/kernal",
    ]));
    assert_eq!(p.modules.len(), 1);
    assert_eq!(
        p.warnings,
        [
            "opt/baton/module/2 is ignored: opt/baton/module/1 is missing (modules are numbered from 0 without gaps)",
            "opt/baton/module/2/cmdline is ignored: opt/baton/module/1 is missing (modules are numbered from 0 without gaps)",
            "opt/baton/module/03 is ignored: not a name baton knows",
            "opt/baton/kernal is ignored: not a name baton knows",
        ]
    );
}

#[test]
fn takes_at_most_max_modules_in_index_order() {
    let names: Vec<String> = (0..MAX_MODULES + 2).rev().map(module_name).collect();
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("opt/baton/module/5/cmdline");
    let p = plan(&files(&all));
    assert_eq!(p.kernel, None);
    assert_eq!(p.modules.len(), MAX_MODULES);
    for (i, m) in p.modules.iter().enumerate() {
        assert_eq!(m.file.name, module_name(i));
    }
    assert!(p.modules[5].cmdline.is_some());
    assert_eq!(p.warnings.len(), 2);
    assert!(p.warnings[0].contains("at most 16 modules"));
}

#[test]
fn a_module_cmdline_without_its_module_is_reported() {
    let p = plan(&files(&[KERNEL, "opt/baton/module/0/cmdline"]));
    assert_eq!(p.modules, []);
    assert_eq!(
        p.warnings,
        ["opt/baton/module/0/cmdline is ignored: there is no opt/baton/module/0"]
    );
}

#[test]
fn text_drops_trailing_nuls_and_newline() {
    let text = |b: &[u8]| text(b).map_err(|e| (e.at, e.byte));
    assert_eq!(text(b"console=ttyS0\0\0"), Ok("console=ttyS0".into()));
    assert_eq!(text(b"a b\n"), Ok("a b".into()));
    assert_eq!(text(b"a\r\n\0"), Ok("a".into()));
    assert_eq!(
        text("\tl\u{e4}nge=1\n".as_bytes()),
        Ok("\tl\u{e4}nge=1".into())
    );
    assert_eq!(text(b""), Ok("".into()));
    assert_eq!(text(b"ab\xffx"), Err((2, 0xff)));
    assert_eq!(text(b"\x7fELF\x02"), Err((0, 0x7f)));
    assert_eq!(text(b"a\0b"), Err((1, 0)));
    assert_eq!(text(b"a\x01b\xff"), Err((1, 1)));
    assert_eq!(text(b"a\xffb\x01"), Err((1, 0xff)));
}

#[test]
fn module_indexes_are_canonical_decimal_that_fits() {
    let index = |n: &str| module_index(&format!("{MODULE_PREFIX}{n}"));
    assert_eq!(index("0"), Some(0));
    assert_eq!(index("15/cmdline"), Some(15));
    assert_eq!(index(&usize::MAX.to_string()), Some(usize::MAX));
    for bad in [
        "",
        "01",
        "1x",
        "+1",
        "18446744073709551616",
        "99999999999999999999",
    ] {
        assert_eq!(index(bad), None, "{bad}");
    }
}
