//! The ACPI stage on the machine: find and validate the tables (the
//! portable `baton::acpi`), build the CPU topology and keep the FADT's
//! power controls with `\_S5`'s sleep types, read from the AML bytes
//! (`baton::acpi::s5`) or, in a build with the cargo feature `aml`, by the
//! `acpi` crate's interpreter (`crate::machine::acpi::aml`). If the interpreter fails,
//! baton goes on with the MADT and says why.

#[cfg(feature = "aml")]
pub mod aml;
pub mod power;

use alloc::vec::Vec;

use baton::acpi::fadt::{Fadt, Register};
use baton::acpi::madt::Topology;
use baton::acpi::s5::{self, SleepType};
use baton::acpi::{AcpiError, TableRef, Tables, madt, rsdp, sdt};
use baton::entry::BootInfo;
use baton::options::{FailPolicy, Options};
use spin::Once;
use x86_64::instructions::port::Port;
use x86_64::registers::model_specific::Msr;

use crate::machine::platform::paging::IdentityMapped;

pub struct Acpi {
    pub tables: Tables,
    pub topology: Topology,
    pub fadt: Option<Fadt>,
}

/// The power controls, for `power::power_off` and `power::reset`: the FADT,
/// and `\_S5`'s sleep types, found at boot with `aml=eager`, else the
/// first time power-off needs them.
pub struct Power {
    pub fadt: Fadt,
    /// For the AML interpreter.
    #[cfg(feature = "aml")]
    rsdp: u64,
    /// The DSDT, then the SSDTs: where `\_S5` may be declared.
    aml: Vec<TableRef>,
    s5: Once<Option<SleepType>>,
}

impl Power {
    pub fn s5(&self) -> Option<SleepType> {
        *self.s5.call_once(|| {
            #[cfg(feature = "aml")]
            if let Some(s5) = crate::machine::acpi::aml::s5(self.rsdp) {
                return Some(s5);
            }
            s5_from_bytes(&self.aml)
        })
    }
}

/// `Name (_S5, Package {...})` in the first table that declares it.
fn s5_from_bytes(tables: &[TableRef]) -> Option<SleepType> {
    for table in tables {
        let bytes = match sdt::read_table(&IdentityMapped, table.addr, Some(table.signature)) {
            Ok(t) => t.bytes,
            Err(e) => {
                warn!(
                    "ACPI: {} at {:#x} unreadable for \\_S5: {e}",
                    table.name(),
                    table.addr
                );
                continue;
            }
        };
        match s5::find(bytes.get(sdt::HEADER_SIZE..).unwrap_or_default()) {
            Ok(Some(s5)) => {
                info!(
                    "ACPI: \\_S5 = SLP_TYPa {}, SLP_TYPb {} ({} at {:#x})",
                    s5.a,
                    s5.b,
                    table.name(),
                    table.addr
                );
                return Some(s5);
            }
            Ok(None) => {}
            Err(e) => warn!("ACPI: {} at {:#x}: {e}", table.name(), table.addr),
        }
    }
    warn!("ACPI: no usable \\_S5 in the DSDT or the SSDTs: no ACPI power-off");
    None
}

pub static POWER: Once<Power> = Once::new();

