/* Bounds-checked Ethernet / IPv4 / TCP parse: the C twin of programs/parse_headers.s (same checks, same
 * result: folded IPv4 header checksum << 32 | source port << 16 | destination port, or 0). */
#include <stdint.h>

static uint64_t be16(const uint8_t *p) { return (uint64_t)p[0] << 8 | p[1]; }

uint64_t bench_run(uint8_t *p, uint64_t len) {
  const uint8_t *end = p + len;
  if (p + 14 > end || be16(p + 12) != 0x0800) return 0;
  const uint8_t *ip = p + 14;
  if (ip + 20 > end || ip[0] >> 4 != 4) return 0;
  uint64_t ihl = (uint64_t)(ip[0] & 0xf) << 2;
  if (ihl < 20 || ip + ihl > end) return 0;
  const uint8_t *tcp = ip + ihl;
  uint64_t sum = 0;
  for (const uint8_t *q = ip; q < tcp; q += 2) sum += be16(q);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum + (sum >> 16)) & 0xffff;
  if (ip[9] != 6 || tcp + 20 > end) return 0;
  return sum << 32 | be16(tcp) << 16 | be16(tcp + 2);
}
