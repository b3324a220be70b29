//! What a kernel's header asks of the screen (Multiboot2 framebuffer tag, Multiboot1 video
//! fields), answered with the screen there is: baton sets no modes.

use alloc::boxed::Box;

use crate::display::Screen;
use crate::error::{Error, Result};

/// What a kernel's header asks of the screen (Multiboot2 framebuffer tag, Multiboot1 video
/// fields). Zero means "no preference".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeRequest {
    /// Which header asked ("Multiboot2 framebuffer tag", ...), for the error.
    pub source: &'static str,
    /// Graphics (true) or EGA text (false).
    pub graphics: bool,
    /// Width in pixels (characters for text).
    pub width: u32,
    /// Height in pixels (lines for text).
    pub height: u32,
    /// Bits per pixel (0 for text).
    pub depth: u32,
    /// How much of it the kernel insists on.
    pub need: ModeNeed,
}

/// How much of a [`ModeRequest`] a kernel insists on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeNeed {
    /// Only a preference (a Multiboot2 framebuffer tag flagged optional): whatever exists.
    Preference,
    /// Some screen must be described; the mode named is a preference (Multiboot1 flag 2,
    /// whose fields the specification calls recommended).
    AnyScreen,
    /// This kind of mode, at this size and depth where not 0 (a required Multiboot2
    /// framebuffer tag).
    ThisMode,
}

impl ModeRequest {
    /// Answers the request with the screen there is. baton sets no modes: an optional
    /// request is met by whatever exists; a required one fails when there is no screen, or
    /// when it names a kind, size or depth other than the one set up.
    pub fn check(&self, display: Option<&Screen>) -> Result<()> {
        let wanted = |have: u32, want: u32| want == 0 || want == have;
        let met = match (self.need, display) {
            (ModeNeed::Preference, _) => true,
            (_, None) => false,
            (ModeNeed::AnyScreen, Some(_)) => true,
            (ModeNeed::ThisMode, Some(d)) => {
                let (width, height, depth) = d.mode();
                let graphics = matches!(d, Screen::Linear(_));
                graphics == self.graphics
                    && wanted(width, self.width)
                    && wanted(height, self.height)
                    && (!graphics || wanted(depth, self.depth))
            }
        };
        if met {
            return Ok(());
        }
        Err(Box::new(Error::VideoModeUnavailable {
            source: self.source,
            graphics: self.graphics,
            width: self.width,
            height: self.height,
            depth: self.depth,
            available: display.copied(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::display::tests::{coreboot_fb, text};

    fn request(graphics: bool, width: u32, height: u32, depth: u32, required: bool) -> ModeRequest {
        ModeRequest {
            source: "Multiboot2 framebuffer tag",
            graphics,
            width,
            height,
            depth,
            need: if required {
                ModeNeed::ThisMode
            } else {
                ModeNeed::Preference
            },
        }
    }

    #[test]
    fn a_multiboot1_video_request_needs_a_screen_not_its_mode() {
        let mb1 = ModeRequest {
            source: "Multiboot1 video fields",
            graphics: false,
            width: 132,
            height: 43,
            depth: 0,
            need: ModeNeed::AnyScreen,
        };
        assert!(mb1.check(Some(&coreboot_fb())).is_ok());
        assert!(mb1.check(Some(&text())).is_ok());
        let e = mb1.check(None).unwrap_err().to_string();
        assert!(e.contains("Multiboot1 video fields"), "{e}");
    }

    #[test]
    fn an_optional_request_takes_what_exists() {
        for display in [None, Some(coreboot_fb()), Some(text())] {
            assert!(
                request(true, 1024, 768, 32, false)
                    .check(display.as_ref())
                    .is_ok()
            );
        }
    }

    #[test]
    fn a_required_request_is_met_by_the_mode_set_up_or_by_no_preference() {
        let fb = coreboot_fb();
        assert!(request(true, 0, 0, 0, true).check(Some(&fb)).is_ok());
        assert!(request(true, 800, 600, 32, true).check(Some(&fb)).is_ok());
        assert!(request(false, 80, 25, 0, true).check(Some(&text())).is_ok());
    }

    #[test]
    fn a_required_request_that_cannot_be_met_names_both_modes() {
        let e = request(true, 1024, 768, 32, true)
            .check(Some(&coreboot_fb()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("1024x768"), "{e}");
        assert!(e.contains("800x600"), "{e}");
        let e = request(true, 0, 0, 0, true)
            .check(Some(&text()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("VGA text"), "{e}");
        let e = request(true, 0, 0, 0, true)
            .check(None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no screen"), "{e}");
    }
}
