//! The `acpi` crate's AML interpreter (cargo feature `aml`): `\_S5`
//! evaluated as the DSDT/SSDTs compute it, and the processor objects
//! cross-checked against the MADT (`aml=eager`). It is about 110 KiB of
//! code, more than half of baton, so the default build reads `\_S5`
//! from the AML bytes instead (`baton::acpi::s5`).

use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::NonNull;
use core::str::FromStr;

use acpi::aml::namespace::{AmlName, NamespaceLevelKind};
use acpi::aml::object::Object;
use acpi::aml::{AmlError, Interpreter};
use acpi::{Handle, Handler, PciAddress, PhysicalMapping};
use baton::acpi::madt::Topology;
use baton::acpi::s5::SleepType;
use x86_64::instructions::port::Port;

use crate::machine::platform::tsc;

/// `\_S5` by the interpreter; None (said why) if it cannot tell.
pub fn s5(rsdp: u64) -> Option<SleepType> {
    match interpreter(rsdp) {
        Ok(interpreter) => evaluate_s5(&interpreter),
        Err(why) => {
            warn!("ACPI: AML interpreter unavailable ({why}): no \\_S5 from it");
            None
        }
    }
}

/// `aml=eager`: `\_S5` and the processor cross-check at boot.
pub fn eager(rsdp: u64, topology: &Topology) -> Option<SleepType> {
    match interpreter(rsdp) {
        Ok(interpreter) => {
            let s5 = evaluate_s5(&interpreter);
            cross_check(&interpreter, topology);
            s5
        }
        Err(why) => {
            warn!("ACPI: AML interpreter unavailable ({why}); going on with the MADT alone");
            None
        }
    }
}

/// The AML namespace from the DSDT and SSDTs.
fn interpreter(rsdp: u64) -> Result<Interpreter<FirmwareHandler>, String> {
    let handler = FirmwareHandler;
    // SAFETY: the RSDP and every table it leads to passed validation.
    let acpi_tables = unsafe { acpi::AcpiTables::from_rsdp(handler, rsdp as usize) }
        .map_err(|e| alloc::format!("{e:?}"))?;
    let platform = acpi::platform::AcpiPlatform::new(acpi_tables, handler)
        .map_err(|e| alloc::format!("{e:?}"))?;
    let interpreter =
        Interpreter::new_from_platform(&platform).map_err(|e| alloc::format!("{e:?}"))?;
    info!("ACPI: AML namespace loaded from the DSDT and SSDTs");
    Ok(interpreter)
}

/// SLP_TYPa and SLP_TYPb of `\_S5`.
fn evaluate_s5(interpreter: &Interpreter<FirmwareHandler>) -> Option<SleepType> {
    let s5 = match interpreter.evaluate_if_present(name("\\_S5"), Vec::new()) {
        Ok(Some(obj)) => match &*obj {
            Object::Package(items) => {
                let value = |i: usize| {
                    items.get(i).and_then(|o| {
                        if let Object::Integer(v) = &**o {
                            u8::try_from(*v).ok().filter(|&v| v <= 7)
                        } else {
                            None
                        }
                    })
                };
                value(0).map(|a| SleepType {
                    a,
                    b: value(1).unwrap_or(a),
                })
            }
            _ => None,
        },
        Ok(None) => None,
        Err(e) => {
            warn!("ACPI: \\_S5 could not be evaluated: {e:?}");
            None
        }
    };
    if let Some(SleepType { a, b }) = s5 {
        info!("ACPI: \\_S5 = SLP_TYPa {a}, SLP_TYPb {b} (AML interpreter)");
    }
    s5
}

fn name(path: &str) -> AmlName {
    AmlName::from_str(path).unwrap_or_else(|_| AmlName::root())
}

/// A processor in the namespace, as AML describes it.
struct AmlCpu {
    path: String,
    uid: Option<u64>,
    enabled: bool,
    apic_id: Option<u32>,
}

