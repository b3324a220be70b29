//! Linux's `struct screen_info`, the first 64 bytes of `boot_params`: how the kernel finds
//! the console the loader left (include/uapi/linux/screen_info.h).
//!
//! A linear framebuffer is described as GRUB describes coreboot's ("simple" framebuffer,
//! `VIDEO_TYPE_EFI`, size in bytes): Linux's sysfb turns that into an `efi-framebuffer` or
//! `simple-framebuffer` device, which efifb, simplefb or simpledrm drive without any
//! firmware call. `VIDEO_TYPE_VLFB` would need vesafb, which distribution kernels such as
//! Debian's cloud kernel leave out. The VGA text console is `VIDEO_TYPE_VGAC` with its
//! size and cursor, as GRUB passes it from a BIOS.

use crate::bytes::{put, u16_at, u32_at};
use crate::display::Screen;

/// Size of `struct screen_info`.
pub const SIZE: usize = 0x40;
/// `orig_video_isVGA` of a colour VGA text console.
pub const VIDEO_TYPE_VGAC: u8 = 0x22;
/// `orig_video_isVGA` of a VESA linear framebuffer (needs vesafb).
pub const VIDEO_TYPE_VLFB: u8 = 0x23;
/// `orig_video_isVGA` of a "simple" linear framebuffer (EFI GOP, or coreboot's via GRUB).
pub const VIDEO_TYPE_EFI: u8 = 0x70;
/// `capabilities`: `ext_lfb_base` holds the address's high half.
pub const VIDEO_CAPABILITY_64BIT_BASE: u32 = 1 << 1;

const ORIG_X: usize = 0x00;
const ORIG_Y: usize = 0x01;
const ORIG_VIDEO_MODE: usize = 0x06;
const ORIG_VIDEO_COLS: usize = 0x07;
const ORIG_VIDEO_LINES: usize = 0x0e;
const ORIG_VIDEO_IS_VGA: usize = 0x0f;
const ORIG_VIDEO_POINTS: usize = 0x10;
const LFB_WIDTH: usize = 0x12;
const LFB_HEIGHT: usize = 0x14;
const LFB_DEPTH: usize = 0x16;
const LFB_BASE: usize = 0x18;
const LFB_SIZE: usize = 0x1c;
const LFB_LINELENGTH: usize = 0x24;
const RED_SIZE: usize = 0x26;
const PAGES: usize = 0x32;
const CAPABILITIES: usize = 0x36;
const EXT_LFB_BASE: usize = 0x3a;

/// `struct screen_info` for `display` (all zero without one: Linux then probes nothing).
pub fn encode(display: Option<&Screen>) -> [u8; SIZE] {
    let mut s = [0u8; SIZE];
    // `v`'s low `n` bytes, little-endian, at `at`: numbers are passed in a register, not as
    // byte arrays built on the stack.
    let mut le = |at: usize, v: u64, n: usize| put(&mut s, at, &v.to_le_bytes()[..n]);
    match display {
        None => {}
        Some(Screen::Text(t)) => {
            le(ORIG_X, u64::from(t.cursor_x), 1);
            le(ORIG_Y, u64::from(t.cursor_y), 1);
            le(ORIG_VIDEO_MODE, 3, 1);
            le(ORIG_VIDEO_COLS, u64::from(t.columns), 1);
            le(ORIG_VIDEO_LINES, u64::from(t.rows), 1);
            le(ORIG_VIDEO_IS_VGA, u64::from(VIDEO_TYPE_VGAC), 1);
            le(ORIG_VIDEO_POINTS, u64::from(t.char_height), 2);
        }
        Some(Screen::Linear(fb)) => {
            // The fields are 16 bits wide; a mode wider than that is not a real one.
            let u16_of = |v: u32| u64::from(v.min(u32::from(u16::MAX)));
            le(ORIG_VIDEO_IS_VGA, u64::from(VIDEO_TYPE_EFI), 1);
            le(LFB_WIDTH, u16_of(fb.width), 2);
            le(LFB_HEIGHT, u16_of(fb.height), 2);
            le(LFB_DEPTH, u64::from(fb.bits_per_pixel), 2);
            le(LFB_BASE, fb.addr, 4);
            le(LFB_SIZE, fb.size().min(u64::from(u32::MAX)), 4);
            le(LFB_LINELENGTH, u16_of(fb.pitch), 2);
            let colors = [fb.red, fb.green, fb.blue, fb.reserved];
            for (i, c) in colors.into_iter().enumerate() {
                le(RED_SIZE + 2 * i, u64::from(c.size), 1);
                le(RED_SIZE + 2 * i + 1, u64::from(c.position), 1);
            }
            le(PAGES, 1, 2);
            let high = fb.addr >> 32;
            if high != 0 {
                le(CAPABILITIES, u64::from(VIDEO_CAPABILITY_64BIT_BASE), 4);
                le(EXT_LFB_BASE, high, 4);
            }
        }
    }
    s
}

