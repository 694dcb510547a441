// How a platform is named to people: the API sends lower-case ids (`manch`).

const NAMES: Record<string, string> = {
  manch: "Manch",
  bluesky: "Bluesky",
  mastodon: "Mastodon",
  matrix: "Matrix",
};

/** The platforms the server knows, in the order the app lists them (filters). */
export const PLATFORM_IDS = Object.keys(NAMES);

/** A platform's display name from its id (`manch` → `Manch`); an unknown id is capitalised. */
export function platformName(id: string): string {
  const known = NAMES[id.toLowerCase()];
  if (known) return known;
  return id.length > 0 ? id.charAt(0).toUpperCase() + id.slice(1) : id;
}
