/**
 * The GPU flavour (`npm run dist:gpu`): the same configuration with @tensorflow/tfjs-node-gpu and the WebGPU backend
 * (tfjs-backend-webgpu + the target platform's dawn.node) kept in the payload. At run time the backend choice takes
 * tfjs-node-gpu when the CUDA 11 libraries are present, else WebGPU when a GPU adapter is found (Vulkan / D3D12 /
 * Metal), else the CPU (tfjs-node or wasm); docs/install.md, "Using a GPU".
 */
import { builderConfig } from './electron-builder.config';

export default builderConfig('gpu');
