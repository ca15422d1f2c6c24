import { createServer, type Server } from 'node:http';

/**
 * A stand-in OTLP/HTTP collector for the benchmark: accepts trace exports and
 * counts them, so tracing runs at its real cost (spans built, batched,
 * encoded and posted) without a collector on the machine.
 */
export async function startOtlpSink(port: number): Promise<{ server: Server; exports: () => number }> {
  let exports = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/traces') exports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, exports: () => exports };
}
