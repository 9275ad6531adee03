# Bubble sort of the u32 array at r1 (r2 bytes, a multiple of 4), in place, ascending.
# Returns the smallest element | the largest << 32.
    mov %r3, %r2
    rsh %r3, 2                      # n = number of elements
outer:
    jle %r3, 1, done
    mov %r4, %r1                    # p = first element
    mov %r5, %r3
    sub %r5, 1                      # n - 1 adjacent pairs
inner:
    ldxw %r6, [%r4+0]
    ldxw %r7, [%r4+4]
    jle %r6, %r7, ordered
    stxw [%r4+0], %r7
    stxw [%r4+4], %r6
ordered:
    add %r4, 4
    sub %r5, 1
    jne %r5, 0, inner
    sub %r3, 1
    ja outer
done:
    ldxw %r0, [%r1+0]
    mov %r6, %r1
    add %r6, %r2
    ldxw %r7, [%r6-4]
    lsh %r7, 32
    or %r0, %r7
    exit
