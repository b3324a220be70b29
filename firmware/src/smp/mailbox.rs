//! How the BSP commands a parked AP. Each AP owns a `Mailbox` of three
//! cache lines: the control word alone on the first (the line the AP
//! MONITORs, so only a new command wakes it, Linux's `mwait_cpu_dead`
//! layout), the request on the second (written by the BSP before the
//! control word), the response on the third (written by the AP).
//!
//! The control word is `sequence << 8 | command`. One command is in flight
//! per mailbox: the BSP posts, the AP runs it and stores the sequence in
//! `done` after its results (release), the BSP collects.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Work an AP runs on request: it gets its slot and the argument posted,
/// and answers with four words.
pub type Job = fn(slot: usize, arg: u64) -> [u64; 4];

/// What the BSP asks of a parked AP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Command {
    /// Run the posted job.
    Run = 1,
    /// Stop for the handoff (the AP never answers: it clears its bit in the
    /// stop mask instead).
    Stop = 2,
}

const COMMAND_BITS: u32 = 8;

#[repr(C, align(64))]
#[derive(Default)]
struct ControlLine {
    word: AtomicU64,
}

#[repr(C, align(64))]
#[derive(Default)]
struct RequestLine {
    job: AtomicUsize,
    arg: AtomicU64,
}

#[repr(C, align(64))]
#[derive(Default)]
struct ResponseLine {
    done: AtomicU64,
    result: [AtomicU64; 4],
}

/// An AP's mailbox: the control word alone on its cache line (the one the AP
/// MONITORs), the request and the response on their own.
#[repr(C)]
#[derive(Default)]
pub struct Mailbox {
    control: ControlLine,
    request: RequestLine,
    response: ResponseLine,
}

/// A posted command, to collect its answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(u64);

/// What an AP finds in its mailbox.
#[derive(Clone, Copy, Debug)]
pub struct Order {
    /// The command's sequence number (its answer carries it).
    pub sequence: u64,
    /// What to do.
    pub command: Command,
    job: usize,
    /// The job's argument.
    pub arg: u64,
}

/// Why a command could not be posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailboxError {
    /// The previous command has not been answered yet.
    Busy {
        /// The unanswered command's sequence number.
        sequence: u64,
    },
}

impl core::fmt::Display for MailboxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Busy { sequence } => {
                write!(f, "command {sequence} is still unanswered")
            }
        }
    }
}

impl Mailbox {
    /// The word a parked AP watches (its address is what it MONITORs).
    pub fn control_word(&self) -> &AtomicU64 {
        &self.control.word
    }

    // ---- BSP side ----

    /// Posts `job(slot, arg)`. The caller then wakes the AP (the store
    /// itself wakes MWAIT; a HLT-parked AP needs its wake IPI).
    pub fn post(&self, job: Job, arg: u64) -> Result<Ticket, MailboxError> {
        let last = self.control.word.load(Ordering::Acquire) >> COMMAND_BITS;
        if self.response.done.load(Ordering::Acquire) != last {
            return Err(MailboxError::Busy { sequence: last });
        }
        let sequence = last + 1;
        self.request.job.store(job as usize, Ordering::Relaxed);
        self.request.arg.store(arg, Ordering::Relaxed);
        self.control.word.store(
            sequence << COMMAND_BITS | Command::Run as u64,
            Ordering::Release,
        );
        Ok(Ticket(sequence))
    }

    /// Posts the stop request, whatever is in flight: a stop overrides.
    pub fn post_stop(&self) {
        let last = self.control.word.load(Ordering::Acquire) >> COMMAND_BITS;
        self.control.word.store(
            (last + 1) << COMMAND_BITS | Command::Stop as u64,
            Ordering::Release,
        );
    }

    /// The answer to `ticket`, once the AP has given it.
    pub fn answer(&self, ticket: Ticket) -> Option<[u64; 4]> {
        if self.response.done.load(Ordering::Acquire) != ticket.0 {
            return None;
        }
        Some(
            self.response
                .result
                .each_ref()
                .map(|r| r.load(Ordering::Relaxed)),
        )
    }

    // ---- AP side ----

