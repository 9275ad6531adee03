#!/usr/bin/env bash
# Rebuilds every example object from its C source: clang -O2 -g -target bpf (-mcpu=v3, plus a v4 build of
# the blocklist). Needs clang (18 or newer; CLANG=clang-19 by default) and libbpf-dev's headers. The objects
# are committed, so running the examples and the tests never needs a compiler.
set -euo pipefail
cd "$(dirname "$0")"
CLANG="${CLANG:-clang-19}"
if ! command -v "$CLANG" >/dev/null; then
  echo "build.sh: $CLANG not found (apt-get install clang-19 libbpf-dev, or set CLANG)" >&2
  exit 1
fi
ARCH_INC="/usr/include/$(uname -m)-linux-gnu"
build() { # source output cpu
  # -fdebug-prefix-map keeps the absolute build directory out of DWARF, so the objects are the same wherever
  # they are built.
  "$CLANG" -O2 -g -target bpf -mcpu="$3" -I"$ARCH_INC" -fdebug-prefix-map="$PWD"=. -c "$1" -o "$2"
  echo "built $2"
}
for dir in blocklist proto_counter lpm_acl tailcall_pipeline ringbuf_logger udp_filter; do
  build "$dir/$dir.c" "$dir/$dir.o" v3
done
build blocklist/blocklist.c blocklist/blocklist.v4.o v4
