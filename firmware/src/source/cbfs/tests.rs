use super::*;

/// A CBFS file as cbfstool lays it out (name padded to 16, optional
/// compression attribute), 64-byte aligned.
pub(crate) fn file(name: &str, kind: u32, data: &[u8], comp: Option<(u32, u32)>) -> Vec<u8> {
    let mut meta = Vec::new();
    meta.extend_from_slice(name.as_bytes());
    meta.push(0);
    while meta.len() % 16 != 0 {
        meta.push(0);
    }
    let attr_offset = if comp.is_some() {
        HEADER_SIZE + meta.len()
    } else {
        0
    };
    if let Some((algo, size)) = comp {
        for v in [ATTR_TAG_COMPRESSION, 16, algo, size] {
            meta.extend_from_slice(&v.to_be_bytes());
        }
    }
    let mut f = Vec::new();
    f.extend_from_slice(MAGIC);
    for v in [
        data.len() as u32,
        kind,
        attr_offset as u32,
        (HEADER_SIZE + meta.len()) as u32,
    ] {
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&meta);
    f.extend_from_slice(data);
    while f.len() % ALIGNMENT != 0 {
        f.push(0xff);
    }
    f
}

#[test]
fn finds_raw_files_and_skips_empty_space() {
    let mut r = file("cmdline", 0x50, b"console=ttyS0", None);
    r.extend(file("", TYPE_NULL, &[0xff; 100], None));
    r.extend(file("kernel", 0x50, b"\x7fELF...", None));
    r.extend([0xff; 256]);
    let cbfs = Cbfs::new(&r);
    let files = cbfs.files().unwrap();
    assert_eq!(files.len(), 3);
    let k = cbfs.find("kernel").unwrap().unwrap();
    assert_eq!(cbfs.read(&k).unwrap(), b"\x7fELF...");
    assert_eq!(cbfs.find("").unwrap(), None, "empty space is not a file");
    assert_eq!(cbfs.find("initrd").unwrap(), None);
}

#[test]
fn lz4_frames_and_stored_blocks() {
    let text = b"baton baton baton baton baton baton baton baton!".repeat(20);
    let block = lz4_flex::block::compress(&text);
    let mut frame = 0x184d_2204u32.to_le_bytes().to_vec();
    frame.extend([0x40, 0x70, 0x00]); // version 1, block independence off, 4 MiB blocks
    frame.extend((block.len() as u32).to_le_bytes());
    frame.extend(&block);
    frame.extend((0x8000_0000u32 | 3).to_le_bytes());
    frame.extend(b"end");
    frame.extend(0u32.to_le_bytes());
    let mut r = file("initrd", 0x50, &frame, Some((2, text.len() as u32 + 3)));
    r.extend([0xff; 64]);
    let cbfs = Cbfs::new(&r);
    let f = cbfs.find("initrd").unwrap().unwrap();
    assert_eq!(f.compression, Compression::Lz4);
    let mut want = text.clone();
    want.extend(b"end");
    assert_eq!(cbfs.read(&f).unwrap(), want);
}

#[test]
fn a_wrong_announced_size_is_an_error() {
    let text = b"hello hello hello hello";
    let block = lz4_flex::block::compress(text);
    let mut frame = 0x184d_2204u32.to_le_bytes().to_vec();
    frame.extend([0x40, 0x70, 0x00]);
    frame.extend((block.len() as u32).to_le_bytes());
    frame.extend(&block);
    frame.extend(0u32.to_le_bytes());
    let r = file("x", 0x50, &frame, Some((2, 100)));
    let cbfs = Cbfs::new(&r);
    let f = cbfs.find("x").unwrap().unwrap();
    let e = cbfs.read(&f).unwrap_err();
    assert!(
        e.to_string()
            .contains("decompressed to 23 bytes, the header says 100"),
        "{e}"
    );
}

#[test]
fn corrupt_headers_end_the_walk_with_an_error() {
    // Data length past the end.
    let mut r = file("kernel", 0x50, b"abc", None);
    r[8..12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    assert!(matches!(
        Cbfs::new(&r).files(),
        Err(CbfsError::BadHeader { reason, .. }) if reason.contains("past the end")
    ));
    // A data offset of 0 would make the walk stand still.
    let mut r = file("kernel", 0x50, b"abc", None);
    r[20..24].copy_from_slice(&0u32.to_be_bytes());
    assert!(Cbfs::new(&r).files().is_err());
    // An unknown compression.
    let r = file("k", 0x50, b"abc", Some((7, 3)));
    assert!(matches!(
        Cbfs::new(&r).files(),
        Err(CbfsError::UnknownCompression { algo: 7, .. })
    ));
}

#[test]
fn an_uncompressed_file_announcing_another_size_is_an_error() {
    let r = file("k", 0x50, b"abc", Some((0, 5)));
    let cbfs = Cbfs::new(&r);
    let f = cbfs.find("k").unwrap().unwrap();
    assert!(matches!(
        cbfs.read(&f),
        Err(CbfsError::SizeMismatch { got: 3, .. })
    ));
}

#[test]
fn garbage_between_files_is_skipped_as_coreboot_does() {
    let mut r = alloc::vec![0u8; 128];
    r.extend(file("config", 0x50, b"log=debug", None));
    let cbfs = Cbfs::new(&r);
    assert_eq!(
        cbfs.read(&cbfs.find("config").unwrap().unwrap()).unwrap(),
        b"log=debug"
    );
}
