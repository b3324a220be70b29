# The probe's ways in: one boot header per flavour ({flavour} selects), a
# 32-bit stub (PVH, Multiboot1, Multiboot2) and a 64-bit stub (plain ELF64).
# Both save the entry state to {state} (in .data: .bss is cleared here),
# clear .bss, load the probe's own page tables (identity map of 4 GiB with
# 2 MiB pages) and GDT, and call Rust. Every number Rust also knows comes in
# as a named operand; see entry.rs.

.if {flavour} == {flavour_pvh}
# Xen ELF note type 18 (XEN_ELFNOTE_PHYS32_ENTRY), 8-byte descriptor.
.pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                     # namesz: "Xen\0"
    .long 8                     # descsz
    .long {xen_phys32_entry}
    .asciz "Xen"
    .balign 4
    .quad probe_entry32
    .balign 4
.popsection
.endif

.pushsection .text.head, "ax"
.if {flavour} == {flavour_mb1}
# Multiboot1 header with the address fields, so QEMU's own loader can
# start the ELF64 image too.
    .balign 4
probe_mb1_header:
    .long {mb1_magic}
    .long {mb1_flags}
    .long {mb1_checksum}
    .long probe_mb1_header      # header_addr
    .long __probe_start         # load_addr
    .long __probe_load_end      # load_end_addr
    .long __probe_end           # bss_end_addr
    .long probe_entry32         # entry_addr
.endif
.if {flavour} == {flavour_mb2}
# Multiboot2 header (entry = e_entry): an optional framebuffer tag with no
# preference (the probe prints the screen it gets; xtask's `mb2-fb-required*`
# kernels clear its optional flag and set a mode), then the end tag.
    .balign 8
probe_mb2_header:
    .long {mb2_magic}
    .long 0                     # architecture: i386 protected mode
    .long probe_mb2_header_end - probe_mb2_header
    .long 0x100000000 - ({mb2_magic} + (probe_mb2_header_end - probe_mb2_header))
    .short 5                    # framebuffer tag
    .short 1                    # optional
    .long 20
    .long 0, 0, 0               # width, height, depth: any
    .balign 8
    .short 0                    # end tag
    .short 0
    .long 8
probe_mb2_header_end:
.endif
.popsection

.pushsection .rodata.probe_gdt, "a"
    .balign 16
probe_gdt:
    .quad 0
    .quad {gdt_code64}
    .quad {gdt_data}
probe_gdt_end:
probe_gdt_ptr:
    .word probe_gdt_end - probe_gdt - 1
    .quad probe_gdt
.popsection

# Clears .bss, then fills PML4[0] -> PDPT[0..4] -> 4 PDs of 2 MiB pages.
# Assembles the same in 32-bit and 64-bit mode (addresses are below 4 GiB).
.macro probe_clear_bss_and_map
    # Count the dwords of .bss the loader did not zero (below the stack's
    # top, where the entry state capture already pushed): the handoff must
    # have zeroed every segment's tail.
    movl $__bss_start, %esi
    movl ${stack} + {stack_size} - 64, %ecx
    subl %esi, %ecx
    shrl $2, %ecx
    xorl %edx, %edx
3:  lodsl
    testl %eax, %eax
    jz 4f
    incl %edx
4:  loop 3b
    movl %edx, {state} + {o_bss_nonzero}

    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    movl ${pdpt}, %eax
    orl ${pte_table}, %eax
    movl %eax, {pml4}
    movl ${pd}, %eax
    orl ${pte_table}, %eax
    movl ${pdpt}, %edi
    movl ${pd_count}, %ecx
1:  movl %eax, (%edi)
    addl ${page_size}, %eax
    addl ${entry_size}, %edi
    loop 1b
    movl ${pd}, %edi
    movl ${pte_large}, %eax
    movl $({pd_count} * {entries}), %ecx
2:  movl %eax, (%edi)
    addl ${large_page}, %eax
    addl ${entry_size}, %edi
    loop 2b
