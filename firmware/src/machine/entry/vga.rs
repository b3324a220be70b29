//! Reads the VGA registers `baton::entry::vga` decodes (colour I/O addresses: a monochrome
//! adapter is not a text console baton describes).

use baton::entry::vga::{TextRegisters, text_console};
use payload_loader::TextConsole;
use x86_64::instructions::port::Port;

const GRAPHICS_INDEX: u16 = 0x3ce;
const CRTC_INDEX: u16 = 0x3d4;

fn indexed(index_port: u16, index: u8) -> u8 {
    // SAFETY: the VGA index/data pairs; reading a register changes nothing but the
    // index, which the kernel sets before each access of its own.
    unsafe {
        Port::<u8>::new(index_port).write(index);
        Port::<u8>::new(index_port + 1).read()
    }
}

/// The VGA text console as the firmware left it, if the adapter is in a colour text mode.
pub fn text_console_now() -> Option<TextConsole> {
    let crtc = |i| indexed(CRTC_INDEX, i);
    let word = |hi, lo| u16::from(crtc(hi)) << 8 | u16::from(crtc(lo));
    text_console(&TextRegisters {
        graphics_misc: indexed(GRAPHICS_INDEX, 6),
        horizontal_display_end: crtc(0x01),
        vertical_display_end: crtc(0x12),
        overflow: crtc(0x07),
        maximum_scan_line: crtc(0x09),
        start_address: word(0x0c, 0x0d),
        cursor_location: word(0x0e, 0x0f),
    })
}
