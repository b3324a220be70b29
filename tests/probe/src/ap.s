# The AP code: copied to a page below 1 MiB, entered by SIPI in real mode at
# offset 0. It counts itself with a locked increment of the counter in the
# same page and halts for good. Real mode only: nothing else is needed.
.pushsection .rodata.probe_ap, "a"
.balign 16
.globl probe_ap_start
probe_ap_start:
.code16
    cli
    movw %cs, %ax
    movw %ax, %ds
    lock incl probe_ap_counter - probe_ap_start
1:  cli
    hlt
    jmp 1b
.balign 4
.globl probe_ap_counter
probe_ap_counter:
    .long 0
.globl probe_ap_end
probe_ap_end:
.code64
.popsection
