import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import type { WebOptions } from './routes.js';

export function registerSignIn(_app: FastifyInstance, _services: Services, _options: WebOptions): void {}
