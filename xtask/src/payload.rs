//! What a run hands baton to boot: a kernel, an initrd, its command line
//! and boot modules, given to QEMU as fw_cfg files in baton's scheme
//! (`opt/baton/kernel`, `opt/baton/initrd`, `opt/baton/cmdline`,
//! `opt/baton/module/N`, `opt/baton/module/N/cmdline`; see
//! `firmware/src/fwcfg.rs`). With `direct`, QEMU boots the kernel itself
//! (`-kernel`/`-initrd`/`-append`, no baton): the reference runs.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use baton::source::fwcfg;

use crate::kernels::Check;
use crate::probe::Flavour;

/// As written on the command line or in a scenario row: names or paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spec {
    /// A named kernel (`linux`, ...) or a file.
    pub kernel: Option<String>,
    pub initrd: Option<String>,
    pub cmdline: Option<String>,
    /// `PATH` or `PATH=CMDLINE`, in the order handed to the kernel.
    pub modules: Vec<String>,
    pub direct: bool,
}

/// Resolved: files that exist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payload {
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub cmdline: Option<String>,
    pub modules: Vec<(PathBuf, Option<String>)>,
    pub direct: bool,
    /// baton options the kernel needs, put before the run's own.
    pub baton_options: Option<String>,
    /// The named kernel's pass marker (`cargo xtask run`'s default
    /// `--expect`).
    pub marker: Option<String>,
    /// The named kernel's check of the serial log.
    pub check: Option<Check>,
    /// The guest RAM `cargo xtask run` gives the named kernel unless told.
    pub memory: Option<String>,
}

/// A named kernel: its file and what it comes with by default.
#[derive(Default)]
struct Named {
    path: PathBuf,
    initrd: Option<PathBuf>,
    cmdline: Option<String>,
    modules: Vec<(PathBuf, Option<String>)>,
    baton_options: Option<String>,
    marker: Option<String>,
    check: Option<Check>,
    memory: Option<String>,
}

/// The probe's default options: a short settle time keeps runs quick.
const PROBE_CMDLINE: &str = "probe.settle-ms=100";

/// The one place a kernel name becomes a file.
fn named_kernel(name: &str, base: &Path) -> Result<Named> {
    match name {
        // ---- Named kernels: add new names here ("probe-pvh", ...). ----
        "linux" => {
            let assets = crate::linux::prepare()?;
            Ok(Named {
                path: assets.vmlinux,
                initrd: Some(assets.initramfs),
                cmdline: Some(crate::linux::CMDLINE.into()),
                ..Named::default()
            })
        }
        // The same Linux as distributions ship it: the bzImage, booted by
        // Linux's own boot protocol.
        "linux-bzimage" => {
            let assets = crate::linux::prepare()?;
            Ok(Named {
                path: assets.vmlinuz,
                initrd: Some(assets.initramfs),
                cmdline: Some(crate::linux::CMDLINE.into()),
                marker: Some("baton-linux-init: cpus=".into()),
                ..Named::default()
            })
        }
        name if crate::kernels::NAMES.contains(&name) => {
            let k = crate::kernels::named(name)?
                .ok_or_else(|| anyhow::anyhow!("{name} is in kernels::NAMES but not made"))?;
            Ok(Named {
                path: k.path,
                initrd: None,
                cmdline: Some(k.cmdline),
                modules: k.modules,
                baton_options: k.baton_options.map(Into::into),
                marker: Some(k.marker.into()),
                check: k.check,
                memory: k.memory.map(Into::into),
            })
        }
        "probe" | "probe-pvh" | "probe-mb1" | "probe-mb2" | "probe-elf64" | "probe-high" => {
            let flavour = match name {
                "probe-mb1" => Flavour::Multiboot1,
                "probe-mb2" => Flavour::Multiboot2,
                "probe-elf64" => Flavour::Elf64,
                _ => Flavour::Pvh,
            };
            Ok(Named {
                // probe-high: the PVH probe linked at 32 MiB, clear of baton.
                path: crate::probe::build_at(flavour, name == "probe-high")?,
                cmdline: Some(PROBE_CMDLINE.into()),
                ..Named::default()
            })
        }
        name if crate::bad_input::KERNELS.contains(&name) => Ok(Named {
            path: crate::bad_input::kernel(name)?,
            ..Named::default()
        }),
        // ---- end of the named kernels ----
        other => match existing(other, base) {
            Some(path) => Ok(Named {
                path,
                ..Named::default()
            }),
            None if other.contains('/') || other.contains('.') => bail!(
                "the kernel file {} does not exist",
                base.join(other).display()
            ),
            None => bail!(
                "unknown kernel name {other:?}: not a named kernel (linux, {}, probe, probe-pvh, probe-mb1, probe-mb2, probe-elf64, probe-high, {}) and not an existing file",
                crate::kernels::NAMES.join(", "),
                crate::bad_input::KERNELS.join(", ")
            ),
        },
    }
}

/// `path` relative to `base` (or absolute), if it is a file.
fn existing(path: &str, base: &Path) -> Option<PathBuf> {
    let p = base.join(path);
    p.is_file().then_some(p)
}

fn file(what: &str, path: &str, base: &Path) -> Result<PathBuf> {
    match existing(path, base) {
        Some(p) => Ok(p),
        None if base.join(path).exists() => {
            bail!("the {what} {} is not a file", base.join(path).display())
        }
        None => bail!(
            "the {what} file {} does not exist",
            base.join(path).display()
        ),
    }
}

