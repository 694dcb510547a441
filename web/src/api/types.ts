// Shapes of the REST API (see /api/openapi.json).

export interface User {
  id: string;
  email: string;
  role: string;
}

export interface Session {
  user: User;
  csrf_token: string;
}

export type ConnectionStatus = "active" | "needs_reauth" | "revoked";
export type PlatformState = "not_connected" | "active" | "needs_reauth" | "revoked";

export interface Connection {
  id: string;
  platform: string;
  handle: string;
  display_name: string;
  status: ConnectionStatus;
}

export interface Platform {
  id: string;
  name: string;
  rules: { max_chars: number };
  state: PlatformState;
  connections: Connection[];
}

export type TaskStatus =
  | "queued"
  | "running"
  | "retry_scheduled"
  | "unconfirmed"
  | "succeeded"
  | "failed"
  | "cancelled"
  | "missed";

export type JobStatus =
  | "pending"
  | "running"
  | "succeeded"
  | "partially_failed"
  | "failed"
  | "cancelled"
  | "missed";

export interface Task {
  id: string;
  connection_id: string;
  platform: string;
  handle: string;
  status: TaskStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  last_error_kind: string | null;
  external_url: string | null;
}

export interface Job {
  job_id: string;
  post_id: string;
  status: JobStatus;
  content: string;
  scheduled_at: string | null;
  time_zone: string | null;
  created_at: string;
  tasks: Task[];
}

export interface History {
  posts: Job[];
  next_cursor: string | null;
}

export interface Accepted {
  post_id: string;
  job_id: string;
}

export const FINAL_JOB_STATES: JobStatus[] = [
  "succeeded",
  "partially_failed",
  "failed",
  "cancelled",
  "missed",
];
