#!/usr/bin/env bash
# The GPU check: run on a GPU machine from a checkout with node_modules installed (`npm ci`); installs nothing and
# needs no network. In under 5 minutes it
#   1. finds the WebGPU adapter (Dawn through npm `webgpu`) and prints it,
#   2. runs the backend self-test (the model's ops on webgpu vs the cpu backend),
#   3. runs the gradient check (one baseline + one AimKP training step of a tiny model on webgpu vs wasm),
#   4. runs `aimkp bench --quick --backend webgpu`,
#   5. does 2–4 for tfjs-node-gpu too when @tensorflow/tfjs-node-gpu is installed,
# and writes one JSON summary (default ./gpu-check.json; or the path given as $1).
#
# Exit codes: 0 all within tolerance; 1 a check failed or a step timed out (see the summary); 2 no WebGPU adapter or
# backend (one line on stderr says why); 4 the checkout is not ready (node_modules missing).
# Environment: AIMKP_DAWN_FLAGS passes Dawn options (e.g. "adapter=NVIDIA"); docs/backends-and-encoders.md.
# On Linux Dawn needs the Vulkan loader and the GPU's Vulkan driver: NVIDIA → libvulkan1 + the driver's libnvidia-gl
# package; `vulkaninfo --summary` (vulkan-tools) should list the GPU.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-gpu-check.json}
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aimkp-gpu-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT" || exit 4

say() { echo "gpu-check: $*" >&2; }
die() { echo "gpu-check: $2" >&2; exit "$1"; }

# AIMKP_GPU_BUNDLE=DIR: run the bundles of `npm run gpu:bundle` instead of the sources (no node_modules needed;
# scripts/gpu-check-device.sh sets it).
BUNDLE=${AIMKP_GPU_BUNDLE:-}
if [ -n "$BUNDLE" ]; then
  [ -f "$BUNDLE/gpu-check.js" ] || die 4 "$BUNDLE/gpu-check.js is missing: run npm run gpu:bundle where npm ci was run"
  CHECK=(node "$BUNDLE/gpu-check.js")
  AIMKP=(node "$BUNDLE/aimkp.js")
else
  [ -f node_modules/@tensorflow/tfjs/package.json ] || die 4 "node_modules is missing: run npm ci first (this script installs nothing)"
  [ -f node_modules/webgpu/package.json ] || die 4 "npm package webgpu (Dawn's Node binding, an optional dependency) is not installed: npm ci on a supported platform"
  CHECK=(node --import tsx scripts/gpu-check.ts)
  AIMKP=(node bin/aimkp.mjs)
fi

# The machine, recorded silently (a missing tool is just absent from the summary).
{ command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; } >"$WORK/nvidia-smi.txt" 2>/dev/null
{ command -v vulkaninfo >/dev/null && vulkaninfo --summary; } >"$WORK/vulkaninfo.txt" 2>&1
[ -s "$WORK/vulkaninfo.txt" ] || echo "vulkaninfo not found (Debian/Ubuntu: apt install vulkan-tools)" >"$WORK/vulkaninfo.txt"

# One backend: the self-test + gradient check (scripts/gpu-check.ts), then the quick bench. $1 = backend, $2 = label.
check_backend() {
  local backend=$1 label=$2 rc
  timeout 150 "${CHECK[@]}" --backend "$backend" --out "$WORK/$label-check.json" \
    >/dev/null 2>"$WORK/$label-check.err"
  rc=$?
  if [ "$rc" -eq 3 ]; then
    # Could not start: the one line gpu-check.ts printed (Dawn's own warnings come before it).
    grep '^gpu-check: ' "$WORK/$label-check.err" | tail -n 1 >"$WORK/$label-start.txt"
    return 3
  fi
  [ "$rc" -eq 124 ] && say "$backend: self-test + gradient check timed out (150 s)"
  [ -f "$WORK/$label-check.json" ] && say "$backend: $(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const bad = r.selfTest.cases.filter((c) => !c.ok).length + r.gradientCheck.comparisons.filter((c) => !c.ok).length;
    console.log(`${r.description.replace(/^backend: /, "")}; self-test ${r.selfTest.ok ? "ok" : "FAILED"}, gradient check vs ${r.gradientCheck.reference} ${r.gradientCheck.ok ? "ok" : "FAILED"}${bad ? ` (${bad} out of tolerance)` : ""}`);
  ' "$WORK/$label-check.json")"
  timeout 120 "${AIMKP[@]}" bench --quick --backend "$backend" --out "$WORK/$label-bench.json" \
    >/dev/null 2>"$WORK/$label-bench.err"
  local brc=$?
  [ "$brc" -eq 0 ] || say "$backend: bench --quick failed (exit $brc): $(grep -v '^bench:' "$WORK/$label-bench.err" | tail -n 1)"
  [ "$rc" -eq 0 ] && [ "$brc" -eq 0 ]
}

