// Writes the partner schema the gateway publishes at /schema/partner.graphql
// to docs/partner-schema.graphql (`npm run schema:partner`). A test fails
// when the committed file and the served text differ.
import { writeFile } from 'node:fs/promises';
import { RoleSchemas } from '../src/gateway/roleSchemas.js';

const target = new URL('../docs/partner-schema.graphql', import.meta.url);
await writeFile(target, new RoleSchemas().partnerSdl);
console.log(`wrote ${target.pathname}`);
