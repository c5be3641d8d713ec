// Public entry of the LM core: import from 'models/lm' (contract types + factory + helpers).
export type * from './contract';
export { createKeyphraseLM, plainVariant } from './keyphrase-lm';
export type { KeyphraseLMCore, LayoutChoice } from './keyphrase-lm';
export { defaultLmConfig, countParameters, validateLmConfig } from './config';
export type { ParameterCounts } from './config';
export {
  keptTextIndices,
  keptImageIndices,
  randomKeptTextIndices,
  randomKeptImageIndices,
  pooledTextGroups,
  pooledImageGroups,
} from './masking';
export { exportWeights, importWeights, copyWeightsByName } from './weights-io';
export type { ExportedWeights, ImportReport } from './weights-io';
