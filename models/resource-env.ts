// Environment variables through which an installed app tells the core where the installer put its read-only
// resources (the source tree finds them in node_modules/ and data/ instead). Set by the main process or the server
// before any worker starts (workers inherit process.env); see electron/packaged-resources.ts.

/** Folder with the MobileNetV2 graph model files of nsfwjs (model.min.js + shards), e.g. <resources>/models/mobilenet_v2_mid. */
export const MOBILENET_DIR_ENV = 'AIMKP_MOBILENET_DIR';

/** Folder of the bundled ClipArt-KP data set, e.g. <resources>/data/clipart-kp. */
export const BUNDLED_DATA_DIR_ENV = 'AIMKP_BUNDLED_DATA_DIR';
