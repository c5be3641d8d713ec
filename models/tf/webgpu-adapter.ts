/**
 * Finding a WebGPU adapter in Node through Dawn's binding (npm `webgpu`, optional: a prebuilt dawn.node per platform).
 *
 * Dawn talks to the GPU through Vulkan (Linux, Windows), D3D12 (Windows) or Metal (macOS) — no CUDA. A missing binding,
 * loader or driver is a reason string ("no adapter (…)"), never a throw: the backend choice lists it and moves on.
 *
 * `AIMKP_DAWN_FLAGS` passes Dawn's own options (whitespace-separated), e.g. `adapter=NVIDIA` to pick one of several GPUs
 * or `backend=opengles` for Dawn's OpenGL ES backend. The latter offers only "compatibility" adapters (requested
 * automatically when no core one exists); with Mesa's llvmpipe it gives a software adapter on a machine without a GPU,
 * which the tests use to run the WebGPU backend for real (slowly).
 */
import { checkVulkanLoader, systemGpuProbe, vulkanIcdFiles, VULKAN_INSTALL_HINT } from './gpu-requirements';

/** The parts of Dawn's objects this project touches (the full types are @webgpu/types; not pulled in on purpose). */
export interface DawnAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}
export interface DawnDevice {
  destroy(): void;
}
export interface DawnAdapter {
  readonly info: DawnAdapterInfo;
  readonly features: ReadonlySet<string>;
  readonly limits: Readonly<Record<string, number>>;
  requestDevice(descriptor?: {
    requiredFeatures?: string[];
    requiredLimits?: Record<string, number>;
  }): Promise<DawnDevice>;
}
export interface DawnGpu {
  requestAdapter(options?: {
    powerPreference?: 'high-performance' | 'low-power';
    featureLevel?: 'core' | 'compatibility';
  }): Promise<DawnAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

/** What the backend description shows of an adapter. */
export interface GpuAdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (llvmpipe, lavapipe, SwiftShader, …): slower than wasm. */
  software: boolean;
  /** 'compatibility': a restricted WebGPU adapter (Dawn's OpenGL ES / GL backends offer only these). */
  featureLevel: 'core' | 'compatibility';
  /** The Dawn options it was found with (AIMKP_DAWN_FLAGS). */
  dawnFlags: string[];
}

export interface WebGpuAdapter {
  gpu: DawnGpu;
  adapter: DawnAdapter;
  /** Dawn's WebGPU constants and classes (GPUBufferUsage, GPUMapMode, GPUBuffer, …), which tfjs expects as globals. */
  globals: Record<string, unknown>;
  description: GpuAdapterDescription;
}

export type WebGpuProbeResult = { ok: true; adapter: WebGpuAdapter } | { ok: false; reason: string };
/** Finds an adapter or says why not; injectable so the backend choice can be tested without a GPU. */
export type WebGpuProbe = () => Promise<WebGpuProbeResult>;

/** Dawn's options from AIMKP_DAWN_FLAGS (whitespace-separated; each is `name=value`). */
export function dawnFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.AIMKP_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

