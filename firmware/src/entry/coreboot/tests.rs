use super::tables::Tables;
use super::*;
use crate::entry::{EntryProtocol, SerialPort};
use crate::support::phys::FakeMemory;
use payload_loader::{ColorField, LinearFramebuffer, MemoryKind};

/// A table at `addr` with these records (tag, body): header + records
/// with correct checksums.
pub(crate) fn table(records: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (tag, b) in records {
        body.extend_from_slice(&tag.to_le_bytes());
        body.extend_from_slice(&((b.len() + 8) as u32).to_le_bytes());
        body.extend_from_slice(b);
    }
    let mut h = alloc::vec![0u8; HEADER_SIZE];
    h[20..24].copy_from_slice(&(records.len() as u32).to_le_bytes());
    h.extend_from_slice(&body);
    seal(&mut h);
    h
}

fn memory_record(ranges: &[(u64, u64, u32)]) -> (u32, Vec<u8>) {
    let mut b = Vec::new();
    for (start, size, t) in ranges {
        b.extend_from_slice(&start.to_le_bytes());
        b.extend_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&t.to_le_bytes());
    }
    (TAG_MEMORY, b)
}

fn forward(to: u64) -> (u32, Vec<u8>) {
    (TAG_FORWARD, to.to_le_bytes().to_vec())
}

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn full_table() -> Vec<u8> {
    let mut media = Vec::new();
    for v in [0u64, 0x200, 0xfe_0000, 0x100_0000] {
        media.extend_from_slice(&v.to_le_bytes());
    }
    let mut mainboard = alloc::vec![0u8, 5];
    mainboard.extend_from_slice(b"QEMU\0q35\0");
    table(&[
        memory_record(&[
            (0, 0xa0000, 1),
            (0x100000, 0x1f00_0000, 1),
            (0x1f00_0000, 0x100_0000, 16),
            (0xfec0_0000, 0x1000, 2),
        ]),
        (TAG_SERIAL, u32s(&[1, 0x3f8, 115200, 1, 1843200])),
        (TAG_ACPI_RSDP, 0x1f7f_0000u64.to_le_bytes().to_vec()),
        (TAG_BOOT_MEDIA_PARAMS, media),
        (TAG_CBMEM_CONSOLE, 0x1f6f_0000u64.to_le_bytes().to_vec()),
        (TAG_MAINBOARD, mainboard),
        (TAG_VERSION, b"25.09\0".to_vec()),
        (0x99, alloc::vec![1, 2, 3, 4]),
    ])
}

fn memory_with(parts: &[(u64, Vec<u8>)]) -> FakeMemory {
    let mut mem = FakeMemory::new(0, 0x11_0000);
    for (at, bytes) in parts {
        mem.write(*at, bytes);
    }
    mem
}

#[test]
fn follows_the_forward_record_and_reads_every_record() {
    let mem = memory_with(&[(0x500, table(&[forward(0x8000)])), (0x8000, full_table())]);
    assert_eq!(find(&mem, Some(0x500)).unwrap(), (0x500, false));
    let t = Tables::read(&mem, 0x500).unwrap();
    assert_eq!(t.tables.len(), 2);
    assert_eq!(t.tables[0].start, 0x500);
    assert_eq!(t.tables[1].start, 0x8000);
    assert_eq!(t.memory.len(), 4);
    assert_eq!(
        t.memory[2].kind,
        MemoryKind::Reserved,
        "type 16 is reserved"
    );
    assert_eq!(
        t.serial,
        Some(SerialPort {
            port: 0x3f8,
            baud: 115200
        })
    );
    assert_eq!(t.rsdp, Some(0x1f7f_0000));
    assert_eq!(t.cbmem_console, Some(0x1f6f_0000));
    let media = t.boot_media.unwrap();
    assert_eq!(
        media.cbfs_range(),
        Some(Range::new(0xff00_0200, 0xfffe_0200))
    );
    assert_eq!(t.firmware(), "coreboot 25.09 on QEMU q35");
    assert_eq!(t.other_tags, [0x99]);
    let map = t.memory_map().unwrap();
    let info = t.boot_info(
        map,
        EntryProtocol::Coreboot {
            bits: 32,
            table: 0x500,
            scanned: false,
        },
        "log=debug".into(),
    );
    assert_eq!(
        info.platform.cbfs,
        Some(Range::new(0xff00_0200, 0xfffe_0200))
    );
    assert_eq!(info.boot_structures.len(), 2);
    assert!(info.memory_map.usable_bytes() > 0x1e00_0000);
}

/// lb_framebuffer as coreboot's QEMU VGA driver fills it (800x600, 32 bpp, xRGB).
fn framebuffer_record() -> (u32, Vec<u8>) {
    let mut b = 0xfd00_0000u64.to_le_bytes().to_vec();
    b.extend_from_slice(&u32s(&[800, 600, 3200]));
    b.extend_from_slice(&[32, 16, 8, 8, 8, 0, 8, 24, 8, 0, 0]);
    (TAG_FRAMEBUFFER, b)
}

