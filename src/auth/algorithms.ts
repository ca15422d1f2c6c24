/**
 * The signature algorithms accepted from partners: client assertions and DPoP
 * proofs. Asymmetric only: an HS* assertion would let anyone holding the
 * public key forge one. `Ed25519` is the fully-specified name (RFC 9864) of
 * what `EdDSA` means for an Ed25519 key; both are accepted and advertised.
 */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'];
