/**
 * The benchmark's upstream score service: the test fixture (Apollo Server 5
 * on Fastify, the documented SDL) over the same 1,000 subjects as the local
 * store, in its own process so its CPU is measured apart from the gateway's.
 */
import { startUpstreamScoreService } from '../tests/fixtures/upstreamScoreService.js';
import { benchSubjects } from './data.js';

const service = await startUpstreamScoreService(benchSubjects(1000), Number(process.env.PORT) || undefined);
// The fixture remembers every ask for tests; under load that is only memory, so keep it from growing.
setInterval(() => service.reset(), 1000).unref();
process.stdout.write(`ready ${service.url}\n`);
