//! One run a scenario row expands into: the machine it boots, the build
//! it runs on and what its verdict looks for.

use crate::firmware::Variant;
use crate::machine::{Machine, Outcome};
use crate::payload::Spec;

/// One QEMU run to make. In an expected log line `{smp}` stands for the
/// run's CPU count and `{aps}` for its APs (the CPU count minus one).
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub machine: Machine,
    pub expect: Outcome,
    pub log: Vec<String>,
    pub absent: Vec<String>,
    /// Resolved into `machine.payload` just before the runs.
    pub payload: Spec,
    /// The firmware build it runs on; on a `Negative` one (a negative
    /// control) it passes only if the run fails as `negative` names.
    pub variant: Variant,
    pub negative: Negative,
}

/// How a negative control must fail on its negative-control build.
#[derive(Clone, Debug, Default)]
pub struct Negative {
    pub expect: Vec<Outcome>,
    pub log: Vec<String>,
}