#[test]
fn reads_the_framebuffer_field_by_field() {
    let ram = memory_record(&[(0x100000, 0x1f00_0000, 1)]);
    let mem = memory_with(&[(0x8000, table(&[ram.clone(), framebuffer_record()]))]);
    let t = Tables::read(&mem, 0x8000).unwrap();
    let field = |position, size| ColorField { position, size };
    assert_eq!(
        t.framebuffer,
        Some(LinearFramebuffer {
            addr: 0xfd00_0000,
            pitch: 3200,
            width: 800,
            height: 600,
            bits_per_pixel: 32,
            red: field(16, 8),
            green: field(8, 8),
            blue: field(0, 8),
            reserved: field(24, 8),
        })
    );
    // A record cut short before its colour fields is ignored, not misread.
    let (tag, mut short) = framebuffer_record();
    short.truncate(24);
    let mem = memory_with(&[(0x8000, table(&[ram, (tag, short)]))]);
    assert_eq!(Tables::read(&mem, 0x8000).unwrap().framebuffer, None);
}

#[test]
fn scans_when_the_pointer_is_not_a_table() {
    let mem = memory_with(&[(0xf_1230, full_table())]);
    assert_eq!(find(&mem, Some(0x7000)).unwrap(), (0xf_1230, true));
    assert_eq!(find(&mem, None).unwrap(), (0xf_1230, true));
    let empty = memory_with(&[]);
    assert_eq!(
        find(&empty, Some(0x7000)),
        Err(CorebootError::NotFound {
            pointer: Some(0x7000)
        })
    );
}

#[test]
fn a_forward_loop_is_refused() {
    let mem = memory_with(&[
        (0x500, table(&[forward(0x8000)])),
        (0x8000, table(&[forward(0x500)])),
    ]);
    assert_eq!(
        Tables::read(&mem, 0x500),
        Err(CorebootError::ForwardLoop { addr: 0x500 })
    );
    let selfloop = memory_with(&[(0x500, table(&[forward(0x500)]))]);
    assert!(matches!(
        Tables::read(&selfloop, 0x500),
        Err(CorebootError::ForwardLoop { .. })
    ));
}

#[test]
fn a_long_forward_chain_is_refused() {
    let parts: Vec<(u64, Vec<u8>)> = (0..8u64)
        .map(|i| (0x1000 * (i + 1), table(&[forward(0x1000 * (i + 2))])))
        .collect();
    let mem = memory_with(&parts);
    assert_eq!(
        Tables::read(&mem, 0x1000),
        Err(CorebootError::TooManyForwards { max: MAX_FORWARDS })
    );
}

#[test]
fn a_record_running_past_its_table_is_refused() {
    let mut t = full_table();
    // Grow the first record's size beyond the table, then fix the checksums.
    t[HEADER_SIZE + 4..HEADER_SIZE + 8].copy_from_slice(&0x10000u32.to_le_bytes());
    seal(&mut t);
    let mem = memory_with(&[(0x8000, t)]);
    let e = Tables::read(&mem, 0x8000).unwrap_err();
    assert!(
        matches!(e, CorebootError::BadRecord { size: 0x10000, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("size 65536"), "{e}");
}

#[test]
fn checksums_are_checked() {
    let mut t = full_table();
    let last = t.len() - 1;
    t[last] ^= 0xff;
    let mem = memory_with(&[(0x8000, t.clone())]);
    assert!(matches!(
        Tables::read(&mem, 0x8000),
        Err(CorebootError::TableChecksum { .. })
    ));
    t[last] ^= 0xff;
    t[20] ^= 1; // table_entries: covered by the header checksum
    let mem = memory_with(&[(0x8000, t)]);
    assert!(matches!(
        Tables::read(&mem, 0x8000),
        Err(CorebootError::BadHeader { .. })
    ));
}

#[test]
fn a_table_without_memory_is_refused() {
    let mem = memory_with(&[(0x8000, table(&[(TAG_VERSION, b"x\0".to_vec())]))]);
    assert_eq!(
        Tables::read(&mem, 0x8000),
        Err(CorebootError::NoMemoryMap { addr: 0x8000 })
    );
}

#[test]
fn cbmem_console_appends_and_wraps() {
    use cbmem_console::*;
    let mut body = [0u8; 8];
    let c = append(&mut body, 5, b"abc");
    assert_eq!(c, OVERFLOW);
    assert_eq!(&body[5..], b"abc");
    let c = append(&mut body, c, b"xy");
    assert_eq!(c, OVERFLOW | 2);
    assert_eq!(&body[..2], b"xy");
    // A cursor beyond the buffer restarts at 0 instead of writing past it.
    assert_eq!(append(&mut body, 100, b"q"), OVERFLOW | 1);
}
