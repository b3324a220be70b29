//! The screen the firmware left set up, as every protocol describes it to the kernel.
//!
//! baton never sets a video mode: it passes on the one it found (coreboot's linear
//! framebuffer, or the VGA text console SeaBIOS and coreboot leave behind) and answers a
//! kernel's mode request with it.

use core::fmt;

use crate::bytes::{Writer, u32_at, u64_at};

/// Where the legacy VGA text buffer lives (colour modes).
pub const VGA_TEXT_BUFFER: u64 = 0xb8000;

/// One colour channel of a direct-colour pixel: its lowest bit and its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColorField {
    /// Bit position of the channel's lowest bit in the pixel.
    pub position: u8,
    /// Number of bits.
    pub size: u8,
}

/// A linear direct-colour framebuffer (coreboot's `LB_TAG_FRAMEBUFFER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearFramebuffer {
    /// Physical address of the first pixel.
    pub addr: u64,
    /// Bytes per line.
    pub pitch: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bits per pixel.
    pub bits_per_pixel: u8,
    /// The red channel.
    pub red: ColorField,
    /// The green channel.
    pub green: ColorField,
    /// The blue channel.
    pub blue: ColorField,
    /// The unused bits.
    pub reserved: ColorField,
}

impl LinearFramebuffer {
    /// Bytes the visible screen spans: `pitch * height`.
    pub fn size(&self) -> u64 {
        u64::from(self.pitch) * u64::from(self.height)
    }
}

/// A VGA text console (mode 3 and its kin): characters and attributes at 0xb8000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextConsole {
    /// Characters per line.
    pub columns: u8,
    /// Lines.
    pub rows: u8,
    /// Scan lines per character (Linux's `orig_video_points`).
    pub char_height: u8,
    /// The cursor's column.
    pub cursor_x: u8,
    /// The cursor's line.
    pub cursor_y: u8,
}

/// The screen as the firmware left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// A linear framebuffer in a direct-colour mode.
    Linear(LinearFramebuffer),
    /// The VGA text console.
    Text(TextConsole),
}

impl Screen {
    /// The physical memory the kernel is told about: the visible framebuffer, or the text
    /// buffer's page (never to be reported as usable RAM).
    pub fn memory(&self) -> (u64, u64) {
        match self {
            Screen::Linear(fb) => (fb.addr, fb.addr.saturating_add(fb.size())),
            Screen::Text(_) => (VGA_TEXT_BUFFER, VGA_TEXT_BUFFER + 0x8000),
        }
    }

    /// Width, height and bits per pixel as Multiboot counts them (text: characters, 16 bits
    /// a cell).
    pub fn mode(&self) -> (u32, u32, u32) {
        match self {
            Screen::Linear(fb) => (fb.width, fb.height, u32::from(fb.bits_per_pixel)),
            Screen::Text(t) => (u32::from(t.columns), u32::from(t.rows), 16),
        }
    }
}

impl fmt::Display for Screen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Screen::Linear(fb) => write!(
                f,
                "linear framebuffer at {:#x}: {}x{}, {} bpp, {} bytes a line, \
                 red {}@{} green {}@{} blue {}@{}",
                fb.addr,
                fb.width,
                fb.height,
                fb.bits_per_pixel,
                fb.pitch,
                fb.red.size,
                fb.red.position,
                fb.green.size,
                fb.green.position,
                fb.blue.size,
                fb.blue.position
            ),
            Screen::Text(t) => write!(
                f,
                "VGA text at {VGA_TEXT_BUFFER:#x}: {}x{}, cursor at {},{}",
                t.columns, t.rows, t.cursor_x, t.cursor_y
            ),
        }
    }
}

/// Multiboot `framebuffer_type` of a direct-colour framebuffer.
pub const MULTIBOOT_FB_RGB: u8 = 1;
/// Multiboot `framebuffer_type` of EGA text.
pub const MULTIBOOT_FB_EGA_TEXT: u8 = 2;

