//! The CBFS reader over an arbitrary region: the walk must end, every file
//! it reports must lie inside the region, and decompressing any file (up
//! to 1 MiB announced) must give its announced size or a named error.
#![no_main]

use baton::source::cbfs::Cbfs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cbfs = Cbfs::new(data);
    let Ok(files) = cbfs.files() else { return };
    for f in &files {
        assert!(f.data.start <= f.data.end && f.data.end <= data.len());
        assert!(f.offset < f.data.start);
        if f.size <= 1 << 20 {
            if let Ok(bytes) = cbfs.read(f) {
                assert_eq!(bytes.len() as u64, f.size);
            }
        }
    }
    let _ = cbfs.find("kernel");
});