fn cross_check(interpreter: &Interpreter<FirmwareHandler>, topology: &Topology) {
    let mut paths: Vec<(AmlName, bool)> = Vec::new();
    let _ = interpreter.namespace.lock().traverse(|path, level| {
        match level.kind {
            NamespaceLevelKind::Processor => paths.push((path.clone(), true)),
            NamespaceLevelKind::Device => paths.push((path.clone(), false)),
            _ => {}
        }
        Ok(true)
    });
    let mut cpus = Vec::new();
    for (path, is_processor_op) in paths {
        let child = |n: &str| {
            AmlName::from_str(n)
                .ok()
                .and_then(|n| n.resolve(&path).ok())
        };
        let eval = |n: &str| {
            child(n).and_then(|p| {
                interpreter
                    .evaluate_if_present(p, Vec::new())
                    .ok()
                    .flatten()
            })
        };
        if !is_processor_op {
            let hid = eval("_HID");
            let is_acpi0007 =
                hid.is_some_and(|h| matches!(&*h, Object::String(s) if s == "ACPI0007"));
            if !is_acpi0007 {
                continue;
            }
        }
        let integer = |o: acpi::aml::object::WrappedObject| {
            if let Object::Integer(v) = &*o {
                Some(*v)
            } else {
                None
            }
        };
        let uid = eval("_UID").and_then(integer).or_else(|| {
            // A Processor() object's ID stands in for a missing _UID.
            let obj = interpreter.namespace.lock().get(path.clone()).ok()?;
            if let Object::Processor { proc_id, .. } = &*obj {
                Some(u64::from(*proc_id))
            } else {
                None
            }
        });
        // No _STA means present and enabled (ACPI 6.9.7).
        let sta = eval("_STA").and_then(integer).unwrap_or(0xf);
        let apic_id = eval("_MAT").and_then(|m| match &*m {
            Object::Buffer(b) if b.len() >= 8 && b[0] == 0 => Some(u32::from(b[3])),
            Object::Buffer(b) if b.len() >= 16 && b[0] == 9 => {
                Some(u32::from_le_bytes([b[4], b[5], b[6], b[7]]))
            }
            _ => None,
        });
        cpus.push(AmlCpu {
            path: path.as_string(),
            uid,
            enabled: sta & 0b11 == 0b11,
            apic_id,
        });
    }
    info!(
        "ACPI: {} processor objects in the namespace, {} enabled",
        cpus.len(),
        cpus.iter().filter(|c| c.enabled).count()
    );
    for c in &cpus {
        debug!(
            "  {} uid {:?} enabled {} apic id {:?}",
            c.path, c.uid, c.enabled, c.apic_id
        );
    }
    if cpus.is_empty() {
        return;
    }
    let mut madt_side: Vec<u64> = topology
        .cpus
        .iter()
        .filter(|c| c.enabled)
        .map(|c| u64::from(c.uid))
        .collect();
    let mut aml_side: Vec<u64> = cpus
        .iter()
        .filter(|c| c.enabled)
        .filter_map(|c| c.uid)
        .collect();
    madt_side.sort_unstable();
    aml_side.sort_unstable();
    if madt_side != aml_side {
        warn!("ACPI: enabled processors differ: MADT UIDs {madt_side:?}, AML UIDs {aml_side:?}");
    }
}

/// The `acpi` crate's window on the machine: identity-mapped memory, real
/// port I/O (QEMU's `_STA` reads the CPU hotplug port), PCI configuration
/// through 0xcf8/0xcfc, time from the TSC. baton is single-threaded here,
/// so AML mutexes always succeed.
#[derive(Clone, Copy)]
pub struct FirmwareHandler;

impl FirmwareHandler {
    fn pci_address(address: PciAddress, offset: u16) -> u32 {
        0x8000_0000
            | u32::from(address.bus()) << 16
            | u32::from(address.device()) << 11
            | u32::from(address.function()) << 8
            | u32::from(offset & 0xfc)
    }