check_backend webgpu webgpu
WEBGPU_RC=$?
if [ "$WEBGPU_RC" -eq 3 ]; then
  # No adapter: one line, nothing else (the summary would say only this).
  cat "$WORK/webgpu-start.txt" >&2
  exit 2
fi

if [ -z "$BUNDLE" ] && node -e "require.resolve('@tensorflow/tfjs-node-gpu')" 2>/dev/null; then
  check_backend tfjs-node-gpu tfjs-node-gpu
  NODEGPU_RC=$?
  [ "$NODEGPU_RC" -eq 3 ] && say "tfjs-node-gpu: $(sed 's/^gpu-check: //' "$WORK/tfjs-node-gpu-start.txt")"
else
  NODEGPU_RC=skip
  echo "not installed" >"$WORK/tfjs-node-gpu-start.txt"
fi

# The summary: what each step wrote, plus the machine; ok only when every step that ran passed.
node -e '
  const fs = require("fs"), os = require("os"), path = require("path");
  const [work, out, webgpuRc, nodeGpuRc] = process.argv.slice(1);
  const read = (name) => { const f = path.join(work, name); return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : null; };
  const json = (name) => { const t = read(name); return t === null ? null : JSON.parse(t); };
  const bench = (name) => {
    const b = json(name);
    if (b === null) return null;
    const ms = (k) => b.train[k].msPerSample;
    return {
      backend: b.machine.backend,
      msPerSample: { baseline: ms("baseline"), aimkpWarmup: ms("aimkpWarmup"), aimkpMasked: ms("aimkpMasked") },
      achievedGflops: { baseline: b.train.baseline.achievedGflops, aimkpMasked: b.train.aimkpMasked.achievedGflops },
      matmulPeakGflops: b.peak.measuredGflops,
      decodeMsPerCase: { greedy: b.predict.greedy?.msPerCase ?? null, beam5: b.predict.beam5?.msPerCase ?? null },
      full: b,
    };
  };
  const section = (label, rc) => rc === "skip"
    ? { skipped: (read(`${label}-start.txt`) ?? "").trim() }
    : rc === "3"
      ? { ok: false, start: (read(`${label}-start.txt`) ?? "").trim().replace(/^gpu-check: /, "") }
      : { ok: rc === "0", check: json(`${label}-check.json`), bench: bench(`${label}-bench.json`) };
  const summary = {
    tool: "aimkp gpu-check",
    date: new Date().toISOString(),
    host: os.hostname(),
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    cpu: { model: os.cpus()[0]?.model ?? null, cores: os.cpus().length },
    nvidiaSmi: (read("nvidia-smi.txt") ?? "").trim() || null,
    vulkaninfo: (read("vulkaninfo.txt") ?? "").trim().split("\n").slice(0, 60),
    dawnFlags: process.env.AIMKP_DAWN_FLAGS ?? null,
    webgpu: section("webgpu", webgpuRc),
    tfjsNodeGpu: section("tfjs-node-gpu", nodeGpuRc),
  };
  summary.ok = summary.webgpu.ok === true && (nodeGpuRc === "skip" || summary.tfjsNodeGpu.ok === true);
  fs.writeFileSync(out, JSON.stringify(summary, null, 2) + "\n");
  const b = summary.webgpu.bench?.msPerSample;
  console.error(`gpu-check: webgpu bench --quick: ${b ? `baseline ${b.baseline.toFixed(1)}, AimKP masked ${b.aimkpMasked.toFixed(1)} ms/sample` : "no result"}`);
  console.error(`gpu-check: ${summary.ok ? "ok" : "FAILED"} — summary in ${out}`);
  process.exit(summary.ok ? 0 : 1);
' "$WORK" "$OUT" "$WEBGPU_RC" "$NODEGPU_RC"
