import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed operations from the partner schema Consentry publishes: the copy in
 * its repository here, or `https://<gateway>/schema/partner.graphql` from a
 * deployment. `persistedDocuments: true` writes src/gql/persisted-documents.json
 * (SHA-256 → document), the manifest the gateway operator registers with
 * `consentry partner documents add <clientId> --manifest ...`.
 */
const config: CodegenConfig = {
  schema: process.env.CONSENTRY_SCHEMA ?? '../../docs/partner-schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  // Node's ES modules need the extension in relative imports.
  importExtension: '.js',
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: {
        persistedDocuments: true,
        fragmentMasking: false,
      },
      config: {
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        // DateTime is an ISO-8601 string on the wire.
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;