impl Spec {
    /// Resolves names and paths (relative ones against `base`).
    pub fn resolve(&self, base: &Path) -> Result<Payload> {
        let named = self
            .kernel
            .as_deref()
            .map(|k| named_kernel(k, base))
            .transpose()?;
        let initrd = match &self.initrd {
            Some(name) if name == crate::bad_input::TRUNCATED_INITRD => {
                Some(crate::bad_input::truncated_initrd()?)
            }
            Some(path) => Some(file("initrd", path, base)?),
            None => named.as_ref().and_then(|n| n.initrd.clone()),
        };
        let cmdline = self
            .cmdline
            .clone()
            .or_else(|| named.as_ref().and_then(|n| n.cmdline.clone()));
        // Modules given replace the named kernel's.
        let mut modules = match (&named, self.modules.is_empty()) {
            (Some(n), true) => n.modules.clone(),
            _ => Vec::new(),
        };
        for m in &self.modules {
            let (path, cmdline) = match m.split_once('=') {
                Some((p, c)) => (p, Some(c.to_string())),
                None => (m.as_str(), None),
            };
            modules.push((file("module", path, base)?, cmdline));
        }
        if self.direct && named.is_none() {
            bail!("a direct boot (QEMU -kernel, no baton) needs a kernel");
        }
        if self.direct && !modules.is_empty() {
            bail!("a direct boot (QEMU -kernel, no baton) takes no modules");
        }
        if modules.len() > fwcfg::MAX_MODULES {
            bail!(
                "{} modules: baton takes at most {}",
                modules.len(),
                fwcfg::MAX_MODULES
            );
        }
        let (baton_options, marker, check, memory) = match &named {
            Some(n) => (
                n.baton_options.clone(),
                n.marker.clone(),
                n.check,
                n.memory.clone(),
            ),
            None => (None, None, None, None),
        };
        Ok(Payload {
            kernel: named.map(|n| n.path),
            initrd,
            cmdline,
            modules,
            direct: self.direct,
            baton_options,
            marker,
            check,
            memory,
        })
    }
}

/// QEMU splits option values at commas; a literal one is doubled.
fn escape(value: &str) -> String {
    value.replace(',', ",,")
}

fn fw_cfg_file(name: &str, path: &Path) -> [String; 2] {
    [
        "-fw_cfg".into(),
        format!("name={name},file={}", escape(&path.to_string_lossy())),
    ]
}

fn fw_cfg_string(name: &str, value: &str) -> [String; 2] {
    [
        "-fw_cfg".into(),
        format!("name={name},string={}", escape(value)),
    ]
}

impl Payload {
    /// The fw_cfg arguments that hand this payload to baton (not for `direct`).
    pub fn fw_cfg_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(k) = &self.kernel {
            a.extend(fw_cfg_file(fwcfg::KERNEL, k));
        }
        if let Some(i) = &self.initrd {
            a.extend(fw_cfg_file(fwcfg::INITRD, i));
        }
        // QEMU refuses an empty string= value; no file means an empty line.
        if let Some(c) = self.cmdline.as_deref().filter(|c| !c.is_empty()) {
            a.extend(fw_cfg_string(fwcfg::CMDLINE, c));
        }
        for (i, (path, cmdline)) in self.modules.iter().enumerate() {
            a.extend(fw_cfg_file(&fwcfg::module_name(i), path));
            if let Some(c) = cmdline.as_deref().filter(|c| !c.is_empty()) {
                a.extend(fw_cfg_string(&fwcfg::module_cmdline_name(i), c));
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_becomes_fw_cfg_files_in_baton_s_scheme() {
        let root = crate::root();
        let spec = Spec {
            kernel: Some("Cargo.toml".into()),
            initrd: Some("README.md".into()),
            cmdline: Some("console=ttyS0,115200 quiet".into()),
            modules: vec!["Cargo.lock=dom0 a=b".into(), "Cargo.toml".into()],
            direct: false,
        };
        let p = spec.resolve(&root).unwrap();
        let args = p.fw_cfg_args().join(" ");
        let r = root.display();
        assert_eq!(
            args,
            format!(
                "-fw_cfg name=opt/baton/kernel,file={r}/Cargo.toml \
                 -fw_cfg name=opt/baton/initrd,file={r}/README.md \
                 -fw_cfg name=opt/baton/cmdline,string=console=ttyS0,,115200 quiet \
                 -fw_cfg name=opt/baton/module/0,file={r}/Cargo.lock \
                 -fw_cfg name=opt/baton/module/0/cmdline,string=dom0 a=b \
                 -fw_cfg name=opt/baton/module/1,file={r}/Cargo.toml"
            )
        );
    }

    #[test]
    fn unknown_names_are_refused() {
        let spec = Spec {
            kernel: Some("no-such-kernel".into()),
            ..Spec::default()
        };
        let e = spec.resolve(&crate::root()).unwrap_err().to_string();
        assert!(e.contains("unknown kernel name \"no-such-kernel\""), "{e}");
        let spec = Spec {
            kernel: Some("no/such/vmlinux".into()),
            ..Spec::default()
        };
        let e = spec.resolve(&crate::root()).unwrap_err().to_string();
        assert!(e.contains("no/such/vmlinux does not exist"), "{e}");
        let spec = Spec {
            direct: true,
            ..Spec::default()
        };
        assert!(spec.resolve(&crate::root()).is_err());
    }
}
