# The AP trampoline: copied to a page below 1 MiB, entered by SIPI in real
# mode at offset 0 of that page. 16-bit -> 32-bit protected mode -> long
# mode, then it finds its per-CPU slot by APIC ID and calls Rust.
# Everything it needs is in the parameter block at offset {params} of the
# same page, which Rust fills (trampoline.rs); offsets arrive as operands.
# ESI holds the page's linear address throughout.

.pushsection .rodata.baton_trampoline, "a"
.balign 16
.globl baton_trampoline_start
baton_trampoline_start:
.code16
    cli
    cld
    movw %cs, %si
    movw %si, %ds
    movzwl %si, %esi
    shll $4, %esi
    lgdtl {params} + {gdt_pointer}
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl *({params} + {far32})

.code32
.globl baton_trampoline_32
baton_trampoline_32:
    movl ${data}, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl {params} + {cr4}(%esi), %eax
    movl %eax, %cr4
    movl {params} + {cr3}(%esi), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    movl {params} + {efer}(%esi), %eax
    xorl %edx, %edx
    wrmsr
    movl {params} + {cr0}(%esi), %eax
    movl %eax, %cr0
    ljmpl *{params} + {far64}(%esi)

.code64
.globl baton_trampoline_64
baton_trampoline_64:
    movl ${data}, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    movl %esi, %esi

    # EDI = own APIC ID: CPUID leaf 0xB (x2APIC ID) where the BSP found it,
    # else the 8-bit ID of leaf 1.
    cmpl $0, {params} + {id_from_leaf_b}(%rsi)
    je 1f
    movl $0xb, %eax
    xorl %ecx, %ecx
    cpuid
    movl %edx, %edi
    jmp 2f
1:  movl $1, %eax
    cpuid
    shrl $24, %ebx
    movl %ebx, %edi
2:
    # Fault injection (tests): this AP never leaves the trampoline.
    cmpl {params} + {dead_apic_id}(%rsi), %edi
    je 9f

    # Find the slot with this APIC ID; EDX = slot number.
    movq {params} + {slots}(%rsi), %r8
    movl {params} + {slot_count}(%rsi), %ecx
    xorl %edx, %edx
3:  cmpl %ecx, %edx
    jae 9f
    cmpl %edi, {slot_apic_id}(%r8)
    je 4f
    addq ${slot_size}, %r8
    incl %edx
    jmp 3b
4:  movq {slot_stack_top}(%r8), %rsp
    xorl %ebp, %ebp
    movl %edx, %edi
    movq {params} + {entry}(%rsi), %rax
    callq *%rax

    # Not a CPU baton started, or told to play dead: stay here.
9:  cli
    hlt
    jmp 9b
.globl baton_trampoline_end
baton_trampoline_end:
.popsection
