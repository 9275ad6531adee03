#!/usr/bin/env bash
# Rebuilds the map module from c/*.c: maps.shared.wasm (imports a shared memory, for runtimes with workers),
# maps.wasm (imports an unshared one; V8 rejects an import whose shared flag differs from the memory's), and
# binary.ts, which embeds both in base64 so that the runtime (and dist/) needs no file access. The tests never
# run this: they use the committed outputs, and check that binary.ts matches the .wasm files.
#
#   bash runtime/maps/build.sh        # needs clang-19 and wasm-ld-19 (Debian: clang-19 lld-19), or $CLANG / $WASM_LD
#
# The same compiler gives the same bytes (no paths or dates end up in the output). It also checks the
# invariants that let one module serve several threads on one memory: no data segment, no use of the C
# shadow stack (__stack_pointer), and only the memory imported.
set -euo pipefail
cd "$(dirname "$0")"

CLANG="${CLANG:-clang-19}"
WASM_LD="${WASM_LD:-wasm-ld-19}"
WASM2WAT="${WASM2WAT:-../../node_modules/.bin/wasm2wat}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

"$CLANG" --target=wasm32 -O2 -nostdlib -matomics -mbulk-memory -Wall -Wextra -Werror \
	-fno-ident -ffile-prefix-map="$PWD"=. -c c/maps.c -o "$TMP/maps.o"

# A shared memory import must declare a maximum: 4 GiB, so that any runtime memory (whose maximum is at most
# that) matches it. The unshared import declares none, which any memory matches.
"$WASM_LD" --no-entry --import-memory --shared-memory --max-memory=4294967296 "$TMP/maps.o" -o maps.shared.wasm
"$WASM_LD" --no-entry --import-memory "$TMP/maps.o" -o maps.wasm
chmod 644 maps.wasm maps.shared.wasm

for f in maps.wasm maps.shared.wasm; do
	"$WASM2WAT" --enable-threads "$f" -o "$TMP/$f.wat"
	if grep -q '(data' "$TMP/$f.wat"; then echo "$f: has a data segment" >&2; exit 1; fi
	if grep -q 'global.[gs]et \$__stack_pointer' "$TMP/$f.wat"; then echo "$f: uses the shadow stack" >&2; exit 1; fi
	if [ "$(grep -c '(import' "$TMP/$f.wat")" != 1 ]; then echo "$f: imports more than the memory" >&2; exit 1; fi
done

{
	echo '/**'
	echo ' * The map module (c/*.c, built by build.sh: do not edit), in base64: `unshared` imports an unshared memory,'
	echo ' * `shared` a shared one. Embedded so that loading it needs no file system access, in dist/ or a worker.'
	echo ' */'
	echo ''
	echo "/** maps.wasm */"
	echo "export const MAPS_WASM_UNSHARED = '$(base64 -w0 maps.wasm)';"
	echo ''
	echo "/** maps.shared.wasm */"
	echo "export const MAPS_WASM_SHARED = '$(base64 -w0 maps.shared.wasm)';"
} > binary.ts
sha256sum maps.wasm maps.shared.wasm
