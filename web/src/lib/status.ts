// Words for states and errors, as a person reads them.
import type { Job, JobStatus, TaskStatus } from "../api/types";

export type Tone = "neutral" | "success" | "warning" | "danger" | "info";

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

/** A time from the API in the browser's local words (`1/2/2026, 9:00:00 AM`). */
export function localTime(iso: string): string {
  return new Date(iso).toLocaleString();
}

/**
 * A scheduled post that has not started: its time, rather than "Pending".
 */
export function isWaitingForSchedule(job: Pick<Job, "status" | "scheduled_at">): boolean {
  return job.status === "pending" && job.scheduled_at !== null && job.scheduled_at !== undefined;
}

/** A job's status in words: "Scheduled for <local time>" while a scheduled post waits. */
export function jobStatusLabel(job: Pick<Job, "status" | "scheduled_at">): [string, Tone] {
  if (isWaitingForSchedule(job)) return [`Scheduled for ${localTime(job.scheduled_at as string)}`, "neutral"];
  return jobStatusText[job.status];
}

/** When the whole job was published, where the API says (each target has its own time too). */
export function publishedAt(job: Pick<Job, "status" | "completed_at">): string | null {
  return job.status === "succeeded" && job.completed_at ? job.completed_at : null;
}

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
