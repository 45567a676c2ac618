// kubectl against a local cluster lives in tools/ (the real-node demo drives its cluster with it too).
export { kubectl, kubectlOk, type KubectlResult } from '../../../tools/shipped-install/kubectl.js';
