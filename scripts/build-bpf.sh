#!/usr/bin/env bash
# Builds the host programs in bpf/ with Debian's clang: bpf/NAME.c -> bpf/build/NAME.o, and the
# user-style examples the tests patch, bpf/examples/NAME.c -> bpf/build/examples/NAME.o.
# Idempotent: an object is rebuilt only when its source, a header in bpf/include or this script
# is newer than it. The objects are build output and never committed (.gitignore).
#   scripts/build-bpf.sh           build what is out of date
#   scripts/build-bpf.sh --force   rebuild everything
set -euo pipefail
cd "$(dirname "$0")/.."

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    *) echo "build-bpf: unknown option $arg" >&2; exit 2 ;;
  esac
done

clang=${CLANG:-clang}
if ! command -v "$clang" >/dev/null 2>&1; then
  echo "build-bpf: $clang not found (scripts/setup.sh installs Debian's clang)" >&2
  exit 1
fi

# With -target bpf clang does not search the multiarch directory that holds <asm/types.h>.
multiarch=$("$clang" -print-multiarch 2>/dev/null || true)
includes=(-I bpf/include)
if [ -n "$multiarch" ] && [ -d "/usr/include/$multiarch" ]; then
  includes+=(-I "/usr/include/$multiarch")
fi

mkdir -p bpf/build/examples
newest_dep=$(ls -t bpf/include/*.h scripts/build-bpf.sh | head -n 1)
for src in bpf/*.c bpf/examples/*.c; do
  obj="bpf/build/${src#bpf/}"
  obj="${obj%.c}.o"
  if [ "$force" = 0 ] && [ -f "$obj" ] && [ "$obj" -nt "$src" ] && [ "$obj" -nt "$newest_dep" ]; then
    continue
  fi
  echo "build-bpf: $src -> $obj"
  # Write next to the target and rename, so a failed or interrupted build leaves no partial object
  # and two builds running at once (test workers) never write the same file.
  tmp="$obj.$$.tmp"
  if ! "$clang" -target bpf -g -O2 -Wall -Werror "${includes[@]}" -c "$src" -o "$tmp"; then
    rm -f "$tmp"
    exit 1
  fi
  mv -f "$tmp" "$obj"
done