/// The fields of `struct screen_info` baton writes, read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScreenInfo {
    /// `orig_video_isVGA`: 0, [`VIDEO_TYPE_VGAC`] or [`VIDEO_TYPE_EFI`].
    pub video_type: u8,
    /// `orig_x`, `orig_y`.
    pub cursor: (u8, u8),
    /// `orig_video_mode`.
    pub video_mode: u8,
    /// `orig_video_cols`, `orig_video_lines`.
    pub text_size: (u8, u8),
    /// `orig_video_points`.
    pub char_height: u16,
    /// `lfb_base` with `ext_lfb_base` as its high half when the capability says so.
    pub lfb_base: u64,
    /// `lfb_size` (bytes for `VIDEO_TYPE_EFI`).
    pub lfb_size: u32,
    /// `lfb_width`, `lfb_height`, `lfb_depth`.
    pub lfb_mode: (u16, u16, u16),
    /// `lfb_linelength`.
    pub lfb_linelength: u16,
    /// Red, green, blue, reserved: size and position each.
    pub colors: [u8; 8],
    /// `capabilities`.
    pub capabilities: u32,
}

/// Reads `struct screen_info` from the first [`SIZE`] bytes of `b` (missing bytes read 0).
pub fn decode(b: &[u8]) -> ScreenInfo {
    let byte = |at: usize| b.get(at).copied().unwrap_or(0);
    let u16_of = |at| u16_at(b, at).unwrap_or(0);
    let capabilities = u32_at(b, CAPABILITIES).unwrap_or(0);
    let high = if capabilities & VIDEO_CAPABILITY_64BIT_BASE != 0 {
        u64::from(u32_at(b, EXT_LFB_BASE).unwrap_or(0)) << 32
    } else {
        0
    };
    let mut colors = [0u8; 8];
    for (i, c) in colors.iter_mut().enumerate() {
        *c = byte(RED_SIZE + i);
    }
    ScreenInfo {
        video_type: byte(ORIG_VIDEO_IS_VGA),
        cursor: (byte(ORIG_X), byte(ORIG_Y)),
        video_mode: byte(ORIG_VIDEO_MODE),
        text_size: (byte(ORIG_VIDEO_COLS), byte(ORIG_VIDEO_LINES)),
        char_height: u16_of(ORIG_VIDEO_POINTS),
        lfb_base: high | u64::from(u32_at(b, LFB_BASE).unwrap_or(0)),
        lfb_size: u32_at(b, LFB_SIZE).unwrap_or(0),
        lfb_mode: (u16_of(LFB_WIDTH), u16_of(LFB_HEIGHT), u16_of(LFB_DEPTH)),
        lfb_linelength: u16_of(LFB_LINELENGTH),
        colors,
        capabilities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::display::tests::{coreboot_fb, text};
    use crate::display::{LinearFramebuffer, Screen};

    #[test]
    fn coreboots_framebuffer_is_a_simple_framebuffer_field_by_field() {
        let s = decode(&encode(Some(&coreboot_fb())));
        assert_eq!(s.video_type, VIDEO_TYPE_EFI);
        assert_eq!(s.lfb_base, 0xfd00_0000);
        assert_eq!(s.lfb_size, 3200 * 600);
        assert_eq!(s.lfb_mode, (800, 600, 32));
        assert_eq!(s.lfb_linelength, 3200);
        assert_eq!(s.colors, [8, 16, 8, 8, 8, 0, 8, 24]);
        assert_eq!(s.capabilities, 0);
    }

    #[test]
    fn a_framebuffer_above_4_gib_sets_the_64_bit_base() {
        let Screen::Linear(fb) = coreboot_fb() else {
            unreachable!()
        };
        let high = Screen::Linear(LinearFramebuffer {
            addr: 0x80_0000_0000,
            ..fb
        });
        let bytes = encode(Some(&high));
        let s = decode(&bytes);
        assert_eq!(s.capabilities, VIDEO_CAPABILITY_64BIT_BASE);
        assert_eq!(s.lfb_base, 0x80_0000_0000);
        assert_eq!(u32_at(&bytes, LFB_BASE), Some(0));
    }

    #[test]
    fn the_text_console_is_vgac_80x25_with_its_cursor() {
        let s = decode(&encode(Some(&text())));
        assert_eq!(s.video_type, VIDEO_TYPE_VGAC);
        assert_eq!(s.video_mode, 3);
        assert_eq!(s.text_size, (80, 25));
        assert_eq!(s.cursor, (0, 7));
        assert_eq!(s.char_height, 16);
        assert_eq!(s.lfb_base, 0);
    }

    #[test]
    fn no_screen_is_all_zero() {
        assert_eq!(encode(None), [0; SIZE]);
    }
}
