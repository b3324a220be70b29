//! COM1, polled 16550 writes: nothing to set up that could fail.

use core::fmt::{self, Write};

use x86_64::instructions::port::Port;

const COM1: u16 = 0x3f8;
const LSR: u16 = 5;
const LSR_THR_EMPTY: u8 = 1 << 5;
/// Bounded wait per byte: a missing UART must not hang the probe.
const SPIN_LIMIT: u32 = 100_000;

pub struct Serial;

impl Serial {
    pub fn init() {
        let regs = [
            (1, 0x00),
            (3, 0x80),
            (0, 0x01),
            (1, 0x00),
            (3, 0x03),
            (2, 0xc7),
            (4, 0x03),
        ];
        for (reg, value) in regs {
            // SAFETY: COM1's registers; 115200 8N1, FIFO on, interrupts off.
            unsafe { Port::<u8>::new(COM1 + reg).write(value) };
        }
    }

    fn byte(b: u8) {
        let mut lsr = Port::<u8>::new(COM1 + LSR);
        for _ in 0..SPIN_LIMIT {
            // SAFETY: reading the line status register has no side effects.
            if unsafe { lsr.read() } & LSR_THR_EMPTY != 0 {
                break;
            }
        }
        // SAFETY: COM1's transmit register.
        unsafe { Port::<u8>::new(COM1).write(b) };
    }
}

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                Self::byte(b'\r');
            }
            Self::byte(b);
        }
        Ok(())
    }
}

pub fn print(args: fmt::Arguments<'_>) {
    let _ = Serial.write_fmt(args);
}

/// `say!("...")` prints one `probe: ...` line.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::print(format_args!("probe: {}\n", format_args!($($arg)*)))
    };
}
