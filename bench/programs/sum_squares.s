# Sum of i*i modulo the prime 1000000007 for i = 0 .. 999999 (no input).
# 64-bit multiply, add and modulo in a tight counted loop.
    mov %r0, 0
    mov %r1, 0
    mov %r3, 1000000007
loop:
    mov %r2, %r1
    mul %r2, %r1
    add %r0, %r2
    mod %r0, %r3
    add %r1, 1
    jlt %r1, 1000000, loop
    exit