    fn pci_read(address: PciAddress, offset: u16) -> u32 {
        // SAFETY: the legacy PCI configuration mechanism.
        unsafe {
            Port::new(0xcf8).write(Self::pci_address(address, offset));
            Port::<u32>::new(0xcfc).read()
        }
    }

    fn pci_write(address: PciAddress, offset: u16, value: u32) {
        // SAFETY: the legacy PCI configuration mechanism.
        unsafe {
            Port::new(0xcf8).write(Self::pci_address(address, offset));
            Port::new(0xcfc).write(value);
        }
    }
}

macro_rules! mmio {
    ($read:ident, $write:ident, $t:ty) => {
        fn $read(&self, address: usize) -> $t {
            // SAFETY: AML names the address; it is identity-mapped.
            unsafe { core::ptr::read_volatile(address as *const $t) }
        }
        fn $write(&self, address: usize, value: $t) {
            // SAFETY: as above.
            unsafe { core::ptr::write_volatile(address as *mut $t, value) }
        }
    };
}

macro_rules! pio {
    ($read:ident, $write:ident, $t:ty) => {
        fn $read(&self, port: u16) -> $t {
            // SAFETY: AML's own operation regions.
            unsafe { Port::<$t>::new(port).read() }
        }
        fn $write(&self, port: u16, value: $t) {
            // SAFETY: as above.
            unsafe { Port::<$t>::new(port).write(value) }
        }
    };
}

impl Handler for FirmwareHandler {
    unsafe fn map_physical_region<T>(
        &self,
        physical_address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        PhysicalMapping {
            physical_start: physical_address,
            // The identity map: physical address = virtual address (never 0 here).
            virtual_start: NonNull::new(physical_address as *mut T).unwrap_or(NonNull::dangling()),
            region_length: size,
            mapped_length: size,
            handler: *self,
        }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}

    mmio!(read_u8, write_u8, u8);
    mmio!(read_u16, write_u16, u16);
    mmio!(read_u32, write_u32, u32);
    mmio!(read_u64, write_u64, u64);
    pio!(read_io_u8, write_io_u8, u8);
    pio!(read_io_u16, write_io_u16, u16);
    pio!(read_io_u32, write_io_u32, u32);

    fn read_pci_u8(&self, address: PciAddress, offset: u16) -> u8 {
        (Self::pci_read(address, offset) >> ((offset & 3) * 8)) as u8
    }
    fn read_pci_u16(&self, address: PciAddress, offset: u16) -> u16 {
        (Self::pci_read(address, offset) >> ((offset & 2) * 8)) as u16
    }
    fn read_pci_u32(&self, address: PciAddress, offset: u16) -> u32 {
        Self::pci_read(address, offset)
    }
    fn write_pci_u8(&self, address: PciAddress, offset: u16, value: u8) {
        let shift = (offset & 3) * 8;
        let old = Self::pci_read(address, offset) & !(0xff << shift);
        Self::pci_write(address, offset, old | u32::from(value) << shift);
    }
    fn write_pci_u16(&self, address: PciAddress, offset: u16, value: u16) {
        let shift = (offset & 2) * 8;
        let old = Self::pci_read(address, offset) & !(0xffff << shift);
        Self::pci_write(address, offset, old | u32::from(value) << shift);
    }
    fn write_pci_u32(&self, address: PciAddress, offset: u16, value: u32) {
        Self::pci_write(address, offset, value);
    }

    fn nanos_since_boot(&self) -> u64 {
        tsc::micros_since_entry() * 1000
    }
    fn stall(&self, microseconds: u64) {
        tsc::delay_us(microseconds);
    }
    fn sleep(&self, milliseconds: u64) {
        tsc::delay_us(milliseconds * 1000);
    }
    fn create_mutex(&self) -> Handle {
        Handle(0)
    }
    fn acquire(&self, _mutex: Handle, _timeout: u16) -> Result<(), AmlError> {
        Ok(())
    }
    fn release(&self, _mutex: Handle) {}
}
