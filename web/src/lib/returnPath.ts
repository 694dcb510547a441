// Where to go after logging in: the page that asked for it (router state
// `from`, set when a signed-out visitor opened a signed-in page).

/**
 * `from` when it is a path on this site (`/jobs/…?x=1`); null for anything
 * else: another origin (`//evil.example`, `/\evil.example`, `https://…`), or
 * the login and sign-up pages themselves.
 */
export function returnPath(from: unknown): string | null {
  if (typeof from !== "string" || !from.startsWith("/") || from.startsWith("//")) return null;
  // Browsers read a backslash as a slash: `/\evil.example` is `//evil.example`.
  if (from.includes("\\") || /[\u0000-\u001f\u007f]/.test(from)) return null;
  const path = from.split(/[?#]/, 1)[0];
  if (path === "/login" || path === "/signup") return null;
  return from;
}

/** `from` in router state, if the state has one. */
export function fromOf(state: unknown): unknown {
  return state && typeof state === "object" ? (state as { from?: unknown }).from : undefined;
}
