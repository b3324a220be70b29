//! The fw_cfg file directory parser and baton's naming scheme over
//! arbitrary bytes: on success every file has a valid selector and a unique
//! name, and the plan's modules are numbered 0, 1, 2, ... in order.
#![no_main]

use baton::source::fwcfg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // Half the inputs get a count that matches their length, so the
    // fuzzer spends its time in the entries rather than on the count.
    let mut bytes = input.to_vec();
    if input.len() >= 4 && input[0] & 0x80 == 0 {
        let count = ((input.len() - 4) / fwcfg::ENTRY_LEN) as u32;
        bytes[..4].copy_from_slice(&count.to_be_bytes());
    }
    let data = bytes.as_slice();
    let Ok(files) = fwcfg::parse_directory(data) else {
        return;
    };
    assert!(files.len() <= fwcfg::MAX_FILES as usize);
    assert!(data.len() >= 4 + files.len() * fwcfg::ENTRY_LEN);
    for (i, f) in files.iter().enumerate() {
        assert!((fwcfg::FIRST_FILE_SELECT..fwcfg::ARCH_LOCAL).contains(&f.select));
        assert!(!f.name.is_empty() && f.name.len() < fwcfg::NAME_LEN);
        assert!(files[..i].iter().all(|g| g.name != f.name));
    }
    let plan = fwcfg::plan(&files);
    assert!(plan.modules.len() <= fwcfg::MAX_MODULES);
    for (i, m) in plan.modules.iter().enumerate() {
        assert_eq!(m.file.name, fwcfg::module_name(i));
        if let Some(c) = &m.cmdline {
            assert_eq!(c.name, fwcfg::module_cmdline_name(i));
        }
    }
    let _ = fwcfg::text(data);
});
