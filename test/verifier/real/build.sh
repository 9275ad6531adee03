#!/usr/bin/env bash
# Rebuilds the verifier's corpus of real programs (test/verifier/real.test.ts) from their C sources, each at
# -mcpu=v3 (NAME.o: 32-bit subregisters and jumps, what libbpf-bootstrap and the kernel selftests use) and at
# -mcpu=v1 (NAME.v1.o: what clang up to 19 builds when no -mcpu is given; no 32-bit jumps, so 32-bit values are
# zero-extended with shift pairs). The tests never run this: they read the committed .o files, so they need no
# compiler.
#
#   bash test/verifier/real/build.sh     # clang-19 by default (or $CLANG)
#
# Needs clang with the BPF target and libbpf's headers (Debian: clang-19 libbpf-dev). Debug paths are made
# relative so that the objects do not depend on where the checkout lives.
set -euo pipefail
cd "$(dirname "$0")"

CLANG="${CLANG:-clang-19}"
if ! command -v "$CLANG" >/dev/null; then
	echo "build.sh: $CLANG not found (apt-get install clang-19 libbpf-dev, or set CLANG)" >&2
	exit 1
fi
MULTIARCH="$(gcc -print-multiarch 2>/dev/null || echo "$(uname -m)-linux-gnu")"
FLAGS=(-O2 -g -target bpf -I"/usr/include/$MULTIARCH" -fdebug-compilation-dir=. -fdebug-prefix-map="$PWD"=. -Wall -Werror)

for src in *.c; do
	"$CLANG" "${FLAGS[@]}" -mcpu=v3 -c "$src" -o "${src%.c}.o"
	"$CLANG" "${FLAGS[@]}" -mcpu=v1 -c "$src" -o "${src%.c}.v1.o"
	echo "built ${src%.c}.o ${src%.c}.v1.o"
done
