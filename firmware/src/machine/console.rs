//! The console: the `log` crate over COM1. Each line carries the
//! microseconds since entry and the level. `emergency` writes even when the
//! lock is held (an exception may hit while a line is half written).

use core::fmt::{self, Write};

use spin::Mutex;
use uart_16550::Uart16550;
use uart_16550::backend::PioBackend;

use super::tsc;

const COM1: u16 = 0x3f8;

struct Serial(Option<Uart16550<PioBackend>>);

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(uart) = &mut self.0 {
            for line in s.split_inclusive('\n') {
                match line.strip_suffix('\n') {
                    Some(text) => {
                        uart.send_bytes_exact(text.as_bytes());
                        uart.send_bytes_exact(b"\r\n");
                    }
                    None => uart.send_bytes_exact(line.as_bytes()),
                }
            }
        }
        Ok(())
    }
}

static SERIAL: Mutex<Serial> = Mutex::new(Serial(None));

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let us = tsc::micros_since_entry();
            let mut serial = SERIAL.lock();
            let _ = writeln!(
                serial,
                "[{us:>9}us {:<5}] {}",
                record.level(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Brings up COM1 (without the loopback self-test, which real boards with
/// a disconnected line fail) and installs the logger at level info.
pub fn init() {
    // SAFETY: COM1's eight ports belong to the console alone.
    let uart = unsafe { Uart16550::new_port(COM1) }
        .ok()
        .and_then(|mut uart| {
            uart.init(uart_16550::Config::default()).ok()?;
            Some(uart)
        });
    SERIAL.lock().0 = uart;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
}

/// Waits (boundedly) until the UART has sent every byte: before QEMU is
/// told to exit, or the last line is lost.
pub fn flush() {
    let mut serial = SERIAL.lock();
    if let Some(uart) = &mut serial.0 {
        for _ in 0..100_000 {
            if uart
                .lsr()
                .contains(uart_16550::spec::registers::LSR::TRANSMITTER_EMPTY)
            {
                break;
            }
            core::hint::spin_loop();
        }
    }
}

/// Writes without waiting for the lock: for exception and panic reports.
pub fn emergency(args: fmt::Arguments) {
    if SERIAL.is_locked() {
        // SAFETY: we are the only code still running on this CPU; the holder
        // was interrupted and will not finish its line.
        unsafe { SERIAL.force_unlock() };
    }
    let _ = SERIAL.lock().write_fmt(args);
}
