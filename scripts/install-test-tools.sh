#!/usr/bin/env bash
# Installs the foreign tools the test suite drives (openssl, SoftHSM2, qpdf,
# poppler, ClamAV, oathtool, xmlsec1, and curl and jq for the README's quick
# start) when any of them is missing.
# Needs root or password-less sudo for apt-get; otherwise it says what to install.
set -euo pipefail

# command -> Debian package
declare -A need=(
  [openssl]=openssl
  [softhsm2-util]=softhsm2
  [pkcs11-tool]=opensc
  [qpdf]=qpdf
  [pdftotext]=poppler-utils
  [clamd]=clamav-daemon
  [sigtool]=clamav
  [oathtool]=oathtool
  [xmlsec1]=xmlsec1
  [curl]=curl
  [jq]=jq
)

missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
[ -f /usr/lib/softhsm/libsofthsm2.so ] || missing+=(softhsm2)
[ ${#missing[@]} -eq 0 ] && exit 0

pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  echo "install-test-tools: missing packages: $pkgs" >&2
  echo "install-test-tools: run as root: apt-get install -y $pkgs" >&2
  exit 1
fi
echo "install-test-tools: installing $pkgs"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
