//! The ACPI validation layer from the RSDP down: the input is memory from
//! address 0, the RSDP at 0. Whatever the root table lists is validated;
//! a MADT that passes is walked, a FADT parsed. Must end, never panic.
#![no_main]

use baton::acpi::{fadt::Fadt, load, madt, sdt};
use baton::phys::FakeMemory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut mem = FakeMemory::new(0, data.len());
    mem.write(0, data);
    let _ = baton::acpi::rsdp::scan(&mem);
    if let Ok(tables) = load(&mem, 0) {
        for t in &tables.tables {
            let Ok(table) = sdt::read_table(&mem, t.addr, None) else { continue };
            match &t.signature {
                b"APIC" => {
                    let _ = madt::parse(&table.bytes, 0, true);
                }
                b"FACP" => {
                    let _ = Fadt::parse(&table.bytes);
                }
                _ => {}
            }
        }
    }
});
