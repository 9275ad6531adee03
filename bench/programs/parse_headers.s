# Parses an Ethernet / IPv4 / TCP packet (r1 = start, r2 = length) the way an XDP program would, checking
# every header against the end of the packet. Returns 0 for anything but a well-formed IPv4 TCP packet, else
# the folded IPv4 header checksum (0xffff when valid) << 32 | source port << 16 | destination port.
    mov %r0, 0
    mov %r9, %r1
    add %r9, %r2                    # end of packet
    mov %r3, %r1
    add %r3, 14
    jgt %r3, %r9, out               # Ethernet header
    ldxh %r4, [%r1+12]
    be16 %r4                        # EtherType
    jne %r4, 0x0800, out            # IPv4 only
    mov %r5, %r3                    # IPv4 header
    add %r3, 20
    jgt %r3, %r9, out
    ldxb %r4, [%r5+0]
    mov %r6, %r4
    rsh %r6, 4
    jne %r6, 4, out                 # version 4
    and %r4, 0xf
    lsh %r4, 2                      # header length in bytes
    jlt %r4, 20, out
    mov %r3, %r5
    add %r3, %r4
    jgt %r3, %r9, out
    mov %r6, 0                      # one's-complement sum of the header's 16-bit words
    mov %r7, %r5
csum:
    ldxh %r8, [%r7+0]
    be16 %r8
    add %r6, %r8
    add %r7, 2
    jlt %r7, %r3, csum
    mov %r8, %r6
    rsh %r8, 16
    and %r6, 0xffff
    add %r6, %r8
    mov %r8, %r6
    rsh %r8, 16
    add %r6, %r8
    and %r6, 0xffff
    ldxb %r4, [%r5+9]
    jne %r4, 6, out                 # TCP only
    mov %r7, %r3
    add %r7, 20
    jgt %r7, %r9, out               # TCP header
    ldxh %r4, [%r3+0]
    be16 %r4                        # source port
    ldxh %r8, [%r3+2]
    be16 %r8                        # destination port
    lsh %r4, 16
    or %r4, %r8
    lsh %r6, 32
    or %r4, %r6
    mov %r0, %r4
out:
    exit
