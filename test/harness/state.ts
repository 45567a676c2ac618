import type { LocalCluster } from '../../tools/local-cluster/index.js';

/**
 * What the global fixture shares with the test files of one mocha run (same process: mocha
 * runs the integration tier serially). Namespaces and log files registered here are what the
 * failure dump prints.
 */
let cluster: LocalCluster | undefined;
const namespaces = new Set<string>();
const logFiles = new Map<string, string>();

export function setCluster(c: LocalCluster | undefined): void {
  cluster = c;
}

export function getCluster(): LocalCluster {
  if (!cluster)
    throw new Error(
      'no control plane: run integration tests through test/integration/.mocharc.json (its global fixture starts one)',
    );
  return cluster;
}

export function trackNamespace(ns: string): void {
  namespaces.add(ns);
}

export function trackedNamespaces(): string[] {
  return [...namespaces];
}

/** Registers a process log (an engine, a sidecar) to print when a test fails. */
export function registerLogFile(name: string, path: string): void {
  logFiles.set(name, path);
}

export function registeredLogFiles(): [string, string][] {
  return [...logFiles];
}