/// The framebuffer fields Multiboot1 (`multiboot_info` from offset 88, flag 12) and
/// Multiboot2 (tag 8) share, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultibootFramebuffer {
    /// `framebuffer_addr`.
    pub addr: u64,
    /// `framebuffer_pitch`, bytes a line.
    pub pitch: u32,
    /// `framebuffer_width` (pixels, or characters for EGA text).
    pub width: u32,
    /// `framebuffer_height` (pixels, or lines for EGA text).
    pub height: u32,
    /// `framebuffer_bpp`.
    pub bpp: u8,
    /// `framebuffer_type`: [`MULTIBOOT_FB_RGB`] or [`MULTIBOOT_FB_EGA_TEXT`].
    pub kind: u8,
    /// RGB only: red position and size, green position and size, blue position and size.
    pub color: [u8; 6],
}

impl MultibootFramebuffer {
    pub(crate) fn write(&self, w: &mut Writer, mb2: bool) {
        w.u64(self.addr);
        w.u32(self.pitch);
        w.u32(self.width);
        w.u32(self.height);
        w.u8(self.bpp);
        w.u8(self.kind);
        if mb2 {
            w.bytes(&[0, 0]);
        }
        if self.kind == MULTIBOOT_FB_RGB {
            w.bytes(&self.color);
        }
    }

    /// Reads the fields from `b` (which starts at `framebuffer_addr`).
    pub(crate) fn read(b: &[u8], mb2: bool) -> Option<Self> {
        let color_at = 22 + usize::from(mb2) * 2;
        let kind = *b.get(21)?;
        let mut color = [0; 6];
        if kind == MULTIBOOT_FB_RGB {
            color.copy_from_slice(b.get(color_at..color_at + 6)?);
        }
        Some(Self {
            addr: u64_at(b, 0)?,
            pitch: u32_at(b, 8)?,
            width: u32_at(b, 12)?,
            height: u32_at(b, 16)?,
            bpp: *b.get(20)?,
            kind,
            color,
        })
    }
}

impl From<&Screen> for MultibootFramebuffer {
    fn from(d: &Screen) -> Self {
        match d {
            Screen::Linear(fb) => Self {
                addr: fb.addr,
                pitch: fb.pitch,
                width: fb.width,
                height: fb.height,
                bpp: fb.bits_per_pixel,
                kind: MULTIBOOT_FB_RGB,
                color: [
                    fb.red.position,
                    fb.red.size,
                    fb.green.position,
                    fb.green.size,
                    fb.blue.position,
                    fb.blue.size,
                ],
            },
            Screen::Text(t) => Self {
                addr: VGA_TEXT_BUFFER,
                pitch: u32::from(t.columns) * 2,
                width: u32::from(t.columns),
                height: u32::from(t.rows),
                bpp: 16,
                kind: MULTIBOOT_FB_EGA_TEXT,
                color: [0; 6],
            },
        }
    }
}

impl fmt::Display for MultibootFramebuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            MULTIBOOT_FB_RGB => "RGB",
            MULTIBOOT_FB_EGA_TEXT => "EGA text",
            0 => "indexed",
            _ => "unknown type",
        };
        write!(
            f,
            "{kind} at {:#x}: {}x{}, {} bpp, pitch {}",
            self.addr, self.width, self.height, self.bpp, self.pitch
        )?;
        if self.kind == MULTIBOOT_FB_RGB {
            let [rp, rs, gp, gs, bp, bs] = self.color;
            write!(f, ", red {rs}@{rp} green {gs}@{gp} blue {bs}@{bp}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The mode coreboot's QEMU VGA driver sets.
    pub(crate) fn coreboot_fb() -> Screen {
        Screen::Linear(LinearFramebuffer {
            addr: 0xfd00_0000,
            pitch: 3200,
            width: 800,
            height: 600,
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
        })
    }

    /// SeaBIOS's 80x25 text console, the cursor on line 7.
    pub(crate) fn text() -> Screen {
        Screen::Text(TextConsole {
            columns: 80,
            rows: 25,
            char_height: 16,
            cursor_x: 0,
            cursor_y: 7,
        })
    }

    #[test]
    fn the_framebuffer_memory_is_the_visible_screen() {
        assert_eq!(
            coreboot_fb().memory(),
            (0xfd00_0000, 0xfd00_0000 + 3200 * 600)
        );
        assert_eq!(text().memory(), (0xb8000, 0xc0000));
    }
}
