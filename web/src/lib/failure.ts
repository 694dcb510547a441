// Why a target did not go out, in plain words, and what to do about it: the
// next step depends on the kind of failure (`last_error_kind`), not on the
// platform's message, which is shown as it came, below.
import type { Task } from "../api/types";
import { platformName } from "./platforms";
import { nextAttemptWhen } from "./status";

export interface Failure {
  /** What happened. */
  what: string;
  /** The next step: the user's, or what Prasaran does by itself. */
  next: string;
  /** Where the next step is taken (the Dashboard, to reconnect). */
  link?: string;
  /** The platform's own message, where it is not already in `what`. */
  said: string | null;
  /** Prasaran tries again by itself: a warning, not yet a failure. */
  retrying: boolean;
}

type FailedTask = Pick<Task, "status" | "platform" | "last_error_kind" | "last_error" | "next_attempt_at">;

/** A message ends without its own full stop, so a sentence can go on after it. */
const clause = (text: string) => text.trim().replace(/[.。]+$/, "");

/**
 * A failed target's, or one waiting to try again: null for any other state
 * (a cancelled or missed target's reason is no failure of the platform's).
 */
export function failureOf(task: FailedTask, now: number = Date.now()): Failure | null {
  if (task.status !== "failed" && task.status !== "retry_scheduled" && task.status !== "unconfirmed") return null;
  const platform = platformName(task.platform);
  const said = task.last_error?.trim() || null;
  const retrying = task.status !== "failed" && task.next_attempt_at != null;
  const when = task.next_attempt_at ? nextAttemptWhen(task.next_attempt_at, now) : "";
  const retriesItself = `Prasaran retries by itself ${when}.`;
  switch (task.last_error_kind) {
    case "transient":
      return {
        what: "The platform was briefly unavailable.",
        next: retrying ? retriesItself : "Prasaran has stopped trying: retry once it is back.",
        said,
        retrying,
      };
    case "rate_limited":
      return {
        what: `${platform} asked Prasaran to post less often for now.`,
        next: retrying ? retriesItself : "Wait a few minutes, then retry.",
        said,
        retrying,
      };
    case "rejected":
      return {
        what: said ? `${platform} refused this post: ${clause(said)}.` : `${platform} refused this post.`,
        next: "Edit the text and post again.",
        said: null,
        retrying: false,
      };
    case "revoked":
    case "unauthorized":
      return {
        what: "Prasaran can no longer post to this account.",
        next: "Reconnect it on the Dashboard.",
        link: "/",
        said,
        retrying: false,
      };
    case "unknown":
      return {
        what: `Prasaran could not tell whether ${platform} received the post.`,
        next: retrying
          ? `Prasaran asks ${platform} again by itself ${when}, so it is not posted twice.`
          : `Look on ${platform} before you retry, so it is not posted twice.`,
        said,
        retrying,
      };
    default:
      // No kind (or one this app does not know yet): the message is all there is.
      if (!said) return null;
      return {
        what: "The post did not go out.",
        next: retrying ? retriesItself : "Retry, or edit the text and post again.",
        said,
        retrying,
      };
  }
}
