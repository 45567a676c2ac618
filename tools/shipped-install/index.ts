export { kubectl, kubectlOk, type KubectlResult } from './kubectl.js';
export {
  bulkhead,
  DASHBOARD_SECRET,
  ENGINE_NAME,
  ENGINE_NAMESPACE,
  ENGINE_SELECTOR,
  engineEndpoint,
  engineHttps,
  engineLogs,
  installShipped,
  policySourceState,
  REPO_SECRET,
  showCli,
  SOURCE_NAME,
  type CliResult,
  type PrivateRepository,
} from './shipped-install.js';
export { bridgeAddress } from './bridge-address.js';
