# baton's way in: the PVH note, then one 32-bit stub into long mode.
# Every address and number below that Rust also knows comes in as a named
# operand in braces; see entry.rs.

# PVH: Xen ELF note type 18 (XEN_ELFNOTE_PHYS32_ENTRY), 8-byte descriptor.
.pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                     # namesz: "Xen\0"
    .long 8                     # descsz
    .long 18                    # XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad baton_pvh_entry
    .balign 4
.popsection

.pushsection .rodata.baton_gdt, "a"
    .balign 16
baton_gdt64:
    .quad 0
    .quad 0x00af9b000000ffff    # 0x08: 64-bit code, DPL 0
    .quad 0x00cf93000000ffff    # 0x10: flat data
baton_gdt64_end:
baton_gdt64_ptr:
    .word baton_gdt64_end - baton_gdt64 - 1
    .quad baton_gdt64
.popsection

.pushsection .text.entry32, "ax"
.code32

# PVH entry: 32-bit protected mode, paging off, EBX = hvm_start_info.
.globl baton_pvh_entry
baton_pvh_entry:
    movl ${pvh}, %esi
    jmp baton_start32

# Common 32-bit path. ESI = entry protocol, EBX = its info pointer.
baton_start32:
    cli
    cld
    # The entry stamp goes to .data: .bss is about to be cleared.
    rdtsc
    movl %eax, {entry_tsc}
    movl %edx, {entry_tsc} + 4

    # Clear .bss (page tables and the boot stack live there).
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    # Identity map of the first 4 GiB with 2 MiB pages; Rust extends it to
    # all RAM once it has read the memory map.
    movl ${pdpt}, %eax
    orl $3, %eax                # present, writable
    movl %eax, {pml4}
    movl ${pd}, %eax
    orl $3, %eax
    movl ${pdpt}, %edi
    movl $4, %ecx
1:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 1b
    movl ${pd}, %edi
    movl $0x83, %eax            # present, writable, 2 MiB page
    movl $2048, %ecx
2:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 2b

    # CR4: PAE, OSFXSR, OSXMMEXCPT (SSE usable by what we start).
    movl %cr4, %eax
    orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    movl %eax, %cr4
    movl ${pml4}, %eax
    movl %eax, %cr3
    # EFER.LME
    movl $0xc0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    wrmsr
    # CR0: PG, PE, MP; EM off.
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 1) | 1), %eax
    andl $~(1 << 2), %eax
    movl %eax, %cr0
    lgdt baton_gdt64_ptr
    ljmp ${code64}, $baton_start64

.code64
baton_start64:
    movl ${data}, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    leaq {stack} + {stack_size}(%rip), %rsp
    xorl %ebp, %ebp
    movl %esi, %edi             # arg 0: entry protocol
    movl %ebx, %esi             # arg 1: its info pointer
    call {rust_start}
3:  cli
    hlt
    jmp 3b
.popsection