    /// A command newer than the last one answered, if any.
    pub fn pending(&self) -> Option<Order> {
        let word = self.control.word.load(Ordering::Acquire);
        let sequence = word >> COMMAND_BITS;
        if sequence == self.response.done.load(Ordering::Relaxed) {
            return None;
        }
        let command = match word as u8 {
            1 => Command::Run,
            2 => Command::Stop,
            _ => return None,
        };
        Some(Order {
            sequence,
            command,
            job: self.request.job.load(Ordering::Relaxed),
            arg: self.request.arg.load(Ordering::Relaxed),
        })
    }

    /// Runs `order` for `slot` and publishes the answer.
    pub fn serve(&self, slot: usize, order: Order) {
        let result = match order.command {
            Command::Run if order.job != 0 => {
                // SAFETY: `job` was stored from a `Job` by `post`.
                let job: Job = unsafe { core::mem::transmute::<usize, Job>(order.job) };
                job(slot, order.arg)
            }
            Command::Run | Command::Stop => [0; 4],
        };
        for (cell, value) in self.response.result.iter().zip(result) {
            cell.store(value, Ordering::Relaxed);
        }
        self.response.done.store(order.sequence, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn the_control_word_is_alone_on_its_line() {
        let m = Mailbox::default();
        let base = &m as *const Mailbox as usize;
        assert_eq!(core::mem::align_of::<Mailbox>(), 64);
        assert_eq!(m.control_word() as *const _ as usize, base);
        assert_eq!(&m.request as *const _ as usize - base, 64);
        assert_eq!(&m.response as *const _ as usize - base, 128);
        assert_eq!(core::mem::size_of::<Mailbox>(), 192);
    }

    fn echo(slot: usize, arg: u64) -> [u64; 4] {
        [slot as u64, arg, arg * 2, 7]
    }

    #[test]
    fn post_serve_answer_in_one_thread() {
        let m = Mailbox::default();
        assert!(m.pending().is_none());
        let t = m.post(echo, 21).unwrap();
        assert_eq!(m.answer(t), None);
        assert_eq!(m.post(echo, 1), Err(MailboxError::Busy { sequence: 1 }));
        let order = m.pending().unwrap();
        assert_eq!(
            (order.sequence, order.command, order.arg),
            (1, Command::Run, 21)
        );
        m.serve(3, order);
        assert!(m.pending().is_none());
        assert_eq!(m.answer(t), Some([3, 21, 42, 7]));
        let t2 = m.post(echo, 5).unwrap();
        assert_ne!(t, t2);
        assert_eq!(m.answer(t2), None);
    }

    #[test]
    fn a_stop_overrides_a_pending_command() {
        let m = Mailbox::default();
        m.post(echo, 1).unwrap();
        m.post_stop();
        let order = m.pending().unwrap();
        assert_eq!((order.sequence, order.command), (2, Command::Stop));
    }

    #[test]
    fn many_commands_to_many_cpu_threads() {
        const CPUS: usize = 6;
        let boxes: Arc<Vec<Mailbox>> = Arc::new((0..CPUS).map(|_| Mailbox::default()).collect());
        let quit = Arc::new(AtomicBool::new(false));
        let aps: Vec<_> = (0..CPUS)
            .map(|slot| {
                let (boxes, quit) = (boxes.clone(), quit.clone());
                std::thread::spawn(move || {
                    while !quit.load(Ordering::Acquire) {
                        match boxes[slot].pending() {
                            Some(order) => boxes[slot].serve(slot, order),
                            None => std::thread::yield_now(),
                        }
                    }
                })
            })
            .collect();
        for round in 0..200u64 {
            let tickets: Vec<_> = boxes.iter().map(|b| b.post(echo, round).unwrap()).collect();
            for (slot, (b, t)) in boxes.iter().zip(tickets).enumerate() {
                let answer = loop {
                    if let Some(a) = b.answer(t) {
                        break a;
                    }
                    std::thread::yield_now();
                };
                assert_eq!(answer, [slot as u64, round, round * 2, 7]);
            }
        }
        quit.store(true, Ordering::Release);
        aps.into_iter().for_each(|t| t.join().unwrap());
    }
}
