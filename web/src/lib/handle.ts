// How an account is named to people.

/**
 * A handle as people write it, with one `@`: `@ada.test`, `@hal@fosstodon.org`;
 * a Matrix ID (`@alice:example.org`) comes with its own.
 */
export function atHandle(handle: string): string {
  return handle.startsWith("@") ? handle : `@${handle}`;
}

/** Where a task posts: the account, and the place inside it where there is one (`@alice:example.org · Announcements`). */
export function taskTarget(task: { handle: string; destination_name?: string | null }): string {
  return task.destination_name ? `${atHandle(task.handle)} · ${task.destination_name}` : atHandle(task.handle);
}
