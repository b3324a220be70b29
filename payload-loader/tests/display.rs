//! The screen the firmware left, handed to every protocol that has room for it and read back
//! field by field; a kernel's mode request met, or refused with both modes named.

mod common;
use common::*;
use payload_loader::display::{MULTIBOOT_FB_EGA_TEXT, MULTIBOOT_FB_RGB, MultibootFramebuffer};
use payload_loader::multiboot1::{self, FLAG_VIDEO_MODE};
use payload_loader::screen_info::{self, VIDEO_TYPE_EFI, VIDEO_TYPE_VGAC};
use payload_loader::{
    BootInfoInput, ColorField, Error, LinearFramebuffer, LoadPlan, MemoryRegion, PlanConfig,
    Protocol, Screen, TextConsole, boot_params, build_boot_info, multiboot2, plan,
};

const AT: u64 = 0x9_0000;

fn framebuffer() -> Screen {
    let field = |position, size| ColorField { position, size };
    Screen::Linear(LinearFramebuffer {
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
}

fn text() -> Screen {
    Screen::Text(TextConsole {
        columns: 80,
        rows: 25,
        char_height: 16,
        cursor_x: 0,
        cursor_y: 12,
    })
}

fn input(map: &[MemoryRegion], display: Option<Screen>) -> BootInfoInput<'_> {
    BootInfoInput {
        cmdline: "console=tty0",
        loader_name: "baton",
        memory_map: map,
        machine_map: &[],
        modules: &[],
        rsdp: None,
        display,
    }
}

fn planned(kernel: &[u8]) -> LoadPlan {
    plan(kernel, &PlanConfig::new(&memory_map(), &[])).expect("plans")
}

#[test]
fn multiboot2_and_elf64_get_the_framebuffer_tag_field_by_field() {
    let map = memory_map();
    for protocol in [Protocol::Multiboot2, Protocol::Elf64] {
        for display in [framebuffer(), text()] {
            let blob = build_boot_info(protocol, &input(&map, Some(display)), AT).expect("builds");
            let info = multiboot2::decode_info(&blob, AT).expect("decodes");
            let fb = info.framebuffer.expect("a framebuffer tag");
            assert_eq!(fb, MultibootFramebuffer::from(&display));
        }
        let blob = build_boot_info(protocol, &input(&map, None), AT).expect("builds");
        let info = multiboot2::decode_info(&blob, AT).expect("decodes");
        assert_eq!(info.framebuffer, None);
    }
}

#[test]
fn the_multiboot_fields_are_coreboots_mode_and_ega_text() {
    let fb = MultibootFramebuffer::from(&framebuffer());
    assert_eq!(
        (fb.addr, fb.pitch, fb.width, fb.height, fb.bpp, fb.kind),
        (0xfd00_0000, 3200, 800, 600, 32, MULTIBOOT_FB_RGB)
    );
    assert_eq!(fb.color, [16, 8, 8, 8, 0, 8]);
    let t = MultibootFramebuffer::from(&text());
    assert_eq!(
        (t.addr, t.pitch, t.width, t.height, t.bpp, t.kind),
        (0xb8000, 160, 80, 25, 16, MULTIBOOT_FB_EGA_TEXT)
    );
}

#[test]
fn multiboot1_gets_flag_12_and_the_framebuffer_fields() {
    let map = memory_map();
    for display in [framebuffer(), text()] {
        let blob =
            build_boot_info(Protocol::Multiboot1, &input(&map, Some(display)), AT).expect("builds");
        let info = multiboot1::decode_info(&blob, AT).expect("decodes");
        assert_ne!(info.flags & 1 << 12, 0);
        assert_eq!(info.framebuffer, Some(MultibootFramebuffer::from(&display)));
        // The fields after it are still where they were.
        assert_eq!(info.cmdline.as_deref(), Some(&b"console=tty0"[..]));
        assert_eq!(info.memory_map, map);
    }
    let blob = build_boot_info(Protocol::Multiboot1, &input(&map, None), AT).expect("builds");
    let info = multiboot1::decode_info(&blob, AT).expect("decodes");
    assert_eq!(info.flags & 1 << 12, 0);
    assert_eq!(info.framebuffer, None);
}

#[test]
fn linux_gets_screen_info() {
    let p = planned(&TestBz::linux64().build());
    let map = memory_map();
    let decode = |display| {
        let blob = p
            .build_boot_info(&input(&map, display), AT)
            .expect("builds");
        boot_params::decode(&blob, AT).expect("decodes").screen_info
    };
    let s = decode(Some(framebuffer()));
    assert_eq!(s.video_type, VIDEO_TYPE_EFI);
    assert_eq!((s.lfb_base, s.lfb_size), (0xfd00_0000, 3200 * 600));
    assert_eq!((s.lfb_mode, s.lfb_linelength), ((800, 600, 32), 3200));
    assert_eq!(s.colors, [8, 16, 8, 8, 8, 0, 8, 24]);
    let s = decode(Some(text()));
    assert_eq!(s.video_type, VIDEO_TYPE_VGAC);
    assert_eq!(
        (s.text_size, s.cursor, s.char_height),
        ((80, 25), (0, 12), 16)
    );
    assert_eq!(decode(None), screen_info::decode(&[0; screen_info::SIZE]));
}

fn build_err(p: &LoadPlan, display: Option<Screen>) -> String {
    let map = memory_map();
    match p.build_boot_info(&input(&map, display), AT) {
        Ok(_) => panic!("built"),
        Err(e) => {
            assert!(matches!(*e, Error::VideoModeUnavailable { .. }), "{e}");
            e.to_string()
        }
    }
}

fn builds(p: &LoadPlan, display: Option<Screen>) -> bool {
    let map = memory_map();
    p.build_boot_info(&input(&map, display), AT).is_ok()
}

#[test]
fn a_required_multiboot2_framebuffer_tag_is_met_or_refused_by_name() {
    fn kernel(tags: &[(u16, u16, Vec<u8>)]) -> Vec<u8> {
        TestElf::kernel32().patch(0x1000, mb2_header(tags)).build()
    }
    // Required, any mode: met by the framebuffer, not by text or nothing.
    let any = planned(&kernel(&[(5, 0, u32s(&[0, 0, 0]))]));
    assert!(builds(&any, Some(framebuffer())));
    let e = build_err(&any, Some(text()));
    assert!(e.contains("VGA text at 0xb8000: 80x25"), "{e}");
    let e = build_err(&any, None);
    assert!(e.contains("no screen"), "{e}");
    // Required, a mode baton cannot set.
    let other = planned(&kernel(&[(5, 0, u32s(&[1024, 768, 32]))]));
    let e = build_err(&other, Some(framebuffer()));
    assert!(
        e.contains("1024x768x32") && e.contains("800x600, 32 bpp"),
        "{e}"
    );
    assert!(builds(
        &planned(&kernel(&[(5, 0, u32s(&[800, 600, 32]))])),
        Some(framebuffer())
    ));
    // Optional: whatever there is, nothing included.
    let optional = planned(&kernel(&[(5, 1, u32s(&[1024, 768, 32]))]));
    for display in [Some(framebuffer()), Some(text()), None] {
        assert!(builds(&optional, display));
    }
    // A required information request for the framebuffer tag: any screen.
    let info = planned(&kernel(&[(1, 0, u32s(&[8]))]));
    assert!(builds(&info, Some(text())));
    assert!(build_err(&info, None).contains("information request"));
}

#[test]
fn multiboot1_flag_2_needs_a_screen_and_takes_the_one_there_is() {
    // The address fields are there but unused (no flag 16); mode_type 0 (graphics)
    // 1024x768x32 is a preference.
    let mut h = mb1_header(FLAG_VIDEO_MODE, Some([0; 5]));
    h.extend_from_slice(&u32s(&[0, 1024, 768, 32]));
    let p = planned(&TestElf::kernel32().patch(0x1000, h).build());
    assert!(builds(&p, Some(framebuffer())));
    assert!(builds(&p, Some(text())));
    let e = build_err(&p, None);
    assert!(e.contains("Multiboot1 video fields"), "{e}");
}

#[test]
fn a_framebuffer_in_usable_ram_is_handed_over_reserved() {
    // Graphics memory carved out of RAM (an integrated GPU's, say) that the
    // firmware's map left usable: the screen's range comes out reserved.
    let Screen::Linear(fb) = framebuffer() else {
        unreachable!()
    };
    let in_ram = Screen::Linear(LinearFramebuffer {
        addr: 0x7000_0000,
        ..fb
    });
    let (start, end) = in_ram.memory();
    let map =
        payload_loader::with_reserved(&memory_map(), &[payload_loader::Range::new(start, end)]);
    for r in &map {
        if r.start < end && start < r.end {
            assert_eq!(r.kind, payload_loader::MemoryKind::Reserved, "{r:?}");
        }
    }
    assert!(map.iter().any(|r| (r.start, r.end) == (start, end)));
}
