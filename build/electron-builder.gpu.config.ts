/** The GPU flavour (`npm run dist:gpu`): the same configuration with @tensorflow/tfjs-node-gpu kept in the payload. */
import { builderConfig } from './electron-builder.config';

export default builderConfig('gpu');
