# baton's ways in, all landing in one 32-bit stub into long mode:
#   PVH         the Xen note's entry, EBX = hvm_start_info
#   Multiboot1  the header's entry_addr (address fields), EAX magic, EBX info
#   Multiboot2  the header's entry address tag, EAX magic, EBX info
#   coreboot    e_entry, in 32-bit mode ([esp+4] = table) or 64-bit (RDI = table)
# Every address and number below that Rust also knows comes in as a named
# operand in braces; see entry.rs.

# The Multiboot headers come first in the image (Multiboot1 must sit in the
# file's first 8 KiB, Multiboot2 in its first 32 KiB). The Multiboot1
# header uses the address fields: QEMU loads an ELF64 only that way, and
# the file maps linearly onto memory from __baton_start to __data_end.
.pushsection .text.multiboot, "a"
    .balign 8
baton_mb1_header:
    .long {mb1_header_magic}
    .long {mb1_flags}
    .long -({mb1_header_magic} + {mb1_flags})
    .long baton_mb1_header      # header_addr
    .long __baton_start         # load_addr
    .long __data_end            # load_end_addr
    .long __baton_end           # bss_end_addr
    .long baton_mb1_entry       # entry_addr

    .balign 8
baton_mb2_header:
    .long {mb2_header_magic}
    .long 0                     # architecture: i386 (32-bit protected mode)
    .long baton_mb2_header_end - baton_mb2_header
    .long -({mb2_header_magic} + (baton_mb2_header_end - baton_mb2_header))
    .balign 8
    .short 3, 0                 # entry address tag
    .long 12
    .long baton_mb2_entry
    .balign 8
    .short 0, 0                 # end tag
    .long 8
baton_mb2_header_end:
.popsection

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
    .quad 0x00cf9b000000ffff    # 0x18: 32-bit code (the way down from coreboot's 64-bit call)
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

# Multiboot1 and Multiboot2: 32-bit protected mode, paging off, EAX = the
# loader's magic (checked in Rust), EBX = its information.
baton_mb1_entry:
    movl %eax, %ebp
    movl ${mb1}, %esi
    jmp baton_start32

baton_mb2_entry:
    movl %eax, %ebp
    movl ${mb2}, %esi
    jmp baton_start32

# coreboot calls e_entry like a C function, in 32-bit protected mode
# ([esp] return address, [esp+4] the table) or, from a 64-bit coreboot
# that does not drop to 32-bit, in long mode with the table in RDI. The
# first bytes run in both modes and tell them apart: 0x48 is DEC EAX in
# 32-bit code and a REX.W prefix (of the NOP) in 64-bit code.
.globl baton_coreboot_entry
baton_coreboot_entry:
    xorl %eax, %eax
    .byte 0x48                  # 32-bit: dec %eax (EAX = -1); 64-bit: REX.W
    nop
    testl %eax, %eax
    jz baton_coreboot64         # (same encoding and meaning in both modes)
    movl 4(%esp), %ebx
    movl ${coreboot32}, %esi
    jmp baton_start32

.code64
baton_coreboot64:
    # Down to 32-bit protected mode through a 32-bit code segment, then
    # paging and long mode off, and into the common path like the others.
    cli
    movl %edi, %ebx
    lgdt baton_gdt64_ptr(%rip)
    pushq ${code32}
    leaq 1f(%rip), %rax
    pushq %rax
    lretq
.code32
1:  movl ${data}, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %cr0, %eax
    andl $~(1 << 31), %eax
    movl %eax, %cr0
    movl $0xc0000080, %ecx
    rdmsr
    andl $~(1 << 8), %eax
    wrmsr
    movl ${coreboot64}, %esi
    jmp baton_start32

# Common 32-bit path. ESI = entry protocol, EBX = its info pointer, EBP =
# the Multiboot magic (kept until long mode).
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
    movl %esi, %edi             # arg 0: entry protocol
    movl %ebx, %esi             # arg 1: its info pointer
    movl %ebp, %edx             # arg 2: the Multiboot magic
    xorl %ebp, %ebp
    call {rust_start}
3:  cli
    hlt
    jmp 3b
.popsection
