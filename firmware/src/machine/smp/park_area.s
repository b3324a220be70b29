# The park area's code, copied into it by handoff.rs: the APs' final park
# and the BSP's copy stub. Position-independent: RDI holds the park area's
# address on entry and every field is reached at an offset from RDI or RBX; the
# offsets come from handoff.rs as operands.

# The BSP leaves baton's tables for the park area's (RDI): its GDT (CS
# reloaded by LRETQ), the IDT at offset \idt, its page tables, the stack
# ending at offset \stack.
.macro baton_enter_park_area idt, stack
    lgdt {gdt_pointer}(%rdi)
    lidt \idt(%rdi)
    movq {pml4}(%rdi), %rax
    movq %rax, %cr3
    leaq \stack(%rdi), %rsp
    pushq ${code64}
    leaq 1f(%rip), %rax
    pushq %rax
    lretq
1:  baton_flat_data
.endm

.macro baton_flat_data
    movl ${data}, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
.endm

# An NMI to this AP (APIC ID R8) through its LAPIC ({ap_lapic}: 1 xAPIC
# MMIO, 2 x2APIC MSR), by destination ID: the self shorthand is for fixed
# vectors only. Keeps RSI, RDI, R8, R10; clobbers RAX, RCX, RDX.
.macro baton_self_nmi
    cmpl $2, {ap_lapic}(%rdi)
    je 91f
    movl {ap_lapic_mmio}(%rdi), %ecx
    movl %r8d, %eax
    shll $24, %eax
    movl %eax, {icr_high}(%rcx)
    movl ${icr_nmi}, {icr_low}(%rcx)
    jmp 92f
91: movl ${x2apic_icr}, %ecx
    movl ${icr_nmi}, %eax
    movl %r8d, %edx
    mfence
    lfence
    wrmsr
92:
.endm

.pushsection .text.baton_handoff, "ax"
.balign 16
.globl baton_handoff_start
baton_handoff_start:
.code64

# AP, interrupts off, after WBINVD: leave baton's memory for the park area
# (RDI): onto this AP's own stack slot there (RCX), its GDT, IDT and page
# tables, and only then clear bit R10 of the stop mask word at RSI. Then
# HLT forever. No stack is read on the way (CS 0x08 is 64-bit code in both
# GDTs, so it needs no reload): an NMI's frame lands on this AP's slot.
# R8 is this AP's APIC ID, for the injected faults. (The bit is in R10, not
# RDX, because an NMI may strike right after a WRMSR, which takes EDX.)
.globl baton_handoff_park
baton_handoff_park:
    movq %rcx, %rsp
    lgdt {gdt_pointer}(%rdi)
    lidt {ap_idt_pointer}(%rdi)
.if {far_return}
    # unsafe-shared-park-stack: the old far return, its frame on the one
    # stack every AP shares.
    pushq ${code64}
    leaq 1f(%rip), %rax
    pushq %rax
.endif
    # inject=park-stack-race: the waiter stays here (where the far return
    # had its frame on the stack) until the late AP's NMI was taken.
    cmpl {race_waiter}(%rdi), %r8d
    jne 2f
    movl $1, {race_waiting}(%rdi)
    movl ${spin_limit}, %ecx
3:  cmpl $0, {nmis_after_report}(%rdi)
    jne 2f
    pause
    decl %ecx
    jnz 3b
2:
    # inject=nmi-in-park: an NMI to this AP itself, between its LIDT and its
    # report; the NMI gate must report for it (it never comes back here).
    cmpl {park_nmi}(%rdi), %r8d
    jne 4f
    baton_self_nmi
    movl ${spin_limit}, %ecx
5:  pause
    decl %ecx
    jnz 5b
4:
.if {far_return}
    lretq
1:
.endif
    movq {pml4}(%rdi), %rax
    movq %rax, %cr3
    baton_flat_data
    # Counted before the report, so the BSP that sees the bit clear sees
    # the count (the NMI gate counts for an AP it reports for).
    lock incl {parked}(%rdi)
.globl baton_handoff_report
baton_handoff_report:
    lock btrq %r10, (%rsi)
    # inject=park-stack-race: the late AP, parked, sends itself an NMI once
    # the waiter waits and every other AP has reported (none enters the
    # park area after it).
    cmpl {race_late}(%rdi), %r8d
    jne baton_handoff_halt
    movl ${spin_limit}, %ecx
