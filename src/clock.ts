/** Time as an input, so expiry and revocation are tested without sleeping. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
