//! `probe.trap=START-END`: a tripwire for a CPU the loader left in its own
//! memory. The harness names the loader's old park loop (where the
//! unsafe build's APs wait in MWAIT on their old control lines). The probe
//! puts a stub right after the loop's MWAIT, where such an AP resumes when
//! a store hits its monitored line, and leaves the loop out of its
//! overwrite of all memory. The stub pushes [`MARKER`] onto the CPU's stack
//! again and again: stores through the TLB entry the CPU already holds for
//! its stack, so they land even where the overwrite has hit the loader's
//! page tables, and the last of them lands after the overwrite passed the
//! stack. The probe's verify then finds the marker in memory it overwrote
//! (memory.rs): an AP woke by the kernel's write and ran. A loader that
//! INITs its APs leaves no CPU to run it.

use core::arch::asm;

use crate::entry::MAPPED_END;
use crate::{fail, say};

/// What the stub leaves on its stack (`push imm32`: positive, so the
/// 64-bit word is this).
pub const MARKER: u64 = 0x0bad_a9ed;
/// `push 0x0bada9ed`, `add rsp, 8`, `jmp` back to the push.
const STUB: [u8; 11] = [
    0x68, 0xed, 0xa9, 0xad, 0x0b, 0x48, 0x83, 0xc4, 0x08, 0xeb, 0xf5,
];
const MWAIT: [u8; 3] = [0x0f, 0x01, 0xc9];

pub struct Trap {
    pub start: u64,
    pub end: u64,
}

impl Trap {
    /// Where the stub goes: right after the loop's MWAIT.
    fn resume(&self) -> u64 {
        let found = (self.start..self.end.saturating_sub(2)).find(|&at| {
            // SAFETY: the range was checked to be mapped (install).
            MWAIT.iter().enumerate().all(
                |(i, &b)| unsafe { core::ptr::read_volatile((at + i as u64) as *const u8) } == b,
            )
        });
        match found {
            Some(at) => at + MWAIT.len() as u64,
            None => fail!(
                "probe.trap [{:#x}..{:#x}) holds no MWAIT (0f 01 c9): not the loader's park loop",
                self.start,
                self.end
            ),
        }
    }

    /// What the overwrite must spare: the loop and the stub.
    pub fn range(&self) -> (u64, u64) {
        (self.start, self.end.max(self.resume() + STUB.len() as u64))
    }

    /// Lays the stub after checking that the range is mapped and clear of
    /// the probe's image. The loop jumps back over the stub's place until
    /// its first two bytes are written, in one store, last: an AP running
    /// the loop meanwhile sees the old loop or the whole stub.
    pub fn install(&self, image: (u64, u64)) {
        let (start, end) = (self.start, self.end + STUB.len() as u64);
        if end > MAPPED_END || start < 0x1000 {
            fail!(
                "probe.trap [{start:#x}..{end:#x}) is not a range the probe maps (0x1000 to {MAPPED_END:#x})"
            );
        }
        if start < image.1 && image.0 < end {
            fail!(
                "probe.trap [{start:#x}..{end:#x}) overlaps the probe's image [{:#x}..{:#x})",
                image.0,
                image.1
            );
        }
        let at = self.resume();
        let head = u16::from_le_bytes([STUB[0], STUB[1]]);
        // SAFETY: checked above: identity-mapped RAM outside the probe's
        // image, which the loader handed over (the harness names memory of
        // the loader's own image); nothing of the probe's lives there.
        unsafe {
            for (i, b) in STUB.iter().enumerate().skip(2) {
                core::ptr::write_volatile((at + i as u64) as *mut u8, *b);
            }
            asm!("mov word ptr [{p}], {v:x}", p = in(reg) at, v = in(reg) head, options(nostack));
        }
        say!(
            "trap: a stub after the MWAIT at {:#x} of [{:#x}..{:#x}) pushes {MARKER:#x} on its CPU's stack",
            at - MWAIT.len() as u64,
            self.start,
            self.end
        );
    }
}
