#!/usr/bin/env bash
# The GPU check on a machine that has this repository's files and .gpu-bundle/ (npm run gpu:bundle, made where npm ci
# ran) but no Node, no node_modules and no network: a lent device machine, or a lab box reached by copying a folder.
# It unpacks Node and Dawn into a temporary folder, then runs
#   1. scripts/gpu-check.sh from the bundle (WebGPU adapter, self-test, gradient check vs wasm, bench --quick), and
#   2. the data-parallel bench on every core (K = 1, 2, 4, …, the cores; 64 samples per step), issue 17's scaling check,
# writing gpu-check.json, bench-parallel.json and the logs to OUTDIR ($1, else $OUT, else the current folder).
# Under 8 minutes on a 16-core machine. Exit: gpu-check.sh's status (0 ok, 1 a check failed, 2 no WebGPU adapter,
# 4 the bundle is incomplete); the bench's outcome is in bench-parallel.log.
# Vulkan: Dawn needs the Vulkan loader (libvulkan1) and the GPU's driver; where the loader is missing, unpack Debian's
# libvulkan1 first (docs/backends-and-encoders.md "Checking a GPU").
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$ROOT/.gpu-bundle
OUTDIR=${1:-${OUT:-$PWD}}
mkdir -p "$OUTDIR"
say() { echo "gpu-check-device: $*" >&2; }
[ -f "$B/gpu-check.js" ] && [ -f "$B/node.xz" ] || { say "$B is incomplete: run npm run gpu:bundle where npm ci was run"; exit 4; }

# A folder .gl/ of .deb files (the Vulkan loader, libvulkan1, fetched with `apt-get download` where apt works) is
# unpacked into / first: images without the loader have the NVIDIA driver's Vulkan ICD but nothing to load it.
if compgen -G "$ROOT/.gl/*.deb" >/dev/null; then
  for f in "$ROOT"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig 2>/dev/null
fi
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && [ -z "${VK_DRIVER_FILES:-}" ] &&
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json

T=$(mktemp -d "${TMPDIR:-/tmp}/aimkp-device.XXXXXX")
trap 'rm -rf "$T"' EXIT
# xz where installed, else Python's lzma (an image with Python but no xz-utils).
unxz_to() {
  xz -dc "$1" >"$2" 2>/dev/null ||
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
}
unxz_to "$B/node.xz" "$T/node" && chmod +x "$T/node" || { say "could not unpack $B/node.xz"; exit 4; }
export PATH="$T:$PATH"
# The large native files (dawn.node, libvips) travel compressed: unpacked beside themselves, once.
while IFS= read -r f; do
  [ -f "${f%.xz}" ] || unxz_to "$f" "${f%.xz}" || { say "could not unpack $f"; exit 4; }
done < <(find "$B/node_modules" -name '*.xz')
export AIMKP_GPU_BUNDLE=$B AIMKP_MOBILENET_DIR=$B/mobilenet
say "node $(node --version), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

timeout 330 bash "$ROOT/scripts/gpu-check.sh" "$OUTDIR/gpu-check.json" 2>&1 | tee "$OUTDIR/gpu-check.log" >&2
RC=${PIPESTATUS[0]}

cores=$(nproc)
workers=1
for k in 2 4 8 16 32 64; do [ "$k" -le "$cores" ] && workers="$workers,$k"; done
say "data-parallel bench, workers $workers"
(cd "$ROOT" && timeout 240 node "$B/bench-parallel.js" --workers "$workers" --batch 64 --train 512 --rounds 1 --steps 6 \
  --warmup 1 --out "$OUTDIR/bench-parallel.json") >"$OUTDIR/bench-parallel.log" 2>&1 ||
  say "bench-parallel did not finish (exit $?): see bench-parallel.log"
tail -n 12 "$OUTDIR/bench-parallel.log" >&2
exit "$RC"
