import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS } from '../../../src/cli/gatewayNodeFlags.js';

/** V8 reads its flags only at start-up, so the way the gateway is started must carry them. */
describe('the gateway’s V8 flags', () => {
  it('are what `npm start` runs the gateway with', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`node ${GATEWAY_NODE_FLAGS.join(' ')} dist/src/cli/main.js serve`);
  });
});
