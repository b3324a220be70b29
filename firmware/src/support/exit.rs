//! Codes written to QEMU's isa-debug-exit port. QEMU exits with status
//! `(code << 1) | 1`, so no code can be confused with QEMU's own 0 (which
//! is also what a triple fault under `-no-reboot` gives).

/// The I/O port the harness puts isa-debug-exit at.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// How a run ends, as reported through QEMU's isa-debug-exit device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Everything that was asked was done.
    Success = 0x10,
    /// baton refused to go on and said why (bad input, policy).
    Error = 0x11,
    /// A Rust panic.
    Panic = 0x12,
    /// A CPU exception baton did not expect.
    Exception = 0x13,
}

impl ExitCode {
    /// Every code.
    pub const ALL: [Self; 4] = [Self::Success, Self::Error, Self::Panic, Self::Exception];

    /// The exit status of the QEMU process.
    pub fn qemu_status(self) -> i32 {
        ((self as i32) << 1) | 1
    }

    /// The code QEMU's exit status `status` means, if it is one of baton's.
    pub fn from_qemu_status(status: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.qemu_status() == status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip() {
        for c in ExitCode::ALL {
            assert_eq!(ExitCode::from_qemu_status(c.qemu_status()), Some(c));
        }
        assert_eq!(ExitCode::Success.qemu_status(), 33);
        assert_eq!(ExitCode::from_qemu_status(0), None);
    }
}
