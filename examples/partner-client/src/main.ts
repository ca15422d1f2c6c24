// A typed Consentry partner client: token, then one registered operation by its hash.
//
//   npm run codegen && npm run build && node dist/main.js [subjectId]
//
// CONSENTRY_URL      the gateway (default http://localhost:4000)
// PARTNER_DIR        the folder with partner.json and private-key.json
//                    (default ../../demo-credentials/swift-wheels-car-rental)
import { fileURLToPath } from 'node:url';
import { accessToken, readCredentials } from './accessToken.js';
import { DepositWaiverCheck } from './depositWaiver.js';
import { runTrusted } from './trustedClient.js';

const gateway = process.env.CONSENTRY_URL ?? 'http://localhost:4000';
const folder = process.env.PARTNER_DIR ?? fileURLToPath(new URL('../../../demo-credentials/swift-wheels-car-rental', import.meta.url));
const subjectId = process.argv[2] ?? 'demo-subject-1';
const threshold = 650;

const credentials = await readCredentials(folder);
const token = await accessToken(gateway, credentials, 'score.threshold');
const { data, errors } = await runTrusted(gateway, token, DepositWaiverCheck, { subjectId, purpose: 'deposit_waiver', threshold });

for (const e of errors ?? []) console.error(`${e.extensions?.code ?? 'ERROR'}: ${e.message}`);
// `data` is typed from the schema: data.subject.score.atLeast is boolean | null, asOf a string.
const score = data?.subject?.score;
if (!score || score.atLeast === null) {
  console.log(`${subjectId}: no answer (see the errors above)`);
  process.exitCode = 1;
} else {
  console.log(`${subjectId}: score at least ${threshold}: ${score.atLeast ? 'yes, waive the deposit' : 'no, take a deposit'} (score as of ${score.asOf ?? 'unknown'})`);
}
