import type { Services } from '../services.js';
import { AuditCheckpointer } from './auditCheckpointer.js';
import { probingMonitorFor } from './probing.js';

export interface AuditJobs {
  checkpointer: AuditCheckpointer;
  stop(): Promise<void>;
}

/** The audit log's background work for one running gateway: signed checkpoints and probing detection. */
export function startAuditJobs(services: Services): AuditJobs {
  const { config } = services;
  const checkpointer = new AuditCheckpointer(
    { ...services, issuer: config.issuer },
    { every: config.audit.checkpointEvery, intervalSeconds: config.audit.checkpointIntervalSeconds },
  );
  const probing = probingMonitorFor(services);
  checkpointer.start();
  probing.start();
  return {
    checkpointer,
    async stop() {
      await Promise.all([checkpointer.stop(), probing.stop()]);
    },
  };
}
