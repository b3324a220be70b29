//! Every `Error` variant's message, byte for byte: baton's QEMU suite greps for these texts, so
//! a change to one is a change to the firmware's interface. `error_messages.txt` holds one line
//! per case below, `name: message`, in the same order.

use payload_loader::{
    ColorField, Error, LinearFramebuffer, MemoryKindName, Protocol, Screen, TextConsole,
};

fn cases() -> Vec<(&'static str, Error)> {
    use Error::*;
    let fb = LinearFramebuffer {
        addr: 0xfd00_0000,
        pitch: 4096,
        width: 1024,
        height: 768,
        bits_per_pixel: 32,
        red: ColorField {
            position: 16,
            size: 8,
        },
        green: ColorField {
            position: 8,
            size: 8,
        },
        blue: ColorField {
            position: 0,
            size: 8,
        },
        reserved: ColorField {
            position: 24,
            size: 8,
        },
    };
    let text = TextConsole {
        columns: 80,
        rows: 25,
        char_height: 16,
        cursor_x: 3,
        cursor_y: 4,
    };
    let video = |graphics, width, height, depth, available| VideoModeUnavailable {
        source: "Multiboot2 framebuffer tag",
        graphics,
        width,
        height,
        depth,
        available,
    };
    vec![
        ("TruncatedHeader", TruncatedHeader { len: 12, need: 52 }),
        (
            "BadMagic",
            BadMagic {
                found: [0x7f, b'E', b'L', 0],
            },
        ),
        ("BadClass", BadClass { class: 3 }),
        ("BadDataEncoding", BadDataEncoding { data: 2 }),
        ("BadVersion", BadVersion { version: 2 }),
        (
            "BadMachine",
            BadMachine {
                machine: 40,
                class_bits: 64,
            },
        ),
        ("BadType", BadType { e_type: 4 }),
        (
            "BadPhentsize",
            BadPhentsize {
                found: 32,
                expected: 56,
            },
        ),
        ("NoProgramHeaders", NoProgramHeaders),
        (
            "ProgramHeadersOutOfFile",
            ProgramHeadersOutOfFile {
                phoff: 0x40,
                phnum: 3,
                phentsize: 56,
                file_len: 100,
            },
        ),
        (
            "Unparsable",
            Unparsable {
                what: "program headers",
            },
        ),
        ("NoLoadableSegments", NoLoadableSegments),
        (
            "FileSizeExceedsMemSize",
            FileSizeExceedsMemSize {
                segment: 1,
                filesz: 0x2000,
                memsz: 0x1000,
            },
        ),
        (
            "SegmentOutOfFile",
            SegmentOutOfFile {
                segment: 2,
                offset: 0x1000,
                filesz: 0x800,
                file_len: 4096,
            },
        ),
        (
            "SegmentWraps",
            SegmentWraps {
                segment: 0,
                addr: 0xffff_f000,
                memsz: 0x2000,
            },
        ),
        (
            "BadAlignment",
            BadAlignment {
                segment: 3,
                align: 0x3000,
                vaddr: 0x10_0000,
                offset: 0x1001,
            },
        ),
        (
            "SegmentOverlap",
            SegmentOverlap {
                segment: 1,
                start: 0x10_0000,
                end: 0x10_2000,
                other: 0,
                other_start: 0x10_1000,
                other_end: 0x10_3000,
            },
        ),
        (
            "EntryOutsideSegments",
            EntryOutsideSegments { entry: 0x20_0000 },
        ),
        (
            "SegmentNotInUsableRam/kind",
            SegmentNotInUsableRam {
                segment: 0,
                start: 0xe0000,
                end: 0xf0000,
                region: Some(MemoryKindName("reserved")),
            },
        ),
        (
            "SegmentNotInUsableRam/none",
            SegmentNotInUsableRam {
                segment: 4,
                start: 0x1_0000_0000,
                end: 0x1_0001_0000,
                region: None,
            },
        ),
        (
            "EntryAbove4G",
            EntryAbove4G {
                protocol: Protocol::Multiboot1,
                entry: 0x1_0000_0000,
            },
        ),
        (
            "NoteTruncated",
            NoteTruncated {
                segment: 2,
                offset: 0x40,
                namesz: 4,
                descsz: 8,
                avail: 12,
            },
        ),
        ("PvhNoteSize", PvhNoteSize { descsz: 2 }),
        ("PvhEntryInvalid", PvhEntryInvalid { entry: 0 }),
        (
            "Mb1Checksum",
            Mb1Checksum {
                offset: 0x1000,
                magic: 0x1bad_b002,
                flags: 3,
                checksum: 0x1234,
            },
        ),
        (
            "Mb1Truncated",
            Mb1Truncated {
                offset: 0x1ff0,
                need: 48,
                file_len: 0x2000,
            },
        ),
        (
            "Mb1UnsupportedFlags",
            Mb1UnsupportedFlags {
                flags: 0x0000_0010,
                unsupported: 0x10,
            },
        ),
        (
            "Mb1BadAddress",
            Mb1BadAddress {
                field: "load_end_addr",
                value: 0x1000,
                detail: "is below",
                other: 0x2000,
            },
        ),
        (
            "Mb2Checksum",
            Mb2Checksum {
                offset: 0x2000,
                sum: 0x10,
            },
        ),
        ("Mb2Architecture", Mb2Architecture { architecture: 4 }),
        (
            "Mb2HeaderLength",
            Mb2HeaderLength {
                offset: 0x8,
                length: 12,
                file_len: 64,
            },
        ),
        (
            "Mb2TagSize",
            Mb2TagSize {
                tag: 5,
                at: 0x20,
                size: 4,
                avail: 16,
            },
        ),
        ("Mb2NoEndTag", Mb2NoEndTag { offset: 0x30 }),
        ("Mb2UnsupportedTag", Mb2UnsupportedTag { tag: 9, at: 0x28 }),
        (
            "Mb2UnsupportedRequest",
            Mb2UnsupportedRequest { request: 21 },
        ),
        (
            "Mb2BadAddress",
            Mb2BadAddress {
                field: "header_addr",
                value: 0x10_0000,
                detail: "is above",
                other: 0xf_0000,
            },
        ),
        (
            "ProtocolNotPresent",
            ProtocolNotPresent {
                protocol: Protocol::Pvh,
            },
        ),
        ("PlainElfNeeds64", PlainElfNeeds64 { class_bits: 32 }),
        (
            "DynNotAllowed",
            DynNotAllowed {
                protocol: Protocol::Multiboot1,
            },
        ),
        (
            "BadDynamic",
            BadDynamic {
                detail: "DT_RELA outside the file",
                value: 0x9000,
            },
        ),
        (
            "UnsupportedRelocation",
            UnsupportedRelocation {
                index: 7,
                r_type: 1,
            },
        ),
        (
            "RelocationOutOfSegment",
            RelocationOutOfSegment {
                index: 3,
                r_offset: 0xdead,
            },
        ),
        (
            "BadRange",
            BadRange {
                what: "memory map entry",
                index: 5,
                start: 0x2000,
                end: 0x1000,
            },
        ),
        (
            "OutOfMemory",
            OutOfMemory {
                what: "initrd",
                size: 0x10_0000,
                align: 0x1000,
                below: 0x1_0000_0000,
            },
        ),
        ("BadAllocAlign", BadAllocAlign { align: 3 }),
        (
            "FieldTooLarge",
            FieldTooLarge {
                field: "mods_addr",
                value: 0x1_0000_0000,
                max: 0xffff_ffff,
            },
        ),
        ("RsdpTooShort", RsdpTooShort { len: 20, need: 36 }),
        (
            "NulInString",
            NulInString {
                field: "cmdline",
                at: 3,
            },
        ),
        ("BzBootFlag", BzBootFlag { found: 0x1234 }),
        ("BzProtocolTooOld", BzProtocolTooOld { version: 0x0205 }),
        (
            "BzHeaderTooShort",
            BzHeaderTooShort {
                version: 0x020c,
                end: 0x240,
                need: 0x268,
            },
        ),
        (
            "BzSetupPastEnd",
            BzSetupPastEnd {
                setup_sects: 4,
                setup_size: 0xa00,
                file_len: 2560,
            },
        ),
        (
            "BzTruncated",
            BzTruncated {
                syssize: 0x100,
                need: 6656,
                file_len: 5000,
            },
        ),
        ("BzNotLoadedHigh", BzNotLoadedHigh { loadflags: 0x80 }),
        (
            "BzBadAlignment",
            BzBadAlignment {
                kernel_alignment: 0x3000,
            },
        ),
        (
            "BzEntryOutsideImage",
            BzEntryOutsideImage {
                code32_start: 0x10_0000,
                entry_offset: 0x200,
                payload: 0x100,
            },
        ),
        (
            "BzCmdlineTooLong",
            BzCmdlineTooLong {
                len: 3000,
                max: 2047,
            },
        ),
        (
            "BzInitrdAboveMax",
            BzInitrdAboveMax {
                start: 0x7fff_0000,
                end: 0x8001_0000,
                max: 0x7fff_ffff,
            },
        ),
        ("BzTooManyModules", BzTooManyModules { count: 2 }),
        (
            "BzTooManyE820",
            BzTooManyE820 {
                entries: 200,
                version: 0x0208,
            },
        ),
        ("BootParamsNeedPlan", BootParamsNeedPlan),
        ("VideoModeUnavailable/any", video(true, 0, 0, 0, None)),
        (
            "VideoModeUnavailable/size",
            video(true, 800, 600, 0, Some(Screen::Linear(fb))),
        ),
        (
            "VideoModeUnavailable/text",
            video(false, 80, 0, 0, Some(Screen::Text(text))),
        ),
        (
            "DecodeOutOfBounds",
            DecodeOutOfBounds {
                field: "mmap",
                addr: 0x9000,
                len: 0x30,
                base: 0x8000,
                blob_len: 0x100,
            },
        ),
        (
            "DecodeBadValue",
            DecodeBadValue {
                field: "total_size",
                value: 0x7,
            },
        ),
    ]
}

fn rendered() -> String {
    cases()
        .iter()
        .map(|(name, e)| format!("{name}: {e}\n"))
        .collect()
}

#[test]
fn every_message_is_unchanged() {
    let expected = include_str!("error_messages.txt");
    let actual = rendered();
    for (n, (want, got)) in expected.lines().zip(actual.lines()).enumerate() {
        assert_eq!(got, want, "case {n} differs");
    }
    assert_eq!(actual, expected);
}
