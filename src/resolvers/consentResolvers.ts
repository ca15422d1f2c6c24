import type { Resolvers } from '../schema/generated/types.js';

export const consentResolvers: Resolvers = {};
