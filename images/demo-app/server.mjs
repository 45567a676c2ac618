// The demo-app image's program (plain JavaScript, node built-ins only, starts in milliseconds).
//
//   node server.mjs [port]            an HTTP app on 0.0.0.0:<port> (default $PORT or 8080):
//                                     200 on every path until told to fail, then 500.
//   node server.mjs fetch <url> [ms]  one GET, prints the status; exit 0 on any HTTP answer,
//                                     1 on a network error or timeout (connectivity checks).
//
// Fault control is on the loopback interface only (`kubectl exec <pod> -- node server.mjs
// fetch http://127.0.0.1:8080/__demo/fail`), so no other pod can make this one fail.
import { createServer, get } from 'node:http';

const [, , first, ...rest] = process.argv;

if (first === 'fetch') {
  const [url, timeout = '2000'] = rest;
  const req = get(url, { timeout: Number(timeout) }, (res) => {
    res.resume();
    res.on('end', () => {
      process.stdout.write(`${res.statusCode}\n`);
      process.exit(0);
    });
  });
  req.on('timeout', () => req.destroy(new Error(`timeout after ${timeout}ms`)));
  req.on('error', (err) => {
    process.stdout.write(`error: ${err.message}\n`);
    process.exit(1);
  });
} else {
  const port = Number(first ?? process.env.PORT ?? 8080);
  const name = process.env.HOSTNAME ?? 'demo-app';
  let failing = false;
  const server = createServer((req, res) => {
    const local = req.socket.remoteAddress === '127.0.0.1' || req.socket.remoteAddress === '::ffff:127.0.0.1';
    if (local && req.url === '/__demo/fail') failing = true;
    else if (local && req.url === '/__demo/recover') failing = false;
    else if (failing) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${name}: internal error\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${name}: ok\n`);
  });
  server.keepAliveTimeout = 5000;
  server.listen(port, '0.0.0.0', () => process.stdout.write(`${name} listening on 0.0.0.0:${port}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
