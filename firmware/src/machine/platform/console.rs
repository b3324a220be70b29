//! The console: the `log` crate over COM1 (or the port and baud rate
//! coreboot reports), and, under coreboot, appended to the CBMEM console so
//! `cbmem -c` in the next OS shows baton's log after coreboot's. Each line
//! carries the microseconds since entry and the level. `emergency` writes
//! even when the lock is held (an exception may hit while a line is half
//! written).

use core::fmt::{self, Write};

use spin::Mutex;
use uart_16550::Uart16550;
use uart_16550::backend::PioBackend;

use baton::entry::coreboot::cbmem_console;
use payload_loader::{MemoryKind, MemoryMap};

use crate::machine::platform::tsc;

const COM1: u16 = 0x3f8;

/// The CBMEM console buffer: `{u32 size, u32 cursor, body[size]}` in
/// coreboot's reserved CBMEM.
struct Cbmem {
    header: *mut u32,
    size: usize,
}

// SAFETY: the buffer is only touched under the SERIAL lock.
unsafe impl Send for Cbmem {}

impl Cbmem {
    fn append(&mut self, bytes: &[u8]) {
        // SAFETY: checked at attach time to lie in reserved, mapped RAM.
        unsafe {
            let body = core::slice::from_raw_parts_mut(self.header.add(2).cast::<u8>(), self.size);
            let cursor = self.header.add(1);
            let next = cbmem_console::append(body, cursor.read_volatile(), bytes);
            cursor.write_volatile(next);
        }
    }
}

struct Serial(Option<Uart16550<PioBackend>>, Option<Cbmem>);

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(cbmem) = &mut self.1 {
            cbmem.append(s.as_bytes());
        }
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

static SERIAL: Mutex<Serial> = Mutex::new(Serial(None, None));

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
    SERIAL.lock().0 = uart(COM1, DEFAULT_BAUD);
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
}

const DEFAULT_BAUD: u32 = 115_200;

/// Takes the console where the firmware before baton had it: its serial
/// port, and coreboot's CBMEM console.
pub fn follow_firmware(info: &baton::entry::BootInfo) {
    if let Some(s) = info.platform.serial {
        use_serial(s.port, s.baud);
    }
    if let Some(addr) = info.platform.cbmem_console {
        attach_cbmem(addr, &info.memory_map);
    }
}

fn uart(port: u16, baud: u32) -> Option<Uart16550<PioBackend>> {
    // SAFETY: the UART's eight ports belong to the console alone.
    let mut uart = unsafe { Uart16550::new_port(port) }.ok()?;
    let config = uart_16550::Config {
        baud_rate: uart_16550::BaudRate::Custom(baud),
        ..uart_16550::Config::default()
    };
    uart.init(config).ok()?;
    Some(uart)
}

/// Moves the console to the serial port the firmware used (coreboot's
/// LB_TAG_SERIAL), if that is not already COM1 at 115200.
pub fn use_serial(port: u16, baud: u32) {
    if (port, baud) == (COM1, DEFAULT_BAUD) || baud == 0 {
        return;
    }
    match uart(port, baud) {
        Some(u) => {
            SERIAL.lock().0 = Some(u);
            info!("console moved to serial port {port:#x} at {baud} baud");
        }
        None => warn!(
            "console: serial port {port:#x} at {baud} baud does not initialise; staying on COM1"
        ),
    }
}

/// Appends the log from now on to coreboot's CBMEM console at `addr`, if
/// its header is sane and the whole buffer lies in reserved RAM of `map`.
pub fn attach_cbmem(addr: u64, map: &MemoryMap) {
    let reserved = |k| k == MemoryKind::Reserved;
    let header = match addr.checked_add(8) {
        Some(_) if map.covers(addr, 8, reserved) => addr as *mut u32,
        _ => {
            warn!("CBMEM console at {addr:#x} is not in reserved RAM: not used");
            return;
        }
    };
    // SAFETY: 8 bytes of reserved RAM (checked above), identity-mapped.
    let size = unsafe { header.read_volatile() };
    if size == 0 || size > cbmem_console::MAX_SIZE || !map.covers(addr + 8, size.into(), reserved) {
        warn!("CBMEM console at {addr:#x}: size {size} does not fit reserved RAM: not used");
        return;
    }
    SERIAL.lock().1 = Some(Cbmem {
        header,
        size: size as usize,
    });
    info!("CBMEM console at {addr:#x} ({size} bytes): baton's log is appended there too");
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
