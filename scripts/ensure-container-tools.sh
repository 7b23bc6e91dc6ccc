#!/usr/bin/env bash
# Installs Debian's container tools when missing: buildah and debootstrap build the image
# (scripts/image.sh), podman and runc run it in the image tests. Arguments: the commands needed
# (default: all four; each is its Debian package's name). CI=true fails where they cannot be had.
set -euo pipefail
tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(buildah debootstrap podman runc)
# runc and debootstrap live in sbin, which a non-login PATH may lack.
present() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }
missing=()
for tool in "${tools[@]}"; do present "$tool" || missing+=("$tool"); done
[ ${#missing[@]} -eq 0 ] && exit 0
status=0
"$BASH" "${BASH_SOURCE[0]%/*}/apt-install.sh" "the container image tests" "${missing[@]}" || status=$?
[ "$status" = 3 ] && exit 0
[ "$status" = 0 ] || exit "$status"
for tool in "${missing[@]}"; do
  present "$tool" || { echo "error: apt-get ran but $tool is still missing" >&2; exit 1; }
done
