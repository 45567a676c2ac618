import { connect } from 'node:http2';
import type { ProbeSpec } from './config.js';
import { classifyError, type ProbeResult } from './probe-result.js';

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

/** HealthCheckRequest{service} in protobuf (field 1, length-delimited), in a gRPC length-prefixed frame. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const message =
    name.length > 0 ? Buffer.concat([Buffer.from([0x0a, ...varint(name.length)]), name]) : Buffer.alloc(0);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

/**
 * HealthCheckResponse{status} from the response body (one gRPC frame): the serving status,
 * 0 (UNKNOWN) when the field is absent, undefined when the body is not one.
 */
export function decodeHealthCheckResponse(body: Buffer): number | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  const msg = body.subarray(5, 5 + len);
  if (msg.length !== len) return undefined;
  let status = 0;
  for (let i = 0; i < msg.length;) {
    const tag = msg[i++]!;
    let value = 0;
    let shift = 0;
    if ((tag & 7) !== 0) return undefined; // HealthCheckResponse has only the varint field 1
    for (;;) {
      if (i >= msg.length) return undefined;
      const b = msg[i++]!;
      value |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    if (tag >> 3 === 1) status = value;
  }
  return status;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * One gRPC health check (grpc.health.v1.Health/Check) over plaintext HTTP/2, as the kubelet's
 * grpc probe makes it: healthy only on grpc-status 0 and SERVING. A fresh connection per
 * probe, like the kubelet's; node's built-in http2, so the bundle stays dependency-free.
 */
export function grpcHealthCheck(spec: Extract<ProbeSpec, { type: 'grpc' }>, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return new Promise((resolve) => {
    let settled = false;
    const session = connect(`http://${host}:${spec.port}`);
    const finish = (r: Omit<ProbeResult, 'type' | 'latencyMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve({ type: 'grpc', latencyMs: round(performance.now() - start), ...r });
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'Timeout' }), timeoutMs);
    session.on('error', (err) => finish({ ok: false, error: classifyError(err) }));
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'bulkhead-sidecar',
    });
    let grpcStatus: string | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (headers) => {
      // A trailers-only answer (an error) carries grpc-status in the headers.
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
    });
    req.on('trailers', (trailers) => {
      if (trailers['grpc-status'] !== undefined) grpcStatus = String(trailers['grpc-status']);
    });
    req.on('data', (c: Buffer) => {
      if (chunks.reduce((n, x) => n + x.length, 0) < 4096) chunks.push(c);
    });
    // A stream cancelled because the connection failed carries the connection's error as cause.
    req.on('error', (err: Error & { cause?: unknown }) =>
      finish({ ok: false, error: classifyError(err.cause ?? err) }),
    );
    req.on('end', () => {
      const serving = decodeHealthCheckResponse(Buffer.concat(chunks));
      if (grpcStatus === '0' && serving === SERVING) finish({ ok: true });
      else finish({ ok: false, error: 'UnexpectedStatus' });
    });
    req.end(encodeHealthCheckRequest(spec.service));
  });
}
