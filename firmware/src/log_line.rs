//! baton's log macros: `error!`, `warn!`, `info!`, `debug!` as in the `log`
//! crate, through the same logger (`log::set_logger`, `log::max_level`),
//! with less at each call site. `log` 0.4's macros put a record of target,
//! module path, file and line in rodata at every line (64 bytes) and check
//! the level and fetch the logger inline; baton's console prints none of
//! that record, and these 124 lines cost 9 KB of the image that way. Here a
//! call site builds only its `format_args!` and calls one function.
//! Declared first in main.rs so that every module sees the macros.

/// Hands one line to the logger, if its level is enabled.
#[inline(never)]
pub fn emit(level: log::Level, args: core::fmt::Arguments) {
    if level <= log::max_level() {
        log::logger().log(&log::Record::builder().args(args).level(level).build());
    }
}

macro_rules! error {
    ($($arg:tt)+) => { $crate::log_line::emit(log::Level::Error, format_args!($($arg)+)) }
}
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log_line::emit(log::Level::Warn, format_args!($($arg)+)) }
}
macro_rules! info {
    ($($arg:tt)+) => { $crate::log_line::emit(log::Level::Info, format_args!($($arg)+)) }
}
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log_line::emit(log::Level::Debug, format_args!($($arg)+)) }
}
