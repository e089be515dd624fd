#!/usr/bin/env bash
# One idempotent set-up step behind both README commands.
#   scripts/setup.sh          what the app needs (npm dependencies, libpcap, clang and the
#                             headers that build the host programs in bpf/)
#   scripts/setup.sh --test   plus what the test suite needs (tcpdump as the oracle, llvm's
#                             readelf/objdump as the ELF oracles, ...)
# Installs only what is missing, so a second run is a few hundred milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

# Debian packages: the runtime libraries the app links through koffi (libpcap; libbpf1, the
# loader of BPF objects); clang with libbpf's
# bpf_helpers.h (libbpf-dev) and the kernel UAPI headers (linux-libc-dev), which build bpf/; and
# for tests the oracles (tcpdump; llvm-readelf and llvm-objdump from llvm) and the browser the
# e2e suite drives (Debian's chromium; Playwright downloads none).
apt_pkgs=(libpcap0.8 libbpf1 iproute2 clang libbpf-dev linux-libc-dev)
if [ "$want_test" = 1 ]; then
  apt_pkgs+=(tcpdump chromium bpftool llvm)
fi

missing=()
for p in "${apt_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: need root to install: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # An update is needed on a fresh machine, where the package lists are empty.
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: reinstall only when the lockfile changed since the last install.
stamp=node_modules/.setup-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

# The host programs in bpf/ (rebuilt only when a source is newer than its object).
bash scripts/build-bpf.sh
