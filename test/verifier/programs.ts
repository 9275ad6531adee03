// Larger programs for the verifier: the kinds Linux rejects only for path explosion (a loop over a whole packet
// with a table lookup and branches per byte; nested bounded loops in subprograms, called several times), as
// assembly, with the maps they use (corpus.ts MAPS: 7 is a 1 KiB read-only table).

import { mv } from './corpus.js';

/** CRC-32 of up to 1500 bytes of an XDP packet, a table lookup per byte (map 7, the table). */
export const CRC_TABLE = `
    ldxw %r2, [%r1+0]              # data
    ldxw %r3, [%r1+4]              # data_end
    lddw %r0, 0xffffffff
    mov %r4, %r2
    mov %r5, %r2
    add %r5, 1500                  # at most 1500 bytes
loop:
    mov %r6, %r4
    add %r6, 1
    jgt %r6, %r3, done             # next byte within the packet?
    jge %r4, %r5, done             # ... and within 1500 bytes?
    ldxb %r7, [%r4]
    mov %r8, %r0
    xor %r8, %r7
    and %r8, 0xff
    lsh %r8, 2
    lddw map_idx_value %r9, ${mv(7)}
    add %r9, %r8
    ldxw %r9, [%r9]                # table[(crc ^ byte) & 0xff]
    rsh32 %r0, 8
    xor %r0, %r9
    add %r4, 1
    ja loop
done:
    xor32 %r0, -1
    exit
`;

/** Bitwise CRC-32 of up to 1500 bytes: 8 rounds a byte, a branch a round (Linux's worst case: 2^8 paths a byte). */
export const CRC_BITWISE = `
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    lddw %r0, 0xffffffff
    mov %r4, %r2
    mov %r5, %r2
    add %r5, 1500
loop:
    mov %r6, %r4
    add %r6, 1
    jgt %r6, %r3, done
    jge %r4, %r5, done
    ldxb %r7, [%r4]
    xor32 %r0, %r7
    mov %r8, 0
bit:
    mov %r9, %r0
    and %r9, 1
    rsh32 %r0, 1
    jeq %r9, 0, skip
    xor32 %r0, 0xedb88320
skip:
    add %r8, 1
    jlt %r8, 8, bit
    add %r4, 1
    ja loop
done:
    xor32 %r0, -1
    exit
`;

/**
 * Nested bounded loops in subprograms: \`sum3\` runs three nested loops of 16 over a stack buffer of its caller,
 * calling \`mix\` (a loop of its own, with branches) in the innermost one; main calls sum3 on two buffers, twice.
 */
export const NESTED_CALLS = `
    mov %r6, 0
${Array.from({ length: 32 }, (_, k) => `    stdw [%r10-${8 * (k + 1)}], ${k}`).join('\n')}
    mov %r1, %r10
    add %r1, -256
    call local sum3
    add %r6, %r0
    mov %r1, %r10
    add %r1, -128
    call local sum3
    add %r6, %r0
    mov %r1, %r10
    add %r1, -256
    call local sum3
    add %r6, %r0
    mov %r0, %r6
    exit
sum3:                              # r1 = 128 readable bytes of the caller's stack
    mov %r6, %r1
    mov %r7, 0
    mov %r0, 0
    stxdw [%r10-8], %r0
i:
    mov %r8, 0
j:
    mov %r9, 0
k:
    mov %r1, %r9
    and %r1, 15
    lsh %r1, 3
    mov %r2, %r6
    add %r2, %r1
    ldxdw %r1, [%r2]
    mov %r2, %r7
    call local mix
    ldxdw %r1, [%r10-8]
    add %r1, %r0
    stxdw [%r10-8], %r1
    add %r9, 1
    jlt %r9, 16, k
    add %r8, 1
    jlt %r8, 16, j
    add %r7, 1
    jlt %r7, 16, i
    ldxdw %r0, [%r10-8]
    exit
mix:                               # mix(a, b): 8 rounds of shifts and a branch
    mov %r0, %r1
    mov %r3, 0
round:
    lsh %r0, 3
    xor %r0, %r2
    jset %r0, 0x100, odd
    add %r0, 7
    ja next
odd:
    rsh %r0, 1
next:
    add %r3, 1
    jlt %r3, 8, round
    exit
`;
