#!/usr/bin/env bash
# Idempotent machine setup for GeoToken.NET.
#   eng/setup.sh               - what building and the demo need (.NET 10 SDK, libstdc++ for TorchSharp)
#   eng/setup.sh --test-deps   - also everything the tests cross-check against: Google's C++ S2
#                                (libs2-dev + g++), NumPy, Pillow (image decoding and resizing),
#                                exiftool (EXIF GPS and orientation), PyTorch (the model peers and
#                                PyTorch checkpoints) with OpenBLAS (else its BLAS is the slow reference one)
#                                and PostgreSQL 17 with pgvector 0.8 (the PostgreSQL gallery tests; on
#                                Debian 12 from trixie, pinned like libstdc++6), and Chromium (the
#                                service page test drives it headless)
#   eng/setup.sh --peers       - also the remaining peers of benchmarks/peers: FAISS
# Safe to run repeatedly: every step checks before it acts.
set -euo pipefail

want_peers=0
want_test=0
for a in "$@"; do
  case "$a" in
    --peers) want_peers=1; want_test=1 ;;
    --test-deps) want_test=1 ;;
    *) echo "setup: unknown option '$a'" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1;34msetup:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31msetup: %s\033[0m\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

# 1. .NET 10 SDK -----------------------------------------------------------------------------
if ! command -v dotnet >/dev/null 2>&1; then
  die ".NET SDK not found. Install the .NET 10 SDK: https://dotnet.microsoft.com/download/dotnet/10.0"
fi
if ! dotnet --list-sdks 2>/dev/null | grep -qE '^10\.'; then
  die ".NET 10 SDK required; found: $(dotnet --list-sdks | tr '\n' ' '). Install it from https://dotnet.microsoft.com/download/dotnet/10.0"
fi

# 2. libstdc++ with GLIBCXX_3.4.32 (TorchSharp 0.107's libLibTorchSharp.so needs GCC >= 13's) ---
have_glibcxx() {
  local f
  for f in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6; do
    [ -e "$f" ] && grep -aq 'GLIBCXX_3\.4\.32' "$f" && return 0
  done
  return 1
}

is_debian12() { [ -r /etc/os-release ] && . /etc/os-release && [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ]; }

apt_updated=0
apt_update() { if [ $apt_updated -eq 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi; }

# Debian trixie as a source pinned at priority 100: nothing comes from it unless asked for with -t trixie.
add_trixie() {
  if [ ! -f /etc/apt/sources.list.d/trixie.list ] || [ ! -f /etc/apt/preferences.d/trixie-pin ]; then
    echo 'deb http://deb.debian.org/debian trixie main' | $SUDO tee /etc/apt/sources.list.d/trixie.list >/dev/null
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | $SUDO tee /etc/apt/preferences.d/trixie-pin >/dev/null
    apt_updated=0
  fi
  apt_update
}

if [ "$(uname -s)" = Linux ] && ! have_glibcxx; then
  if is_debian12; then
    say "installing libstdc++6 from Debian trixie (pinned at priority 100; only this package is taken from trixie)"
    add_trixie
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t trixie libstdc++6 >/dev/null
    have_glibcxx || die "libstdc++6 from trixie did not provide GLIBCXX_3.4.32"
  else
    die "TorchSharp 0.107 needs libstdc++ with GLIBCXX_3.4.32 (GCC 13 or newer). Install a newer libstdc++6 (e.g. Ubuntu 24.04+, Debian 13+, Fedora 39+ ship it)."
  fi
fi

# 3. Test and peer dependencies (Debian packages) ---------------------------------------------
pkgs=()
[ $want_test -eq 1 ] && pkgs+=(libs2-dev g++ binutils python3-numpy python3-mpmath python3-pil libimage-exiftool-perl python3-torch libopenblas0-pthread chromium)
[ $want_peers -eq 1 ] && pkgs+=(python3-faiss)
if [ ${#pkgs[@]} -gt 0 ]; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "these need Debian packages: ${missing[*]}"
    say "installing Debian packages: ${missing[*]}"
    apt_update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# 4. PostgreSQL 17 with pgvector 0.8 (tests/GeoToken.Retrieval.PostgreSql.Tests start a private server) ------------
if [ $want_test -eq 1 ]; then
  missing=()
  for p in postgresql-17 postgresql-17-pgvector; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "the PostgreSQL gallery tests need PostgreSQL 17 with pgvector 0.8: ${missing[*]}"
    if is_debian12; then
      say "installing ${missing[*]} from Debian trixie (pinned at priority 100)"
      add_trixie
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t trixie "${missing[@]}" >/dev/null
    else
      say "installing ${missing[*]}"
      apt_update
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  fi
fi

say "ok"
