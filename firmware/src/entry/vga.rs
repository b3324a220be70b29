//! The VGA text console SeaBIOS, GRUB or coreboot left behind, read from the VGA registers
//! (no BIOS call: baton runs in long mode). The register reads are
//! `machine::vga`; this decides from their values.

use payload_loader::TextConsole;

/// The VGA registers that say whether the adapter is in a text mode, its size and where
/// the cursor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextRegisters {
    /// Graphics controller register 6 (Miscellaneous Graphics): bit 0 set in graphics
    /// modes; bits 2-3 the memory window (3: 0xb8000, colour text).
    pub graphics_misc: u8,
    /// CRTC 0x01, Horizontal Display End: characters a line, less one.
    pub horizontal_display_end: u8,
    /// CRTC 0x12, Vertical Display End: scan lines, less one (low 8 bits).
    pub vertical_display_end: u8,
    /// CRTC 0x07, Overflow: bit 1 and bit 6 are bits 8 and 9 of the vertical display end.
    pub overflow: u8,
    /// CRTC 0x09, Maximum Scan Line: bits 0-4 are the character height, less one.
    pub maximum_scan_line: u8,
    /// CRTC 0x0c/0x0d, the screen's start address (characters).
    pub start_address: u16,
    /// CRTC 0x0e/0x0f, the cursor's address (characters).
    pub cursor_location: u16,
}

/// The text console the registers describe, or `None` when the adapter is in a graphics
/// mode, maps its memory elsewhere (monochrome at 0xb0000) or is not there (every port
/// reads 0xff).
pub fn text_console(r: &TextRegisters) -> Option<TextConsole> {
    let graphics = r.graphics_misc & 1 != 0;
    let window = (r.graphics_misc >> 2) & 3;
    if graphics || window != 3 {
        return None;
    }
    let columns = u16::from(r.horizontal_display_end) + 1;
    let scan_lines = u16::from(r.vertical_display_end)
        | u16::from(r.overflow >> 1 & 1) << 8
        | u16::from(r.overflow >> 6 & 1) << 9;
    let char_height = u16::from(r.maximum_scan_line & 0x1f) + 1;
    let rows = (scan_lines + 1) / char_height;
    let (Ok(columns), Ok(rows), Ok(char_height)) = (
        u8::try_from(columns),
        u8::try_from(rows),
        u8::try_from(char_height),
    ) else {
        return None;
    };
    if rows == 0 {
        return None;
    }
    let cell = r.cursor_location.wrapping_sub(r.start_address);
    let (x, y) = (cell % u16::from(columns), cell / u16::from(columns));
    // A cursor off the screen (hidden by moving it away) says nothing: the top left.
    let (cursor_x, cursor_y) = match u8::try_from(y) {
        Ok(y) if y < rows => (x as u8, y),
        _ => (0, 0),
    };
    Some(TextConsole {
        columns,
        rows,
        char_height,
        cursor_x,
        cursor_y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mode 3 as SeaBIOS's VGA BIOS sets it, the cursor on line 2 after its banner.
    fn mode3() -> TextRegisters {
        TextRegisters {
            graphics_misc: 0x0e,
            horizontal_display_end: 0x4f,
            vertical_display_end: 0x8f,
            overflow: 0x1f,
            maximum_scan_line: 0x4f,
            start_address: 0,
            cursor_location: 2 * 80 + 5,
        }
    }

    #[test]
    fn mode_3_is_80x25_with_16_line_characters() {
        let t = text_console(&mode3()).expect("text");
        assert_eq!((t.columns, t.rows, t.char_height), (80, 25, 16));
        assert_eq!((t.cursor_x, t.cursor_y), (5, 2));
    }

    #[test]
    fn the_cursor_counts_from_the_screen_start() {
        let r = TextRegisters {
            start_address: 160,
            cursor_location: 160 + 24 * 80,
            ..mode3()
        };
        let t = text_console(&r).expect("text");
        assert_eq!((t.cursor_x, t.cursor_y), (0, 24));
        let hidden = TextRegisters {
            cursor_location: 0x7d0 + 80 * 10,
            ..mode3()
        };
        let t = text_console(&hidden).expect("text");
        assert_eq!((t.cursor_x, t.cursor_y), (0, 0));
    }

    #[test]
    fn graphics_monochrome_and_absent_adapters_are_no_text_console() {
        let graphics = TextRegisters {
            graphics_misc: 0x05,
            ..mode3()
        };
        assert_eq!(text_console(&graphics), None);
        let mono = TextRegisters {
            graphics_misc: 0x0a,
            ..mode3()
        };
        assert_eq!(text_console(&mono), None);
        let absent = TextRegisters {
            graphics_misc: 0xff,
            horizontal_display_end: 0xff,
            vertical_display_end: 0xff,
            overflow: 0xff,
            maximum_scan_line: 0xff,
            start_address: 0xffff,
            cursor_location: 0xffff,
        };
        assert_eq!(text_console(&absent), None);
    }

    #[test]
    fn an_80x50_mode_has_8_line_characters() {
        let r = TextRegisters {
            maximum_scan_line: 0x47,
            ..mode3()
        };
        let t = text_console(&r).expect("text");
        assert_eq!((t.columns, t.rows, t.char_height), (80, 50, 8));
    }
}