/// With `aml=eager`: `\_S5` now and, with the AML interpreter, the
/// processor objects cross-checked against the MADT (about 45 ms under
/// TCG). Under `on-fail=off`, `\_S5` now (`prepare_power_off`). Otherwise
/// `\_S5` is looked for when power-off needs it.
// Out of line: inlined into `boot`, a stage's locals swell one huge
// stack frame and its spills (measured: -1088 bytes).
#[inline(never)]
pub fn init(info: &BootInfo, options: &Options) -> Result<Acpi, AcpiError> {
    let eager = options.aml_eager;
    let rsdp = match info.rsdp {
        Some(addr) => addr,
        None => rsdp::scan(&IdentityMapped)?.addr,
    };
    let tables = baton::acpi::load(&IdentityMapped, rsdp)?;
    info!(
        "ACPI: RSDP {rsdp:#x} revision {}, {} with {} tables",
        tables.revision,
        tables.root,
        tables.tables.len()
    );
    for t in &tables.tables {
        debug!(
            "  {} at {:#x}, {} bytes, revision {}",
            t.name(),
            t.addr,
            t.length,
            t.revision
        );
    }
    for rejected in &tables.rejected {
        warn!("ACPI: table left out: {rejected}");
    }
    let madt = tables.madt.as_deref().ok_or(AcpiError::Missing {
        signature: "APIC (MADT)",
    })?;
    let (bsp, x2apic) = own_apic_id();
    let topology = madt::parse(madt, bsp, x2apic)?;
    let fadt = tables.fadt;
    // Pushes, not a chained `collect` (measured: -576 bytes).
    let mut aml: Vec<TableRef> = Vec::new();
    aml.extend(tables.dsdt.clone());
    for ssdt in tables.all(b"SSDT") {
        aml.push(ssdt.clone());
    }
    // Filled here with aml=eager (`Once::initialized`: no `call_once`
    // machinery inlined for it), else by the first `Power::s5`.
    let s5 = match eager {
        true => {
            #[cfg(feature = "aml")]
            let found = crate::machine::acpi::aml::eager(rsdp, &topology);
            #[cfg(not(feature = "aml"))]
            let found = {
                warn!(
                    "ACPI: aml=eager: this build has no AML interpreter (cargo feature aml): \\_S5 from the AML bytes, no processor cross-check"
                );
                None
            };
            Once::initialized(found.or_else(|| s5_from_bytes(&aml)))
        }
        false => Once::new(),
    };
    if let Some(fadt) = fadt {
        POWER.call_once(|| Power {
            fadt,
            #[cfg(feature = "aml")]
            rsdp,
            aml,
            s5,
        });
        if options.on_fail == FailPolicy::PowerOff {
            prepare_power_off();
        }
    }
    Ok(Acpi {
        tables,
        topology,
        fadt,
    })
}

/// Evaluates `\_S5` ahead of a power-off (the result is kept): a fault
/// handler must not be the first to run the AML interpreter. Nothing
/// before ACPI is up.
pub fn prepare_power_off() {
    if let Some(power) = POWER.get()
        && power.s5().is_none()
    {
        warn!("on-fail=off: no \\_S5 sleep type: a failure will halt instead");
    }
}

/// The running CPU's APIC ID (x2APIC MSR when in x2APIC mode, else CPUID
/// leaf 0xB, else the 8-bit field of leaf 1) and whether x2APIC exists.
pub fn own_apic_id() -> (u32, bool) {
    let cpuid = raw_cpuid::CpuId::new();
    let features = cpuid.get_feature_info();
    let x2apic = features.as_ref().is_some_and(|f| f.has_x2apic());
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    let base = unsafe { Msr::new(0x1b).read() };
    if x2apic && base & (1 << 10) != 0 {
        // SAFETY: x2APIC mode is on, so the x2APIC ID MSR exists.
        return (unsafe { Msr::new(0x802).read() } as u32, true);
    }
    if let Some(id) = cpuid
        .get_extended_topology_info()
        .and_then(|mut t| t.next())
        .map(|l| l.x2apic_id())
    {
        return (id, x2apic);
    }
    (
        features.map_or(0, |f| u32::from(f.initial_local_apic_id())),
        x2apic,
    )
}

/// Writes `value` to an FADT register.
pub fn write_register(register: Register, value: u64) {
    // SAFETY: the FADT names these registers for exactly this use.
    unsafe {
        match register {
            Register::Io { port, width: 1 } => Port::<u8>::new(port).write(value as u8),
            Register::Io { port, width: 4 } => Port::<u32>::new(port).write(value as u32),
            Register::Io { port, .. } => Port::<u16>::new(port).write(value as u16),
            Register::Memory { address, width: 1 } => {
                core::ptr::write_volatile(address as *mut u8, value as u8)
            }
            Register::Memory { address, width: 4 } => {
                core::ptr::write_volatile(address as *mut u32, value as u32)
            }
            Register::Memory { address, width: 8 } => {
                core::ptr::write_volatile(address as *mut u64, value)
            }
            Register::Memory { address, .. } => {
                core::ptr::write_volatile(address as *mut u16, value as u16)
            }
        }
    }
}
