#!/usr/bin/env bash
# npm run image — builds the USPA container image from the Dockerfile without a Docker daemon:
# buildah (as root, vfs storage) on a Debian base made here with debootstrap, so nothing comes from
# anywhere but Debian's packages and the npm registry.
#
#   1. base images: Debian ${USPA_IMAGE_SUITE:-trixie} minbase with nodejs and ca-certificates (the
#      runtime base) and the same plus npm (the build base); made once per suite and package list,
#      kept as root filesystem archives in the USPA cache and imported into containers storage;
#   2. `buildah bud -f Dockerfile --build-arg BASE=… --build-arg BUILD_BASE=…`: the Dockerfile is what
#      is built and tested; its layers are cached, so a code change redoes only the app layers;
#   3. the image is tagged localhost/uspa:<package.json version> in containers storage and written as
#      a docker-archive (for `ctr -n k8s.io images import`, `docker load`, `podman load`).
# A second run with unchanged inputs only checks them. Environment: USPA_CACHE_DIR (default
# ~/.cache/uspa), USPA_IMAGE_SUITE, USPA_DEBIAN_MIRROR, USPA_IMAGE_NO_CACHE=1 (rebuild every layer).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=$(node -p "require('./package.json').version")
IMAGE="localhost/uspa:${VERSION}"
CACHE="${USPA_CACHE_DIR:-${HOME}/.cache/uspa}"
SUITE="${USPA_IMAGE_SUITE:-trixie}"
MIRROR="${USPA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
RUNTIME_PACKAGES="nodejs,ca-certificates"
BUILD_PACKAGES="npm"
# Bump when the way the bases are made changes: it is part of their cache key.
BASE_RECIPE=1
OUT="${CACHE}/image"
ARCHIVE="${OUT}/uspa-${VERSION}.tar"
LOG="${OUT}/build.log"
STORAGE=(--storage-driver vfs)

started=$SECONDS
say() { printf '%s image      %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() {
  say "error: $1"
  [[ -n "${2:-}" ]] && say "  what to do: $2"
  exit 1
}

# step <what> <what to do if it fails> <command…>: output to the log, a line every 15 s meanwhile.
step() {
  local what=$1 hint=$2 t0=$SECONDS
  shift 2
  say "${what}…"
  "$@" >>"$LOG" 2>&1 &
  local pid=$! next=15
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS - t0 >= next)); then
      say "  ${what}: $((SECONDS - t0)) s"
      next=$((next + 15))
    fi
  done
  if ! wait "$pid"; then
    tail -n 25 "$LOG" >&2
    fail "${what} failed (full log: ${LOG})" "$hint"
  fi
  say "  ${what}: done in $((SECONDS - t0)) s"
}

[[ $(id -u) -eq 0 ]] || fail "building without Docker needs root (debootstrap, and buildah with vfs storage)" \
  "run it as root, or build with Docker: docker build -t uspa:${VERSION} ."
bash scripts/ensure-container-tools.sh buildah debootstrap runc
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || fail "$tool is not installed" "apt-get install buildah debootstrap runc"
done
mkdir -p "$OUT"
: >"$LOG"

image_id() { buildah "${STORAGE[@]}" inspect --type image --format '{{.FromImageID}}' "$1" 2>/dev/null || true; }

# --- 1. the bases ---------------------------------------------------------------------------------
key=$(printf '%s\n' "$BASE_RECIPE" "$SUITE" "$MIRROR" "$RUNTIME_PACKAGES" "$BUILD_PACKAGES" | sha256sum | cut -c1-12)
BASE_DIR="${CACHE}/image-base-${SUITE}-${key}"
RUNTIME_BASE="localhost/uspa-base:${SUITE}-${key}"
BUILD_BASE="localhost/uspa-build-base:${SUITE}-${key}"

# Files no container needs: the package downloads and lists, documentation, translations.
trim() {
  local dir
  for dir in var/cache/apt/archives var/lib/apt/lists var/log usr/share/doc usr/share/man usr/share/info usr/share/locale tmp; do
    find "$1/$dir" -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} +
  done
}