6:  cmpl $0, {race_waiting}(%rdi)
    je 8f
    movl {race_others}(%rdi), %eax
    cmpl %eax, {parked}(%rdi)
    jae 7f
8:  pause
    decl %ecx
    jnz 6b
7:  baton_self_nmi
.globl baton_handoff_halt
baton_handoff_halt:
    cli
    hlt
    jmp baton_handoff_halt

# An AP's NMI or #MC in the park area: if it struck before the report (the
# interrupted RIP at or below it; RSI and R10 still hold the word and the
# bit), report first. Then the HLT loop: never IRET, so NMIs stay blocked.
# Each is counted (before or after the report) for the BSP's log, and an AP
# reported here counted as parked unless the park path already did (the
# RIP at the report itself).
.globl baton_handoff_ap_nmi
baton_handoff_ap_nmi:
    leaq baton_handoff_report(%rip), %rax
    cmpq %rax, (%rsp)
    ja 1f
    je 2f
    lock incl {parked}(%rdi)
2:  lock incl {nmis_before_report}(%rdi)
    lock btrq %r10, (%rsi)
    jmp baton_handoff_halt
1:  lock incl {nmis_after_report}(%rdi)
    jmp baton_handoff_halt

# Any other exception of an AP in the park area: counted, then the HLT loop.
.globl baton_handoff_ap_fault
baton_handoff_ap_fault:
    lock incl {ap_faults}(%rdi)
    jmp baton_handoff_halt

# The copy loop: RSI copies from the list at RDI ({{src, dst, len, zero}}
# each), then zeros. Clobbers RAX, RCX, RDX, RSI, RDI, R8, R9, XMM0-3. Also called
# in place by `test=copy-bench`, so the benchmark times this very code.
.globl baton_copy_list
baton_copy_list:
    movq %rdi, %r8
    movq %rsi, %r9
2:  testq %r9, %r9
    jz 3f
    # 64 bytes a step in four 16-byte SSE moves, then REP MOVSB for the
    # rest: under QEMU's TCG each memory access costs about the same
    # whatever its width, and a REP iteration far more than a straight-line
    # move (see test=copy-bench); real CPUs run all of them fast. SSE is on
    # (start32 enabled it); XMM0-3 are caller-saved (SysV), and the copy stub
    # zeroes them before the jump.
    movq {copy_src}(%r8), %rsi
    movq {copy_dst}(%r8), %rdi
    movq {copy_len}(%r8), %rdx
    movq %rdx, %rcx
    shrq $6, %rcx
    jz 5f
4:  movdqu (%rsi), %xmm0
    movdqu 16(%rsi), %xmm1
    movdqu 32(%rsi), %xmm2
    movdqu 48(%rsi), %xmm3
    movdqu %xmm0, (%rdi)
    movdqu %xmm1, 16(%rdi)
    movdqu %xmm2, 32(%rdi)
    movdqu %xmm3, 48(%rdi)
    addq $64, %rsi
    addq $64, %rdi
    decq %rcx
    jnz 4b
5:  movq %rdx, %rcx
    andq $63, %rcx
    rep movsb
    # The zeroed tail, the same way.
    xorl %eax, %eax
    pxor %xmm0, %xmm0
    movq {copy_zero}(%r8), %rdx
    movq %rdx, %rcx
    shrq $6, %rcx
    jz 7f
6:  movdqu %xmm0, (%rdi)
    movdqu %xmm0, 16(%rdi)
    movdqu %xmm0, 32(%rdi)
    movdqu %xmm0, 48(%rdi)
    addq $64, %rdi
    decq %rcx
    jnz 6b
7:  movq %rdx, %rcx
    andq $63, %rcx
    rep stosb
    addq ${copy_size}, %r8
    decq %r9
    jmp 2b
3:  ret

# The BSP's NMI entry while it copies: the copy goes on.
.globl baton_handoff_iret
baton_handoff_iret:
    iretq

# The same in 32-bit protected mode (after paging is off, and in the
# kernel's first instructions until its own LIDT): reached through the
# 32-bit gate that overlays the IDT's slot 1 (see handoff.rs).
.code32
.globl baton_handoff_iret32
baton_handoff_iret32:
    iretl
.code64

