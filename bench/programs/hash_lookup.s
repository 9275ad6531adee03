# Hash map lookups: r1 = an array of u32 keys (IPv4 source addresses checked against a blocklist), r2 = its
# length in bytes. Looks each key up in map 0 (a BPF_MAP_TYPE_HASH, u32 key, u64 value) with
# bpf_map_lookup_elem (helper 1), the key pointer straight into the input, and returns the sum of the values
# found (wrapping at 2^64). The map's handle is reloaded before every call, as compiled C does.
    mov %r6, %r1                    # cursor (r6-r9 survive calls)
    mov %r7, %r1
    add %r7, %r2                    # end of the keys
    mov %r8, 0                      # sum
    jge %r6, %r7, done
loop:
    lddw map_idx %r1, 0
    mov %r2, %r6
    call 1
    jeq %r0, 0, next
    ldxdw %r0, [%r0+0]
    add %r8, %r0
next:
    add %r6, 4
    jlt %r6, %r7, loop
done:
    mov %r0, %r8
    exit