make_rootfs() {
  local tmp="${BASE_DIR}.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  step "debootstrap ${SUITE} minbase with ${RUNTIME_PACKAGES} (once per package list)" \
    "check that ${MIRROR} is reachable and that suite ${SUITE} has these packages" \
    debootstrap --variant=minbase --include="$RUNTIME_PACKAGES" "$SUITE" "$tmp/runtime" "$MIRROR"
  chroot "$tmp/runtime" node --version >>"$LOG" 2>&1 || fail "node does not run in the ${SUITE} root filesystem" "see ${LOG}"
  cp -a "$tmp/runtime" "$tmp/build"
  cp /etc/resolv.conf "$tmp/build/etc/resolv.conf"
  # apt's resolver, not debootstrap's: npm's dependencies name virtual packages.
  step "installing ${BUILD_PACKAGES} into the build base" "check that ${MIRROR} is reachable" \
    chroot "$tmp/build" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${BUILD_PACKAGES//,/ }
  : >"$tmp/build/etc/resolv.conf"
  trim "$tmp/runtime"
  trim "$tmp/build"
  step "archiving the root filesystems" "check free space in ${CACHE}" \
    eval 'tar --numeric-owner -C "$tmp/runtime" -cf "$tmp/runtime.tar" . && tar --numeric-owner -C "$tmp/build" -cf "$tmp/build.tar" .'
  rm -rf "$tmp/runtime" "$tmp/build" "$BASE_DIR"
  mv "$tmp" "$BASE_DIR"
}

import_base() {
  local tar=$1 name=$2 ctr mnt
  ctr=$(buildah "${STORAGE[@]}" from scratch) || fail "buildah could not start an image from scratch" \
    "check that buildah works as root: buildah --storage-driver vfs from scratch"
  mnt=$(buildah "${STORAGE[@]}" mount "$ctr")
  tar --numeric-owner -C "$mnt" -xf "$tar"
  buildah "${STORAGE[@]}" umount "$ctr" >/dev/null
  buildah "${STORAGE[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd '["/bin/sh"]' --label "org.opencontainers.image.description=Debian ${SUITE} minbase: ${RUNTIME_PACKAGES}" "$ctr"
  buildah "${STORAGE[@]}" commit -q --rm "$ctr" "$name" >/dev/null
}

if [[ -z $(image_id "$RUNTIME_BASE") || -z $(image_id "$BUILD_BASE") ]]; then
  [[ -f "${BASE_DIR}/runtime.tar" && -f "${BASE_DIR}/build.tar" ]] || make_rootfs
  step "importing the base images" "check free space in /var/lib/containers" \
    eval 'import_base "${BASE_DIR}/runtime.tar" "$RUNTIME_BASE" && import_base "${BASE_DIR}/build.tar" "$BUILD_BASE"'
fi
say "bases: ${RUNTIME_BASE}, ${BUILD_BASE}"

# --- 2. the image ---------------------------------------------------------------------------------
# Everything the build context can hold (see .dockerignore) and the bases: unchanged, nothing to do.
inputs=$(
  {
    sha256sum Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.image.json bin/uspa.js
    find api cli collector gateway lib operator stack workers workflows -type f ! -name '*.test.ts' ! -path '*/node_modules/*' \
      ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
    image_id "$RUNTIME_BASE"
    image_id "$BUILD_BASE"
  } | sha256sum | cut -c1-16
)
# Layers of earlier builds that this one did not use: untagged, without children, made from our
# bases. vfs keeps a whole copy of the root filesystem per layer, so they would add up to gigabytes.
remove_stale_layers() {
  local used id description stale round
  used=$(grep -oE -- '--> (Using cache )?[0-9a-f]{11,64}' "$LOG" | awk '{print substr($NF, 1, 11)}' | sort -u)
  for round in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
    stale=()
    while read -r id; do
      grep -qx "${id:0:11}" <<<"$used" && continue
      description=$(buildah "${STORAGE[@]}" inspect --type image --format '{{index .OCIv1.Config.Labels "org.opencontainers.image.description"}}' "$id" 2>/dev/null || true)
      [[ "$description" == "Debian ${SUITE} minbase: ${RUNTIME_PACKAGES}" || "$description" == USPA,* ]] && stale+=("$id")
    done < <(buildah "${STORAGE[@]}" images -a --filter dangling=true --format '{{.ID}}')
    ((${#stale[@]})) || break
    say "  removing ${#stale[@]} stale build layer(s) (round ${round})"
    buildah "${STORAGE[@]}" rmi "${stale[@]}" >>"$LOG" 2>&1 || break
  done
}

# The archive's sidecar names the inputs and the image built from them.
recorded=$(cat "${ARCHIVE}.inputs" 2>/dev/null || true)
if [[ -f "$ARCHIVE" && -n "$(image_id "$IMAGE")" && "$recorded" == "${inputs} $(image_id "$IMAGE")" ]]; then
  say "${IMAGE} is up to date (inputs ${inputs})"
else
  previous=$(image_id "$IMAGE")
  say "building ${IMAGE} from the Dockerfile (log: ${LOG})"
  t0=$SECONDS
  no_cache=()
  [[ "${USPA_IMAGE_NO_CACHE:-}" == 1 ]] && no_cache=(--no-cache)
  # The CA bundle this machine trusts (NODE_EXTRA_CA_CERTS, else SSL_CERT_FILE) reaches npm as a
  # build secret, for registries behind a TLS-intercepting proxy; it is never stored in a layer.
  ca=${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-}}
  if [[ -z "$ca" || ! -f "$ca" ]]; then
    ca="${OUT}/no-extra-ca.pem"
    : >"$ca"
  fi
  # Each build step is shown as it starts; npm needs the network (the npm registry only).
  if ! buildah "${STORAGE[@]}" bud --layers "${no_cache[@]}" --pull=never --network host --runtime runc \
    --ulimit nofile=20000:20000 --secret "id=ca,src=${ca}" --build-arg "BASE=${RUNTIME_BASE}" \
    --build-arg "BUILD_BASE=${BUILD_BASE}" --build-arg "VERSION=${VERSION}" -t "$IMAGE" -f Dockerfile . 2>&1 |
    while IFS= read -r line; do printf '%s %s\n' "$(date -u +%H:%M:%S)" "$line"; done | tee -a "$LOG" |
    grep --line-buffered -E '^[0-9:]+ (\[[0-9]+/[0-9]+\] )?STEP [0-9]+' | sed -u -E 's/^([0-9:]+) /\1            /; s/(.{150}).*/\1…/' >&2; then
    tail -n 25 "$LOG" >&2
    fail "buildah bud failed (full log: ${LOG})" "an npm error: check that registry.npmjs.org is reachable; a tsc error: run npm run typecheck"
  fi
  built=$(image_id "$IMAGE")
  say "  built in $((SECONDS - t0)) s"
  # The image this build replaced, unless something else still uses it; cached layers stay for the next build.
  if [[ -n "$previous" && "$previous" != "$built" ]]; then
    buildah "${STORAGE[@]}" rmi "$previous" >/dev/null 2>&1 || true
  fi
  remove_stale_layers
  rm -f "$ARCHIVE" "${ARCHIVE}.inputs"
  step "writing the archive" "check free space in ${OUT}" \
    buildah "${STORAGE[@]}" push -q "$IMAGE" "docker-archive:${ARCHIVE}.tmp:${IMAGE}"
  mv "${ARCHIVE}.tmp" "$ARCHIVE"
  echo "${inputs} ${built}" >"${ARCHIVE}.inputs"
fi

# --- 3. what was made -----------------------------------------------------------------------------
size=$(buildah "${STORAGE[@]}" images --format '{{.Size}}' "$IMAGE" | head -n1)
archive_mib=$(($(stat -c %s "$ARCHIVE") / 1048576))
say "done in $((SECONDS - started)) s"
echo "image    ${IMAGE} (${size}; containers storage, vfs: podman --storage-driver vfs run … ${IMAGE} <role>)"
echo "archive  ${ARCHIVE} (${archive_mib} MiB; ctr -n k8s.io images import ${ARCHIVE})"
