// Words for states and errors, as a person reads them.
import type { Job, JobStatus, Task, TaskEvent, TaskStatus } from "../api/types";

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
  return job.status === "pending" && job.scheduled_at != null;
}

/** A job's status in words: "Scheduled for <local time>" while a scheduled post waits. */
export function jobStatusLabel(job: Pick<Job, "status" | "scheduled_at">): [string, Tone] {
  if (isWaitingForSchedule(job)) return [`Scheduled for ${localTime(job.scheduled_at as string)}`, "neutral"];
  return jobStatusText[job.status];
}

/** A post's place in time: when it is scheduled for, or when it was written if it went out at once. */
export function postTime(job: Pick<Job, "scheduled_at" | "created_at">): string {
  return job.scheduled_at ?? job.created_at;
}

/** When the whole job was published, where the API says (each target has its own time too). */
export function publishedAt(job: Pick<Job, "status" | "completed_at">): string | null {
  return job.status === "succeeded" && job.completed_at ? job.completed_at : null;
}

/** When a waiting task runs again: "at <local time>", or "in N s" under a minute ("now" when due). */
export function nextAttemptWhen(iso: string, now: number = Date.now()): string {
  const seconds = Math.ceil((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(seconds)) return "soon";
  if (seconds <= 0) return "now";
  if (seconds < 60) return `in ${seconds} s`;
  return `at ${localTime(iso)}`;
}

/** A task's state in words, with when it runs again where the API says. */
export function taskStatusLabel(
  task: Pick<Task, "status" | "next_attempt_at">,
  now: number = Date.now(),
): [string, Tone] {
  const [label, tone] = taskStatusText[task.status];
  if (!task.next_attempt_at) return [label, tone];
  const when = nextAttemptWhen(task.next_attempt_at, now);
  if (task.status === "retry_scheduled") return [`Retrying ${when}`, tone];
  if (task.status === "unconfirmed") return [`${label}: checking again ${when}`, tone];
  return [label, tone];
}

const outcomes: Record<string, string> = {
  ok: "",
  verified: "found on the platform",
  transient: "temporary problem",
  rate_limited: "rate limited",
  rejected: "refused by the platform",
  unauthorized: "access not accepted",
  revoked: "access withdrawn",
  unknown: "no clear answer",
};

/** One state change of a task, in plain words ("Attempt 2 started", "Failed for now — retrying"). */
export function taskEventText(event: Pick<TaskEvent, "from_status" | "to_status" | "attempt">): string {
  switch (event.to_status) {
    case "queued":
      return event.from_status ? "Queued again" : "Queued";
    case "running":
      return `Attempt ${event.attempt} started`;
    case "retry_scheduled":
      return "Failed for now — retrying";
    case "unconfirmed":
      return "Checking with the platform whether it arrived";
    case "succeeded":
      return "Published";
    case "failed":
      return "Failed";
    case "cancelled":
      return "Cancelled";
    case "missed":
      return "Missed its time";
    default:
      return event.to_status.replace(/_/g, " ");
  }
}

/** What the platform answered: the outcome in words, its HTTP status and how long it took ("temporary problem · HTTP 503 · 240 ms"). */
export function taskEventOutcome(event: Pick<TaskEvent, "outcome" | "platform_status" | "latency_ms">): string {
  const parts: string[] = [];
  if (event.outcome) {
    const words = outcomes[event.outcome] ?? event.outcome.replace(/_/g, " ");
    if (words) parts.push(words);
  }
  if (event.platform_status != null) parts.push(`HTTP ${event.platform_status}`);
  if (event.latency_ms != null) parts.push(`${event.latency_ms.toLocaleString()} ms`);
  return parts.join(" · ");
}
