import { graphql } from './gql/index.js';

/**
 * The one operation this partner runs: does the subject's score reach the
 * threshold for waiving a deposit? One bit (category `score.threshold`),
 * never the score. Its type, variables included, is generated from the
 * partner schema; its hash is what the gateway knows it by.
 */
export const DepositWaiverCheck = graphql(`
  query DepositWaiverCheck($subjectId: ID!, $purpose: String!, $threshold: Int!) {
    subject(id: $subjectId, purpose: $purpose) {
      id
      score {
        atLeast(threshold: $threshold)
        asOf
      }
    }
  }
`);
