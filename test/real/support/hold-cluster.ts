// Starts a one-node real cluster the way a test run would (with its reaper), writes its run
// folder to argv[2] and waits to be killed: the SIGKILL-the-launcher case of the teardown test.
import { writeFile } from 'node:fs/promises';
import { startLocalCluster } from '../../../tools/local-cluster/index.js';
import type { NodeImage } from '../../../tools/local-cluster/index.js';

const [out, imagesJson] = [process.argv[2]!, process.argv[3]!];
const images = JSON.parse(imagesJson) as NodeImage[];
const cluster = await startLocalCluster({ workloads: true, realNodes: 1, images });
await writeFile(out, JSON.stringify({ runDir: cluster.runDir, server: cluster.server }));
setInterval(() => {}, 1 << 30);
