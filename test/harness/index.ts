export { eventually } from './eventually.js';
export { getCluster, registerLogFile } from './state.js';
export { newNamespace } from './namespace.js';
export { installCrds, waitEstablished } from './crds.js';
