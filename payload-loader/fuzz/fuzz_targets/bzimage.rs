//! The bzImage setup header parser on arbitrary files: it refuses or returns a header whose
//! every offset lies inside the file, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payload_loader::bzimage;

fuzz_target!(|data: &[u8]| {
    // The first byte says which checks to get past by force, so most inputs reach the later ones.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut k = rest.to_vec();
    if mode & 1 != 0 {
        if k.len() < 0x206 {
            k.resize(0x206, 0);
        }
        k[0x1fe..0x200].copy_from_slice(&0xAA55u16.to_le_bytes());
        k[0x202..0x206].copy_from_slice(b"HdrS");
    }
    if mode & 3 == 3 {
        if k.len() < 0x500 {
            k.resize(0x500, 0);
        }
        k[0x1f1] = 1;
        k[0x201] = 0x6a;
        k[0x206..0x208].copy_from_slice(&0x020Fu16.to_le_bytes());
        k[0x211] |= 1;
    }
    match bzimage::find_header(&k) {
        Ok(Some(h)) => {
            let setup = h.setup_size();
            assert!(setup < k.len() as u64);
            assert!(setup + u64::from(h.syssize) * 16 <= k.len() as u64);
            assert!(h.version >= bzimage::MIN_VERSION);
            assert!(h.loadflags & bzimage::LOADED_HIGH != 0);
            assert!(!h.relocatable || h.kernel_alignment.is_power_of_two());
            assert!(h.raw.len() <= bzimage::HEADER_ROOM_END - bzimage::HEADER_START);
            assert_eq!(h.raw, k[0x1f1..0x1f1 + h.raw.len()]);
            assert!(h.runtime_size(k.len() as u64 - setup) >= k.len() as u64 - setup);
        }
        Ok(None) => {
            assert!(k.starts_with(b"\x7fELF") || k.get(0x202..0x206) != Some(&b"HdrS"[..]))
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
