/**
 * The V8 flags the gateway runs with: `npm start` carries them (a unit test
 * holds the two equal), and a deployment that starts `consentry serve`
 * itself passes them to node or in NODE_OPTIONS (README, *Deployment*),
 * since V8 reads them only when the process starts. Not on the command's
 * first line: `env -S` is missing from some systems' env (BusyBox), where
 * every command would then fail to start.
 *
 * A partner request keeps what it allocated until its group commit answers,
 * so at V8's default 16 MB semi-space much of it outlives a young-generation
 * collection and is copied, then promoted, then collected again as old. A
 * 32 MB semi-space lets more of it die young. Measured side by side with the
 * default, in alternating rounds: about a tenth less gateway CPU per request
 * on the single-subject loads (64 MB did no better); a bare Apollo Server
 * gains nothing from it. The cost is memory: the young generation may grow
 * to three times 32 MB under load.
 */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=32'] as const;
