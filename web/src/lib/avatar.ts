// The round badges that stand for a person or an account: a letter, and for
// an account a colour of its own, so that accounts are told apart at a glance.

/** The letter a badge shows: the name's first (a handle's after its `@`), upper-cased. */
export function initialOf(name: string): string {
  const first = Array.from(name.trim().replace(/^@/, ""))[0];
  return first ? first.toLocaleUpperCase() : "?";
}

// Dark enough for the white letter on each (WCAG AA); spelled out whole so Tailwind finds them.
const TONES = [
  "bg-indigo-700",
  "bg-emerald-700",
  "bg-rose-700",
  "bg-sky-700",
  "bg-amber-700",
  "bg-violet-700",
  "bg-teal-700",
  "bg-fuchsia-700",
  "bg-orange-700",
  "bg-cyan-700",
];

/** One account's colour, the same on every page and every visit: picked by its id. */
export function avatarTone(seed: string): string {
  let hash = 0;
  for (const ch of seed) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return TONES[hash % TONES.length];
}

/**
 * The name an account shows people (`Ada Lovelace`), when it says something
 * its handle does not: null when empty, or the handle again, whole or without
 * its server (`ada` for `@ada@mastodon.social`, `alice` for `@alice:example.org`).
 */
export function displayNameOf(account: { display_name?: string | null; handle: string }): string | null {
  const name = account.display_name?.trim() ?? "";
  const bare = (s: string) => s.trim().replace(/^@/, "");
  const handle = bare(account.handle);
  const local = handle.split(/[@:]/, 1)[0];
  return name === "" || bare(name) === handle || name === local ? null : name;
}
