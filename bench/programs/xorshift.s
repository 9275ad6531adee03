# xorshift64 (Marsaglia 2003, shifts 13, 7, 17) iterated 100000 times from a fixed seed (no input).
# Returns the final state: shifts and xors on 64-bit values.
    lddw %r0, 0x9e3779b97f4a7c15
    mov %r1, 0
loop:
    mov %r2, %r0
    lsh %r2, 13
    xor %r0, %r2
    mov %r2, %r0
    rsh %r2, 7
    xor %r0, %r2
    mov %r2, %r0
    lsh %r2, 17
    xor %r0, %r2
    add %r1, 1
    jlt %r1, 100000, loop
    exit