# BSP, interrupts off, every AP stopped: copy the kernel into place, zero
# the tails, set the protocol's registers and jump. Runs on the park
# area's stack and page tables: the copies may overwrite baton itself.
.globl baton_handoff_copy
baton_handoff_copy:
    baton_enter_park_area {bsp_idt_pointer}, {bsp_stack_top}
    movq %rdi, %rbx
    cld
    leaq {copies}(%rbx), %rdi
    movq {copy_count}(%rbx), %rsi
    call baton_copy_list
    pxor %xmm0, %xmm0
    pxor %xmm1, %xmm1
    pxor %xmm2, %xmm2
    pxor %xmm3, %xmm3

    movq {entry}(%rbx), %r10
    movq {info}(%rbx), %r11
    movw {fs_gs}(%rbx), %fs
    movw {fs_gs}(%rbx), %gs
    cmpl $0, {long_mode}(%rbx)
    je 4f
    # Long mode (plain ELF64, Linux's 64-bit entry): stay on these page
    # tables; CR0, CR4 and EFER as docs/HANDOFF.md gives them, whatever
    # baton ran with.
    movq ${cr0_long}, %rax
    movq %rax, %cr0
    movq ${cr4_long}, %rax
    movq %rax, %cr4
    movl ${efer_msr}, %ecx
    rdmsr
    andl ${efer_long}, %eax
    xorl %edx, %edx
    wrmsr
    cmpl $0, {linux}(%rbx)
    jne 9f
    # Plain ELF64: RDI = info.
    movq %r11, %rdi
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %ebp, %ebp
    # EFLAGS: the reserved bit alone (after the XORs, which set flags).
    pushq $2
    popfq
    jmpq *%r10
    # Linux's 64-bit boot protocol: its GDT (CS 0x10 code, DS/ES/SS 0x18
    # data), RSI = boot_params.
9:  lgdt {linux_gdt_pointer}(%rbx)
    pushq ${linux_cs}
    leaq 10f(%rip), %rax
    pushq %rax
    lretq
10: movl ${linux_ds}, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movq %r11, %rsi
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %edi, %edi
    xorl %ebp, %ebp
    pushq $2
    popfq
    jmpq *%r10

    # 32-bit protocols: to compatibility mode, then paging off (which
    # leaves long mode) with CR0 = PE | ET, EFER and CR4 cleared, TR the
    # 32-bit TSS PVH asks for (base 0, limit 0x67), LDTR null, EFLAGS
    # reserved bit only; EAX = magic, EBX = info.
4:  movl {magic}(%rbx), %ebp
    movl %ebx, %esi
    movl %r11d, %ebx
    movl %r10d, %edi
    pushq ${code32}
    leaq 5f(%rip), %rax
    pushq %rax
    lretq
.code32
5:  movl ${cr0_protected}, %eax
    movl %eax, %cr0
    # inject=nmi-in-handoff: an NMI to this CPU now, in 32-bit protected
    # mode with the handoff IDT (ESI = the park area until zeroed below).
    movl {inject_nmi}(%esi), %eax
    testl %eax, %eax
    jz 7f
    movl {nmi_destination}(%esi), %edx
    cmpl $2, %eax
    je 6f
    movl {lapic_mmio}(%esi), %ecx
    movl %edx, {icr_high}(%ecx)
    movl ${icr_nmi}, {icr_low}(%ecx)
    jmp 8f
6:  movl ${x2apic_icr}, %ecx
    movl ${icr_nmi}, %eax
    wrmsr
8:  pause
    pause
7:
    movl ${efer_msr}, %ecx
    xorl %eax, %eax
    xorl %edx, %edx
    wrmsr
    movl %eax, %cr4
    lldt %ax
    movl ${tss32}, %eax
    ltr %ax
    cmpl $0, {linux}(%esi)
    jne 11f
    movl %ebp, %eax
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %ebp, %ebp
    pushl $2
    popfl
    jmp *%edi
    # Linux's 32-bit boot protocol: its GDT (CS 0x10 code, DS/ES/SS 0x18
    # data), ESI = boot_params, EBX = EBP = EDI = 0; the entry from the
    # stack. The far return's target is found by a call (this code runs
    # wherever the park area is).
11: lgdtl {linux_gdt_pointer}(%esi)
    call 12f
12: popl %eax
    addl $(13f - 12b), %eax
    pushl ${linux_cs}
    pushl %eax
    lretl
13: movl ${linux_ds}, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    pushl %edi
    movl %ebx, %esi
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %edi, %edi
    xorl %ebp, %ebp
    pushl $2
    popfl
    ret
.globl baton_handoff_end
baton_handoff_end:
.popsection
