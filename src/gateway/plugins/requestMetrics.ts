import type { ApolloServerPlugin } from '@apollo/server';
import type { Metrics } from '../../metrics.js';
import type { GatewayContext } from '../context.js';

/** Request duration by operation type, for /metrics. */
export function requestMetricsPlugin(metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const stop = metrics.graphqlDuration.startTimer();
      let operation = 'unknown';
      return {
        async didResolveOperation({ operation: op }) {
          operation = op?.operation ?? 'unknown';
        },
        async willSendResponse() {
          stop({ operation });
        },
      };
    },
  };
}
