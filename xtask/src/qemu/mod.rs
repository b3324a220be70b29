//! The QEMU harness: one boot of baton under a given machine shape, its
//! serial log captured to a file, and a verdict on how it ended.
//!
//! How an end is told apart: baton reports through isa-debug-exit, so QEMU
//! exits with `(code << 1) | 1` (pass, error, panic, exception). A triple
//! fault under `-no-reboot` makes QEMU exit 0, which is why no pass is ever
//! 0; QEMU's `-d cpu_reset` log names the triple fault. A run that has not
//! ended by its timeout is a hang.
//!
//! `boot.rs` is one boot, `command.rs` makes QEMU's command line,
//! `watch.rs` runs it to its end, `screen.rs` reads the screen and the
//! CPUs through the monitor, and `interactive.rs` is `cargo xtask run`.

mod boot;
mod command;
mod interactive;
mod screen;
mod watch;

pub use boot::{add_needs, boot};
pub use interactive::run_interactive;

#[cfg(test)]
mod tests {
    #[test]
    fn verdicts_say_what_the_end_means() {
        use crate::machine::{Outcome, verdict};
        let pf = "baton: EXCEPTION vector 14 (#PF page fault) error code 0x0";
        assert_eq!(
            verdict(Outcome::Exception, pf, Some(Outcome::Exception)),
            "pass (expected exception #PF)"
        );
        assert_eq!(verdict(Outcome::Exception, pf, None), "exception #PF");
        assert_eq!(
            verdict(Outcome::Shutdown, "baton-linux-init: cpus=4", None),
            "pass (Linux reached init)"
        );
        assert_eq!(verdict(Outcome::KernelPass, "", None), "pass (probe)");
        assert_eq!(
            verdict(Outcome::Hang, "", Some(Outcome::Hang)),
            "pass (expected hang)"
        );
        assert_eq!(verdict(Outcome::Panic, "", Some(Outcome::Pass)), "panic");
    }
}
