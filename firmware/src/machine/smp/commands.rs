//! The BSP's commands to parked APs: a job posted to an AP's mailbox, the
//! wake that makes it look, the answer it leaves, and the roll call that
//! asks every AP who it is. Bring-up is `mod.rs`; the AP's side is
//! `park.rs`.

use alloc::vec::Vec;

use baton::smp::apic::Ipi;
use baton::smp::mailbox::{Job, MailboxError, Ticket};

use super::cpus::{Ap, Cpus, WaitMode};
use super::{ApError, check_identity, deadline_after_ms, park};
use crate::machine::platform::lapic::WAKE_VECTOR;
use crate::machine::platform::tsc;

impl Cpus {
    /// Posts `job` to the AP in `slot` and wakes it.
    fn post(&self, slot: usize, job: Job, arg: u64) -> Result<Ticket, MailboxError> {
        let ticket = self.mailboxes[slot].post(job, arg)?;
        self.wake(slot);
        Ok(ticket)
    }

    /// After a store to its control word: a HLT-parked AP needs its wake
    /// IPI (an MWAIT-parked one woke on the store).
    pub fn wake(&self, slot: usize) {
        self.wake_all(&[slot]);
    }

    /// `wake` for each of `slots`, in one round of IPIs.
    pub fn wake_all(&self, slots: &[usize]) {
        if self.wait_mode == WaitMode::Hlt {
            self.send_round(
                slots,
                Ipi::Fixed {
                    vector: WAKE_VECTOR,
                },
            );
        }
    }

    /// The answer to `ticket` from the AP in `slot`, waited for until `deadline`.
    fn answer(&self, slot: usize, ticket: Ticket, deadline: u64) -> Result<[u64; 4], ApError> {
        loop {
            if let Some(a) = self.mailboxes[slot].answer(ticket) {
                return Ok(a);
            }
            if tsc::now() > deadline {
                return Err(ApError::NoAnswer {
                    timeout_ms: self.timeout_ms,
                });
            }
            core::hint::spin_loop();
        }
    }

    /// Runs `job(slot, arg)` on each online AP at once; one answer per
    /// online AP, in slot order, or why there is none.
    pub fn run_on_all(&self, job: Job, arg: u64) -> Vec<(usize, Result<[u64; 4], ApError>)> {
        // Loops of pushes, not `collect`s (measured: -256 bytes).
        let mut posted = Vec::new();
        for slot in self.online.slots() {
            posted.push((slot, self.post(slot, job, arg)));
        }
        let deadline = deadline_after_ms(self.timeout_ms);
        let mut answers = Vec::with_capacity(posted.len());
        for (slot, ticket) in posted {
            let answer = ticket
                .map_err(ApError::Mailbox)
                .and_then(|t| self.answer(slot, t, deadline));
            answers.push((slot, answer));
        }
        answers
    }

    /// Runs `job(slot, arg)` on the AP in `slot` alone and waits for it.
    pub fn run_on(&self, slot: usize, job: Job, arg: u64) -> Result<[u64; 4], ApError> {
        let ticket = self.post(slot, job, arg).map_err(ApError::Mailbox)?;
        self.answer(slot, ticket, deadline_after_ms(self.timeout_ms))
    }

    /// Asks every online AP who it is, all at once and then one at a
    /// time, and checks each answer: its own APIC ID, its own stack.
    pub fn roll_call(&self) {
        let mut good = 0;
        for (slot, answer) in self.run_on_all(park::identify, 0) {
            let ap = &self.aps[slot];
            match answer.and_then(|a| check_answer(ap, a)) {
                Ok(()) => good += 1,
                Err(e) => e.report(ap, slot),
            }
        }
        let mut alone = 0;
        for slot in self.online.slots() {
            let ap = &self.aps[slot];
            let arg = 0x5a5a_0000 | slot as u64;
            match self.run_on(slot, park::echo, arg) {
                Ok([s, id, a, _])
                    if s == slot as u64 && id == u64::from(ap.apic_id) && a == arg =>
                {
                    alone += 1
                }
                Ok(other) => error!(
                    "AP APIC ID {:#x} (slot {slot}) answered a command for it alone with {}",
                    ap.apic_id,
                    baton::support::quote::HexList(&other)
                ),
                Err(e) => e.report(ap, slot),
            }
        }
        let online = self.online.count();
        info!(
            "baton: roll call answered={}/{online} (all at once {good}, one at a time {alone})",
            good.min(alone)
        );
    }
}

/// Checks `park::identify`'s answer against what baton knows of the AP.
fn check_answer(ap: &Ap, [apic_id, leaf1_ab, rsp, leaf1_cd]: [u64; 4]) -> Result<(), ApError> {
    debug!(
        "  AP {:#x}: CPUID.1 eax={:#x} ebx={:#x} ecx={:#x} edx={:#x}, rsp={rsp:#x}",
        apic_id,
        leaf1_ab as u32,
        leaf1_ab >> 32,
        leaf1_cd as u32,
        leaf1_cd >> 32
    );
    check_identity(ap, apic_id, rsp)
}
