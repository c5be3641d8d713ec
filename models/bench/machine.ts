// What machine a benchmark ran on, and its theoretical FP32 peak from the CPU's vector extensions.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  /** MHz from os.cpus(), else /proc/cpuinfo "cpu MHz", else BogoMIPS / 2; null if none is known. */
  cpuMHz: number | null;
  mhzSource: 'os.cpus' | 'cpuinfo' | 'bogomips' | null;
  vectorFlags: string[];
  node: string;
  platform: string;
  arch: string;
  /** 1-minute load average when the bench started (other processes compete for the cores). */
  loadAverage1m: number;
}

export interface TheoreticalPeak {
  /** FP32 FLOPs per cycle per core assumed from the flags (two FMA pipes of the widest vector). */
  flopsPerCycle: number;
  basis: string;
  perCoreGflops: number | null;
  allCoresGflops: number | null;
  /** The ceiling of WebAssembly SIMD128 (4 lanes; no FMA instruction, so mul + add on two pipes each). */
  wasmSimdPerCoreGflops: number | null;
}

function cpuinfo(): string {
  try {
    return existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  const info = cpuinfo();
  let cpuMHz: number | null = list[0]?.speed ? list[0].speed : null;
  let mhzSource: MachineInfo['mhzSource'] = cpuMHz !== null ? 'os.cpus' : null;
  if (cpuMHz === null) {
    const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(info);
    if (m) {
      cpuMHz = Number(m[1]);
      mhzSource = 'cpuinfo';
    } else {
      const b = /^bogomips\s*:\s*([\d.]+)/im.exec(info);
      if (b) {
        cpuMHz = Number(b[1]) / 2;
        mhzSource = 'bogomips';
      }
    }
  }
  const flagsLine = /^flags\s*:(.*)$/m.exec(info)?.[1] ?? '';
  const flags = new Set(flagsLine.trim().split(/\s+/));
  const vectorFlags = ['sse2', 'avx', 'avx2', 'fma', 'avx512f'].filter((f) => flags.has(f));
  return {
    cpuModel: list[0]?.model ?? 'unknown',
    cores: list.length,
    cpuMHz,
    mhzSource,
    vectorFlags,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    loadAverage1m: loadavg()[0],
  };
}

/** FP32 peak = GHz × FLOPs/cycle/core: AVX-512 64, AVX2+FMA 32 (2 × 8-lane FMA), AVX 16, SSE 8. */
export function theoreticalPeak(m: MachineInfo): TheoreticalPeak {
  const f = new Set(m.vectorFlags);
  const [flopsPerCycle, basis] = f.has('avx512f')
    ? [64, 'AVX-512: 2 FMA pipes × 16 lanes × 2']
    : f.has('avx2') && f.has('fma')
      ? [32, 'AVX2+FMA: 2 FMA pipes × 8 lanes × 2']
      : f.has('avx')
        ? [16, 'AVX: 8-lane mul + add']
        : [8, 'SSE: 4-lane mul + add'];
  const ghz = m.cpuMHz === null ? null : m.cpuMHz / 1000;
  return {
    flopsPerCycle,
    basis: `${basis} at ${ghz === null ? '? ' : ghz.toFixed(2)} GHz (${m.mhzSource ?? 'unknown clock'}; turbo not counted)`,
    perCoreGflops: ghz === null ? null : ghz * flopsPerCycle,
    allCoresGflops: ghz === null ? null : ghz * flopsPerCycle * m.cores,
    wasmSimdPerCoreGflops: ghz === null ? null : ghz * 16,
  };
}
