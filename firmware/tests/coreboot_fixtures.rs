//! The coreboot-table and CBFS readers against what the real tools made:
//! coreboot 25.09's table as it left it on QEMU q35, and a CBFS image made
//! by its cbfstool (see fixtures/coreboot/README.md), then malformed
//! versions of both.

use baton::entry::coreboot::tables::Tables;
use baton::entry::coreboot::{CorebootError, find, seal};
use baton::source::cbfs::{Cbfs, CbfsError, Compression};
use baton::support::phys::{PhysMemory, Unreadable};
use payload_loader::{MemoryKind, Range};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/coreboot");
/// Where coreboot put the real table (the forward record at 0x500 says so).
const TABLE_ADDR: u64 = 0x1fe9_8000;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{DIR}/{name}: {e}"))
}

/// Physical memory holding a few byte strings at their addresses.
struct Pieces(Vec<(u64, Vec<u8>)>);

impl PhysMemory for Pieces {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable> {
        let len = buf.len() as u64;
        for (at, bytes) in &self.0 {
            if addr >= *at && addr + len <= at + bytes.len() as u64 {
                let from = (addr - at) as usize;
                buf.copy_from_slice(&bytes[from..from + buf.len()]);
                return Ok(());
            }
        }
        Err(Unreadable { addr, len })
    }
}

fn real_memory() -> Pieces {
    Pieces(vec![
        (0x500, fixture("forward-0x500.bin")),
        (TABLE_ADDR, fixture("coreboot-table.bin")),
    ])
}

#[test]
fn reads_coreboot_25_09s_real_table() {
    let mem = real_memory();
    assert_eq!(find(&mem, Some(0x500)).unwrap(), (0x500, false));
    let t = Tables::read(&mem, 0x500).unwrap();
    assert_eq!(t.tables.len(), 2, "the 0x500 forwarder and the real table");
    assert_eq!(t.tables[1], Range::new(TABLE_ADDR, TABLE_ADDR + 804));
    assert_eq!(t.memory.len(), 8);
    let map = t.memory_map().unwrap();
    // 0x1000-0x9ffff and 0x100000-0x1fe57fff are RAM; type 16 is reserved.
    assert_eq!(map.usable_bytes(), 0x9f000 + 0x1fd5_8000);
    assert_eq!(
        map.region_of(0x1fe9_8000).map(|r| r.kind),
        Some(MemoryKind::Reserved)
    );
    let serial = t.serial.unwrap();
    assert_eq!((serial.port, serial.baud), (0x3f8, 115200));
    assert_eq!(t.cbmem_console, Some(0x1ffd_e000));
    assert_eq!(
        t.boot_media.and_then(|m| m.cbfs_range()),
        Some(Range::new(0xff00_0200, 0x1_0000_0000))
    );
    let firmware = t.firmware();
    assert!(
        firmware.starts_with("coreboot 25.09")
            && firmware.ends_with("on Emulation QEMU x86 q35/ich9"),
        "{firmware}"
    );
}

/// The real table with `edit` applied to its records, checksums fixed.
fn edited_table(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut t = fixture("coreboot-table.bin");
    edit(&mut t);
    seal(&mut t);
    t
}

#[test]
fn a_real_table_whose_last_record_runs_past_its_end_is_refused() {
    // Cut the table in the middle of its last record.
    let t = edited_table(|t| {
        let len = t.len();
        t.truncate(len - 4);
    });
    let mem = Pieces(vec![(TABLE_ADDR, t)]);
    let e = Tables::read(&mem, TABLE_ADDR).unwrap_err();
    assert!(matches!(e, CorebootError::BadRecord { .. }), "{e}");
}

#[test]
fn a_forward_loop_through_the_real_forwarder_is_refused() {
    // The real table gets a forward record back to 0x500.
    let t = edited_table(|t| {
        t.extend_from_slice(&0x11u32.to_le_bytes());
        t.extend_from_slice(&16u32.to_le_bytes());
        t.extend_from_slice(&0x500u64.to_le_bytes());
    });
    let mem = Pieces(vec![(0x500, fixture("forward-0x500.bin")), (TABLE_ADDR, t)]);
    assert_eq!(
        Tables::read(&mem, 0x500),
        Err(CorebootError::ForwardLoop { addr: 0x500 })
    );
}

#[test]
fn the_lbio_scan_finds_the_forwarder_when_the_pointer_is_wrong() {
    let mem = real_memory();
    assert_eq!(find(&mem, Some(0xdead_0000)).unwrap(), (0x500, true));
    assert_eq!(find(&mem, None).unwrap(), (0x500, true));
}

fn original(name: &str) -> Vec<u8> {
    fixture(&format!("contents/{}", name.replace('/', "_")))
}

#[test]
fn reads_every_file_cbfstool_wrote() {
    let image = fixture("cbfs.bin");
    let cbfs = Cbfs::new(&image);
    for (name, compression) in [
        ("kernel", Compression::None),
        ("initrd", Compression::Lzma),
        ("cmdline", Compression::Lz4),
        ("config", Compression::None),
        ("module/0", Compression::None),
        ("module/0/cmdline", Compression::None),
    ] {
        let file = cbfs
            .find(name)
            .unwrap()
            .unwrap_or_else(|| panic!("{name} not found"));
        assert_eq!(file.compression, compression, "{name}");
        assert_eq!(cbfs.read(&file).unwrap(), original(name), "{name}");
    }
    assert_eq!(cbfs.find("vmlinuz").unwrap(), None);
}

#[test]
fn a_corrupt_lzma_stream_is_a_named_error() {
    let mut image = fixture("cbfs.bin");
    let cbfs = Cbfs::new(&image);
    let initrd = cbfs.find("initrd").unwrap().unwrap();
    // Flip bytes in the middle of the compressed data.
    let mid = (initrd.data.start + initrd.data.end) / 2;
    for b in &mut image[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let cbfs = Cbfs::new(&image);
    let e = cbfs.read(&initrd).unwrap_err();
    assert!(
        matches!(
            e,
            CbfsError::Decompress { .. } | CbfsError::SizeMismatch { .. }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("initrd"), "{e}");
}

#[test]
fn a_cbfs_walk_with_a_header_pointing_past_the_end_stops_with_an_error() {
    let mut image = fixture("cbfs.bin");
    // The first file's length field (big-endian, bytes 8..12) made huge.
    image[8..12].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
    let e = Cbfs::new(&image).files().unwrap_err();
    assert!(e.to_string().contains("past the end"), "{e}");
}

#[test]
fn a_truncated_cbfs_image_never_reads_outside_it() {
    let image = fixture("cbfs.bin");
    // Every prefix: the walk ends, and a file it reports fits the prefix.
    for cut in (0..image.len()).step_by(97) {
        let part = &image[..cut];
        if let Ok(files) = Cbfs::new(part).files() {
            assert!(files.iter().all(|f| f.data.end <= cut));
        }
    }
}
