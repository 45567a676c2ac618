/**
 * The project's version: `bulkhead --version`, the engine's startup log line and
 * `bulkhead_build_info` in /metrics. A constant rather than a read of package.json at run time,
 * so it is the same in a checkout, the npm package and the image whatever their layout; a test
 * (tools/images/image-refs.test.ts) holds it equal to package.json's version and the image tag.
 */
export const BULKHEAD_VERSION = '0.1.0';
