import { Initial1764000000000 } from './1764000000000-Initial.js';
import { AuditAppendOnly1764000000001 } from './1764000000001-AuditAppendOnly.js';
import { PartnerTokenIssuance1764000000002 } from './1764000000002-PartnerTokenIssuance.js';
import { PartnerDpop1764000000010 } from './1764000000010-PartnerDpop.js';
import { GatewaySettings1764000000011 } from './1764000000011-GatewaySettings.js';
import { AuditAppendSequencer1764000000040 } from './1764000000040-AuditAppendSequencer.js';
import { PartnerTrustedDocuments1764000000050 } from './1764000000050-PartnerTrustedDocuments.js';
import { SubjectPseudonyms1764000000060 } from './1764000000060-SubjectPseudonyms.js';
import { AccessAppendCheck1764000000070 } from './1764000000070-AccessAppendCheck.js';
import { FactChanges1764000000080 } from './1764000000080-FactChanges.js';
import { AuditHashUnindexed1764000000090 } from './1764000000090-AuditHashUnindexed.js';
import { ProbingEvaluations1764000000100 } from './1764000000100-ProbingEvaluations.js';
import { ProbingCounts1764000000110 } from './1764000000110-ProbingCounts.js';

/** Every migration, in order. Listed explicitly: no globbing at run time. */
export const migrations = [
  Initial1764000000000,
  AuditAppendOnly1764000000001,
  PartnerTokenIssuance1764000000002,
  PartnerDpop1764000000010,
  GatewaySettings1764000000011,
  AuditAppendSequencer1764000000040,
  PartnerTrustedDocuments1764000000050,
  SubjectPseudonyms1764000000060,
  AccessAppendCheck1764000000070,
  FactChanges1764000000080,
  AuditHashUnindexed1764000000090,
  ProbingEvaluations1764000000100,
  ProbingCounts1764000000110,
];
