# Ring buffer producer: r1 = a u32 count n (4 bytes of input). Writes n 16-byte records {u64 i, u64 i * 3},
# i = 0 .. n-1, to map 0 (a BPF_MAP_TYPE_RINGBUF) with bpf_ringbuf_output (helper 130) from the stack.
# Returns the number of records written (stops at the first failure, e.g. a full ring).
    ldxw %r7, [%r1+0]               # n
    mov %r6, 0                      # i (r6-r9 survive calls)
    jge %r6, %r7, done
loop:
    stxdw [%r10-16], %r6
    mov %r1, %r6
    mul %r1, 3
    stxdw [%r10-8], %r1
    lddw map_idx %r1, 0
    mov %r2, %r10
    add %r2, -16
    mov %r3, 16
    mov %r4, 0
    call 130
    jne %r0, 0, done
    add %r6, 1
    jlt %r6, %r7, loop
done:
    mov %r0, %r6
    exit
