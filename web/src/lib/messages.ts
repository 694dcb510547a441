// Words the pages share.

/** What to say to a 429 (`rate_limited`), from its `Retry-After`. */
export function tooManyAttempts(retryAfter: number | null): string {
  return `Too many attempts. Try again in ${retryAfter ?? 60} seconds.`;
}

/** The login page's notice after a password reset (passed as router state). */
export const PASSWORD_RESET_NOTICE =
  "Your password was changed; every other session was signed out. Log in with the new password.";