.endm

.pushsection .text.entry, "ax"
.code32
# 32-bit protected mode, paging off: EAX = magic, EBX = boot information.
.globl probe_entry32
probe_entry32:
    movl %eax, {state} + {o_eax}
    movl %ebx, {state} + {o_info}
    movl %ebx, {state} + {o_ebx}
    movl %ecx, {state} + {o_ecx}
    movl %edx, {state} + {o_edx}
    movl %esi, {state} + {o_esi}
    movl %edi, {state} + {o_edi}
    movl %ebp, {state} + {o_ebp}
    movw %fs, {state} + {o_fs}
    movw %gs, {state} + {o_gs}
    str {state} + {o_tr}
    sldt {state} + {o_ldtr}
    sidtl {state} + {o_idtr}
    movl %cr0, %eax
    movl %eax, {state} + {o_cr0}
    movl %cr4, %eax
    movl %eax, {state} + {o_cr4}
    # The loader promises no stack: take ours before PUSHF.
    movl ${stack} + {stack_size}, %esp
    pushfl
    popl %eax
    movl %eax, {state} + {o_flags}
    movl ${efer_msr}, %ecx
    rdmsr
    movl %eax, {state} + {o_efer}
    movl %edx, {state} + {o_efer} + 4
    movw %cs, {state} + {o_cs}
    movw %ds, {state} + {o_ds}
    movw %es, {state} + {o_es}
    movw %ss, {state} + {o_ss}
    sgdtl {state} + {o_gdtr}
    cli
    cld

    probe_clear_bss_and_map

    movl %cr4, %eax
    orl ${cr4_pae}, %eax
    movl %eax, %cr4
    movl ${pml4}, %eax
    movl %eax, %cr3
    movl ${efer_msr}, %ecx
    rdmsr
    orl ${efer_lme}, %eax
    wrmsr
    movl %cr0, %eax
    orl ${cr0_pg_pe}, %eax
    movl %eax, %cr0
    lgdt probe_gdt_ptr
    ljmp ${code64}, $probe_common64

.code64
# Long mode, identity-mapped: RDI = Multiboot2-format information.
.globl probe_entry64
probe_entry64:
    movq %rdi, {state} + {o_info}
    movq %rax, {state} + {o_eax}
    movq %rbx, {state} + {o_ebx}
    movq %rcx, {state} + {o_ecx}
    movq %rdx, {state} + {o_edx}
    movq %rsi, {state} + {o_esi}
    movq %rdi, {state} + {o_edi}
    movq %rbp, {state} + {o_ebp}
    movw %fs, {state} + {o_fs}
    movw %gs, {state} + {o_gs}
    str {state} + {o_tr}
    sldt {state} + {o_ldtr}
    sidt {state} + {o_idtr}
    movq %cr0, %rax
    movq %rax, {state} + {o_cr0}
    movq %cr4, %rax
    movq %rax, {state} + {o_cr4}
    movl ${stack} + {stack_size}, %esp
    pushfq
    popq %rax
    movq %rax, {state} + {o_flags}
    movl ${efer_msr}, %ecx
    rdmsr
    movl %eax, {state} + {o_efer}
    movl %edx, {state} + {o_efer} + 4
    movw %cs, {state} + {o_cs}
    movw %ds, {state} + {o_ds}
    movw %es, {state} + {o_es}
    movw %ss, {state} + {o_ss}
    sgdt {state} + {o_gdtr}
    cli
    cld

    probe_clear_bss_and_map

    # The loader's page tables and GDT live in memory the probe overwrites.
    movl ${pml4}, %eax
    movq %rax, %cr3
    lgdt probe_gdt_ptr
    pushq ${code64}
    pushq $probe_common64
    lretq

probe_common64:
    movl ${data}, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    movl ${stack} + {stack_size}, %esp
    xorl %ebp, %ebp
    call {rust_main}
3:  cli
    hlt
    jmp 3b
.popsection
