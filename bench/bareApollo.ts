/**
 * The baseline: Apollo Server 5 with Consentry's own SDL and the same score
 * data held in memory, on the same HTTP integration (Fastify), with no
 * authentication, consent, decision or audit. Started by bench/run.ts.
 */
import fastifyApollo from '@as-integrations/fastify';
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import Fastify from 'fastify';
import { loadTypeDefs } from '../src/gateway/buildSchema.js';
import { scalarResolvers } from '../src/resolvers/scalars.js';
import { benchSubjects } from './data.js';

const subjects = new Map(benchSubjects(1000).map((s) => [s.subjectId, s]));
const summary = (id: string) => subjects.get(id) ?? null;

const resolvers = {
  ...scalarResolvers,
  Query: {
    subject: (_: unknown, args: { id: string }) => ({ id: args.id }),
    subjects: (_: unknown, args: { ids: string[] }) => args.ids.map((id) => ({ id })),
  },
  Subject: {
    score: (s: { id: string }) => (summary(s.id) ? s : null),
    identity: (s: { id: string }) => summary(s.id)?.identity ?? null,
  },
  ScoreSummary: {
    atLeast: (s: { id: string }, a: { threshold: number }) => summary(s.id)!.value >= a.threshold,
    band: (s: { id: string }) => summary(s.id)!.band,
    value: (s: { id: string }) => summary(s.id)!.value,
    dimensions: (s: { id: string }) => summary(s.id)!.dimensions,
    factors: (s: { id: string }) => summary(s.id)!.factors,
    history: (s: { id: string }, a: { months: number }) => summary(s.id)!.history.slice(0, a.months),
    asOf: (s: { id: string }) => summary(s.id)!.asOf,
    model: (s: { id: string }) => summary(s.id)!.model,
  },
};

const apollo = new ApolloServer({ schema: makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers }) });
await apollo.start();
const app = Fastify();
await app.register(fastifyApollo(apollo));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
