//! Files put into CBFS with cbfstool: how big ones are compressed, and
//! what goes in for a run.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::paths::cbfstool_path;
use crate::setup::run;

/// What to compress a CBFS file with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    None,
    Lz4,
    #[default]
    Lzma,
}

impl Compression {
    pub fn arg(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lz4 => "lz4",
            Compression::Lzma => "lzma",
        }
    }
}

/// Files smaller than this go into CBFS uncompressed.
pub const COMPRESS_FROM: u64 = 64 << 10;

/// `cbfstool ARGS...`, its stdout.
pub fn cbfstool(args: &[&std::ffi::OsStr]) -> Result<String> {
    run(Command::new(cbfstool_path()).args(args))
}

/// `cbfstool ROM add -t raw -n NAME -f FILE [-c C]`.
pub fn add_raw(rom: &Path, name: &str, file: &Path, c: Compression) -> Result<()> {
    let mut cmd = Command::new(cbfstool_path());
    cmd.arg(rom)
        .args(["add", "-t", "raw", "-n", name, "-f"])
        .arg(file);
    if c != Compression::None {
        cmd.args(["-c", c.arg()]);
    }
    run(&mut cmd).map(|_| ())
}

pub fn add_string(rom: &Path, name: &str, text: &str, scratch: &Path) -> Result<()> {
    let file = scratch.join(name.replace('/', "_"));
    std::fs::write(&file, text)?;
    add_raw(rom, name, &file, Compression::None)
}

/// What goes into CBFS for one run: baton's files scheme without fw_cfg's
/// `opt/baton/` prefix.
pub struct Contents<'a> {
    pub payload: &'a crate::payload::Payload,
    /// baton's own command line (the CBFS `config` file).
    pub config: &'a str,
    pub compression: Compression,
}