/** The Dawn backend a `backend=…` flag asks for, or null (Dawn's default for the platform). */
export function dawnBackendFlag(flags: readonly string[]): string | null {
  const flag = flags.find((f) => f.startsWith('backend='));
  return flag ? flag.slice('backend='.length).toLowerCase() : null;
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render/i;

export function describeAdapter(
  info: DawnAdapterInfo,
  featureLevel: GpuAdapterDescription['featureLevel'],
  flags: readonly string[],
): GpuAdapterDescription {
  const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
  const d = {
    vendor: text(info.vendor),
    architecture: text(info.architecture),
    device: text(info.device),
    description: text(info.description),
  };
  const software = info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(`${d.device} ${d.description}`);
  return { ...d, software, featureLevel, dawnFlags: [...flags] };
}

/** "NVIDIA H200 (…driver…); vendor nvidia, architecture hopper" — for the backend line. */
export function adapterLabel(a: GpuAdapterDescription): string {
  const name = [a.device, a.description].filter(Boolean);
  const head = name.length === 0 ? 'unnamed adapter' : name.length === 1 ? name[0] : `${name[0]} (${name[1]})`;
  const parts = [
    a.vendor && `vendor ${a.vendor}`,
    a.architecture && `architecture ${a.architecture}`,
    a.software && 'software',
    a.featureLevel === 'compatibility' && 'compatibility mode',
  ].filter(Boolean);
  return parts.length === 0 ? head : `${head}; ${parts.join(', ')}`;
}

/** The probe for this machine (Dawn through npm `webgpu`). */
export async function probeWebGpuAdapter(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Promise<WebGpuProbeResult> {
  const flags = dawnFlags(env);
  const backend = dawnBackendFlag(flags);
  const onVulkan = platform === 'linux' && (backend === null || backend === 'vulkan');
  // Without the loader Dawn prints a warning and finds nothing; say what to install instead (AIMKP_GPU_CHECK=off: skip).
  if (onVulkan && env.AIMKP_GPU_CHECK !== 'off') {
    const missing = checkVulkanLoader(systemGpuProbe(env, platform));
    if (missing !== null) return { ok: false, reason: `no adapter (${missing})` };
  }
  // Dawn's GL backends open EGL; with no display, Mesa needs to be told to run headless.
  if (
    platform === 'linux' &&
    /^opengl/.test(backend ?? '') &&
    !env.EGL_PLATFORM &&
    !env.DISPLAY &&
    !env.WAYLAND_DISPLAY
  )
    process.env.EGL_PLATFORM = 'surfaceless';

  const dawn = await importDawn();
  if (typeof dawn === 'string') return { ok: false, reason: dawn };
  let gpu: DawnGpu;
  try {
    gpu = dawn.create(flags);
  } catch (err) {
    return { ok: false, reason: `no adapter (Dawn rejected AIMKP_DAWN_FLAGS="${flags.join(' ')}": ${firstLine(err)})` };
  }
  try {
    let featureLevel: GpuAdapterDescription['featureLevel'] = 'core';
    let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) {
      featureLevel = 'compatibility';
      adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel });
    }
    if (adapter === null) return { ok: false, reason: `no adapter (${noAdapterHint(platform, backend, env)})` };
    return {
      ok: true,
      adapter: { gpu, adapter, globals: dawn.globals, description: describeAdapter(adapter.info, featureLevel, flags) },
    };
  } catch (err) {
    return { ok: false, reason: `no adapter (requestAdapter failed: ${firstLine(err)})` };
  }
}

function noAdapterHint(platform: NodeJS.Platform, backend: string | null, env: NodeJS.ProcessEnv): string {
  const api = backend ?? (platform === 'darwin' ? 'metal' : platform === 'win32' ? 'd3d12/vulkan' : 'vulkan');
  if (platform === 'linux' && api === 'vulkan') {
    const icds = vulkanIcdFiles(env);
    if (icds.length === 0) return `no Vulkan driver (ICD) installed: ${VULKAN_INSTALL_HINT}`;
    return (
      `Dawn found no Vulkan GPU with the features WebGPU needs among the drivers ` +
      `${icds.map((f) => f.split('/').pop()).join(', ')}; check \`vulkaninfo --summary\``
    );
  }
  return `Dawn found no ${api} GPU with the features WebGPU needs`;
}

/** The binding, or why it cannot be loaded ('not installed' when the optional package is absent). */
async function importDawn(): Promise<DawnModule | string> {
  try {
    // A variable specifier keeps bundlers / tsc from resolving the optional package at build time.
    const specifier: string = 'webgpu';
    const mod = (await import(specifier)) as Partial<DawnModule> & { default?: Partial<DawnModule> };
    const api = typeof mod.create === 'function' ? mod : mod.default;
    if (!api || typeof api.create !== 'function' || typeof api.globals !== 'object' || api.globals === null)
      return 'the webgpu package has no create()/globals (expected npm webgpu 0.6)';
    return { create: api.create, globals: api.globals };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = firstLine(err);
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      /'webgpu'|"webgpu"|\bwebgpu\b/.test(message)
    ) {
      // Missing package, or a package without this platform's dawn.node (the GPU installers carry only their own).
      return /dawn\.node/.test(message)
        ? `no Dawn binary for ${process.platform}-${process.arch} in the webgpu package`
        : 'not installed';
    }
    return `the Dawn binding did not load: ${message}`;
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].slice(0, 200);
}
