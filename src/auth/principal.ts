export type Role = 'partner' | 'subject' | 'compliance' | 'admin';
export const USER_ROLES = ['subject', 'compliance', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Who is calling, as established from a verified token. */
export type Principal =
  | {
      kind: 'partner';
      partnerId: string;
      scopes: ReadonlySet<string>;
      tokenId: string;
      /** The JWK thumbprint a DPoP-bound token is bound to (`cnf.jkt`); absent for a bearer token. */
      jkt?: string;
    }
  | { kind: 'user'; sub: string; roles: ReadonlySet<UserRole>; issuer: string };

export function hasRole(principal: Principal | undefined, role: Role): boolean {
  if (!principal) return false;
  return principal.kind === 'partner' ? role === 'partner' : principal.roles.has(role as UserRole);
}
