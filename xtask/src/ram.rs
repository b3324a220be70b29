//! Guest RAM of any size QEMU accepts, whatever the host has: above a
//! threshold the guest's memory is a sparse file under `target/` (a guest
//! that touches little of it costs little disk), removed after the run; and
//! where the size needs more physical address bits than QEMU's default 40,
//! the CPU model gets `phys-bits`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

const GIB: u64 = 1 << 30;
/// Guest RAM above this is a sparse file: beyond what a shared 24 GiB host
/// can lend a QEMU process outright, and far beyond what any row touches.
const SPARSE_ABOVE: u64 = 8 * GIB;
/// QEMU's default physical address width for its CPU models under TCG.
const DEFAULT_PHYS_BITS: u32 = 40;
/// The most QEMU's TCG offers (and what 4-level paging reaches).
const MAX_PHYS_BITS: u32 = 48;

/// `-m`'s size: a number with an optional K, M, G or T suffix (QEMU reads a
/// bare number as MiB).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "M"),
    };
    let shift = match unit.to_ascii_uppercase().trim_end_matches('B') {
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => bail!("memory size {text:?}: the unit must be K, M, G or T"),
    };
    let n: u64 = digits
        .parse()
        .with_context(|| format!("memory size {text:?} is not a number with a unit"))?;
    n.checked_mul(1 << shift)
        .with_context(|| format!("memory size {text:?} is too large"))
}

/// The physical address bits a guest of `size` bytes of RAM needs on q35 or
/// pc: RAM above 4 GiB, then QEMU's 64-bit PCI window and its reserved range
/// below 1 TiB (QEMU refuses 1 TiB at 40 bits: `Address space limit
/// 0xffffffffff < 0x2077fffffff`). Doubling the size covers both.
pub fn phys_bits_for(size: u64) -> u32 {
    let top = size.saturating_mul(2).saturating_add(64 * GIB);
    let bits = 64 - (top - 1).leading_zeros();
    bits.clamp(DEFAULT_PHYS_BITS, MAX_PHYS_BITS)
}

/// The QEMU arguments for the guest's RAM. Keep it until QEMU has exited:
/// dropping it removes the sparse file.
pub struct GuestRam {
    /// Appended to `-machine`'s value (`,memory-backend=...`).
    pub machine_options: String,
    /// More QEMU arguments (the memory-backend object).
    pub args: Vec<String>,
    /// `phys-bits` for the CPU model where the default is too few.
    pub phys_bits: Option<u32>,
    /// What xtask did, for the run's output.
    pub notes: Vec<String>,
    file: Option<PathBuf>,
}

impl GuestRam {
    /// Plans `-m memory`; a sparse file goes into `dir`.
    pub fn plan(memory: &str, dir: &Path) -> Result<Self> {
        let size = parse_size(memory)?;
        let mut ram = GuestRam {
            machine_options: String::new(),
            args: Vec::new(),
            phys_bits: None,
            notes: Vec::new(),
            file: None,
        };
        let bits = phys_bits_for(size);
        if bits > DEFAULT_PHYS_BITS {
            ram.phys_bits = Some(bits);
            ram.notes.push(format!(
                "{memory} of RAM needs more than {DEFAULT_PHYS_BITS} physical address bits: the CPU gets phys-bits={bits}"
            ));
        }
        if size > SPARSE_ABOVE {
            std::fs::create_dir_all(dir)?;
            // One file a run: runs of one xtask may go in parallel.
            static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let file = dir.join(format!("guest-ram-{}-{run}.img", std::process::id()));
            let f = std::fs::File::create(&file)
                .with_context(|| format!("creating {}", file.display()))?;
            f.set_len(size)
                .with_context(|| format!("sizing {} to {memory}", file.display()))?;
            ram.machine_options = ",memory-backend=baton-ram".into();
            ram.args = vec![
                "-object".into(),
                format!(
                    "memory-backend-file,id=baton-ram,size={size},mem-path={},share=on",
                    file.display()
                ),
            ];
            ram.notes.push(format!(
                "{memory} of guest RAM is the sparse file {} (removed after the run)",
                file.display()
            ));
            ram.file = Some(file);
        }
        Ok(ram)
    }

    /// `cpu` with `phys-bits` added where this RAM needs it (and the model
    /// does not set it already).
    pub fn cpu_model(&self, cpu: &str) -> String {
        match self.phys_bits {
            Some(bits) if !cpu.contains("phys-bits") => format!("{cpu},phys-bits={bits}"),
            _ => cpu.to_string(),
        }
    }

    /// The disk the sparse file takes now (what the guest touched).
    pub fn file_usage(&self) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(self.file.as_ref()?).ok()?;
        Some(meta.blocks() * 512)
    }
}

impl Drop for GuestRam {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// `qemu_args` with `phys-bits` added to the last `-cpu` among them (the
/// one QEMU takes).
pub fn with_phys_bits(qemu_args: &[String], ram: &GuestRam) -> Vec<String> {
    let mut args = qemu_args.to_vec();
    if let Some(i) = args.iter().rposition(|a| a == "-cpu")
        && let Some(value) = args.get_mut(i + 1)
    {
        *value = ram.cpu_model(value);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_qemu() {
        assert_eq!(parse_size("512").unwrap(), 512 << 20);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("6G").unwrap(), 6 << 30);
        assert_eq!(parse_size("1T").unwrap(), 1 << 40);
        assert_eq!(parse_size("64g").unwrap(), 64 << 30);
        assert!(parse_size("1X").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn phys_bits_rise_only_where_qemu_needs_them() {
        assert_eq!(phys_bits_for(512 << 20), 40);
        assert_eq!(phys_bits_for(64 << 30), 40);
        assert_eq!(phys_bits_for(600 << 30), 41);
        // QEMU refuses 1 TiB at 40 bits (its limit 0x2077fffffff needs 42).
        assert_eq!(phys_bits_for(1 << 40), 42);
        assert_eq!(phys_bits_for(u64::MAX), 48);
    }

    #[test]
    fn large_ram_is_a_sparse_file_removed_afterwards() {
        let dir = std::env::temp_dir().join(format!("baton-ram-test-{}", std::process::id()));
        let ram = GuestRam::plan("64G", &dir).unwrap();
        let file = ram.file.clone().unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 64 << 30);
        assert!(ram.file_usage().unwrap() < 1 << 20);
        assert_eq!(ram.machine_options, ",memory-backend=baton-ram");
        assert!(ram.args[1].contains("size=68719476736"), "{:?}", ram.args);
        drop(ram);
        assert!(!file.exists());
        let small = GuestRam::plan("512M", &dir).unwrap();
        assert!(small.args.is_empty() && small.file.is_none() && small.phys_bits.is_none());
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn phys_bits_go_to_the_cpu_qemu_takes() {
        let dir = std::env::temp_dir();
        let mut ram = GuestRam::plan("1G", &dir).unwrap();
        ram.phys_bits = Some(42);
        assert_eq!(ram.cpu_model("qemu64"), "qemu64,phys-bits=42");
        assert_eq!(ram.cpu_model("max,phys-bits=46"), "max,phys-bits=46");
        let args: Vec<String> = ["-cpu", "max", "-smp", "2"].map(String::from).to_vec();
        assert_eq!(with_phys_bits(&args, &ram)[1], "max,phys-bits=42");
    }
}
