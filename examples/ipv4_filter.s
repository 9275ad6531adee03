# ipv4_filter.s: an XDP-style packet filter in eBPF assembly (bpf_conformance / uBPF syntax).
#
# Input: r1 = pointer to an Ethernet frame, r2 = its length. Returns 0 (drop) or 1 (pass).
# Drops IPv4 packets whose source is in 192.0.2.0/24 (TEST-NET-1, a stand-in for a blocklist)
# and IPv4 UDP datagrams to port 1900 (SSDP, a common amplification vector). Everything else passes,
# including frames too short to parse.
#
# `npm start` runs it over generated traffic on every engine. One frame by hand (UDP 192.0.2.7 -> port 1900,
# dropped: prints 0x0):
#   ebpf-wasm run examples/ipv4_filter.s --mem 02000000000102000000000208004500001c0000400040110000c0000207c6336401d90e076c00080000

    mov %r0, 1                   # default verdict: pass
    jlt %r2, 34, done            # shorter than Ethernet (14) + minimal IPv4 (20): pass
    ldxh %r3, [%r1+12]           # EtherType, network byte order
    be16 %r3
    jne %r3, 0x0800, done        # not IPv4
    ldxw %r4, [%r1+26]           # IPv4 source address
    be32 %r4
    and32 %r4, 0xffffff00        # its /24
    jeq32 %r4, 0xc0000200, drop  # 192.0.2.0/24
    ldxb %r5, [%r1+23]           # IPv4 protocol
    jne %r5, 17, done            # not UDP
    ldxb %r6, [%r1+14]           # version and IHL
    and %r6, 0x0f
    lsh %r6, 2                   # IPv4 header length in bytes
    mov %r7, %r6
    add %r7, 22                  # 14 (Ethernet) + IHL + 8 (UDP header)
    jgt %r7, %r2, done           # truncated UDP header: pass
    mov %r8, %r1
    add %r8, %r6
    ldxh %r3, [%r8+16]           # UDP destination port, at 14 + IHL + 2
    be16 %r3
    jne %r3, 1900, done
drop:
    mov %r0, 0
done:
    exit
