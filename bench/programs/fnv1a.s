# FNV-1a, 64-bit, over the input: r1 = pointer, r2 = length. Returns the hash.
# A byte-at-a-time compute loop: load, xor, 64-bit multiply, pointer increment, compare-and-branch.
    lddw %r0, 0xcbf29ce484222325    # offset basis
    lddw %r5, 0x100000001b3         # FNV prime
    mov %r3, %r1
    add %r3, %r2                    # end of input
    jge %r1, %r3, done
loop:
    ldxb %r4, [%r1+0]
    xor %r0, %r4
    mul %r0, %r5
    add %r1, 1
    jlt %r1, %r3, loop
done:
    exit
