// A tiny stand-in for a pod's main container, run as a real local process by the pod runner:
// it serves /healthz (and /) with 200 until told to fail, then answers 500. Control is on the
// same loopback port: POST /__demo/fail and POST /__demo/recover. Plain JavaScript, no
// dependencies: it must start in milliseconds.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const name = process.argv[3] ?? 'demo-app';
let failing = false;

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/__demo/fail') failing = true;
  else if (req.method === 'POST' && req.url === '/__demo/recover') failing = false;
  else if (failing) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`${name}: internal error\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`${name}: ok\n`);
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening on 127.0.0.1:${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
