// Words for states and errors, as a person reads them.
import type { JobStatus, TaskStatus } from "../api/types";

type Tone = "neutral" | "success" | "warning" | "danger" | "info";

export const taskStatusText: Record<TaskStatus, [string, Tone]> = {
  queued: ["Waiting", "neutral"],
  running: ["Publishing…", "info"],
  retry_scheduled: ["Retrying soon", "warning"],
  unconfirmed: ["Checking with the platform", "warning"],
  succeeded: ["Published", "success"],
  failed: ["Failed", "danger"],
  cancelled: ["Cancelled", "neutral"],
  missed: ["Missed", "danger"],
};

export const jobStatusText: Record<JobStatus, [string, Tone]> = {
  pending: ["Pending", "neutral"],
  running: ["Publishing", "info"],
  succeeded: ["Published", "success"],
  partially_failed: ["Partly failed", "warning"],
  failed: ["Failed", "danger"],
  cancelled: ["Cancelled", "neutral"],
  missed: ["Missed", "danger"],
};

const errorKinds: Record<string, string> = {
  transient: "The platform had a temporary problem.",
  rate_limited: "The platform asked us to slow down.",
  rejected: "The platform refused this post.",
  revoked: "Access to this account was withdrawn: reconnect it on the dashboard.",
  unauthorized: "The platform did not accept our access: reconnect the account.",
  unknown: "We could not tell whether the platform received the post.",
};

/** The last error in plain words, with the platform's own message when there is one. */
export function describeError(kind: string | null, message: string | null): string | null {
  if (!kind && !message) return null;
  const plain = kind ? errorKinds[kind] : undefined;
  if (plain && message) return `${plain} (${message})`;
  return plain ?? message;
}
