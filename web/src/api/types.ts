// Shapes of the REST API (see /api/openapi.json).

export interface User {
  id: string;
  email: string;
  role: string;
  /** The address was confirmed through the emailed link; connecting platforms needs it (403 `email_unverified`). */
  email_verified: boolean;
}

export interface Session {
  user: User;
  csrf_token: string;
  /** Each quota of the account and what it used (`GET /api/v1/me` only). */
  quotas?: Quotas;
}

export interface QuotaUse {
  used: number;
  limit: number;
}

/** What one account may use; over one the server answers 429 `quota_exceeded`. */
export interface Quotas {
  publishes_per_hour: QuotaUse;
  publishes_per_day: QuotaUse;
  pending_scheduled: QuotaUse;
  connections: QuotaUse;
  api_tokens: QuotaUse;
  authorizations_per_hour: QuotaUse;
  media_bytes: QuotaUse;
}

/**
 * A mail was (or would have been) sent: signup, resend-verification (202
 * `verification_sent`) and forgot-password (202 `reset_sent`). The same
 * answer for known and unknown addresses; `message` is for people.
 */
export interface MailSent {
  status: "verification_sent" | "reset_sent";
  message: string;
}

/** One signed-in browser or client of the account (`GET /api/v1/sessions`). */
export interface OpenSession {
  /** End it with `DELETE /api/v1/sessions/{id}`. */
  id: string;
  created_at: string;
  last_seen_at: string;
  /** Where it signed in from, when known. */
  ip: string | null;
  /** The browser or client it signed in with, when known. */
  user_agent: string | null;
  /** The session asking: this browser. */
  current: boolean;
}

/** What an API token may do. */
export type TokenScope = "posts:write" | "posts:read" | "connections" | "tokens";

/** Every scope, in the order the form shows them. */
export const TOKEN_SCOPES: TokenScope[] = ["posts:write", "posts:read", "connections", "tokens"];

/** The scopes a token gets when `scopes` is left out. */
export const DEFAULT_TOKEN_SCOPES: TokenScope[] = ["posts:write", "posts:read", "connections"];

/** A personal API token, never the secret itself (`GET /api/v1/tokens`). */
export interface ApiToken {
  id: string;
  name: string;
  /** The secret's first characters, to tell tokens apart. */
  prefix: string;
  scopes: TokenScope[];
  /** When it stops working; null: never (until revoked). */
  expires_at: string | null;
  /** Past `expires_at`: it no longer works. */
  expired?: boolean;
  created_at: string;
  last_used_at: string | null;
}

/**
 * `POST /api/v1/tokens`. Left out: the default scopes and 90 days.
 * `password` answers 403 `reauthentication_required` (a login older than
 * 10 minutes); a wrong one is 403 `wrong_password`.
 */
export interface NewApiToken {
  name: string;
  scopes?: TokenScope[];
  /** 1 to 365. */
  expires_in_days?: number;
  /** Never expires: valid until revoked. */
  no_expiry?: boolean;
  password?: string;
}

/** A token as created: the secret, sent as `Authorization: Bearer <token>`, is in this answer only. */
export interface CreatedApiToken extends ApiToken {
  token: string;
  /** Something to know about it (e.g. that it never expires). */
  warning?: string;
}

export type ConnectionStatus = "active" | "needs_reauth" | "revoked";
export type PlatformState = "not_connected" | "active" | "needs_reauth" | "revoked";

export interface Connection {
  id: string;
  platform: string;
  handle: string;
  display_name: string;
  status: ConnectionStatus;
  /** The server the account is on, for platforms with many (a Mastodon instance, a Bluesky PDS). */
  service_url?: string | null;
  /** This account's own limits, where its server sets them (a Mastodon instance): they replace the platform's. */
  rules?: ContentRules | null;
  /** Where in the account posts can go, for platforms with `has_destinations` (the Matrix rooms it had joined when it connected); absent when none. */
  destinations?: Destination[];
}

/** A place inside one account a post can go to (a Matrix room). */
export interface Destination {
  /** The platform's id (`!abc:example.org`). */
  id: string;
  /** Its name for people (the room's name, else its alias or id). */
  name: string;
  /** Picked by the user: publishing to the connection posts here. */
  selected: boolean;
}

/** What attachments a platform takes (`rules.media`). */
export interface MediaRules {
  /** Most attachments per post (0: none). */
  max_count: number;
  max_image_bytes: number;
  max_video_bytes: number;
  /** MIME types it takes. */
  types: string[];
  /** A video must be the post's only attachment. */
  video_alone: boolean;
  /** Every image needs alt text. */
  alt_text_required: boolean;
  /** Longest video, in ms; null: any. */
  max_video_duration_ms?: number | null;
  /** Most pixels (width × height); null: any. */
  max_pixels?: number | null;
  /** Video codecs it plays (e.g. `h264`); empty: any. */
  video_codecs?: string[];
}

/**
 * A platform's (or one connection's) limits: `max_chars` counted in `unit`
 * (graphemes: 👍🏽 is one); `max_bytes` of UTF-8 where limited; where
 * `url_weight` is set, every link counts as that many characters and
 * `@user@server` as `@user` (Mastodon).
 */
export interface ContentRules {
  max_chars: number;
  unit: "characters" | "graphemes";
  max_bytes?: number | null;
  url_weight?: number | null;
  media: MediaRules;
}

export interface Platform {
  id: string;
  name: string;
  /** `redirect`: Connect opens the platform's page; `credentials`: an identifier and a password (Bluesky: an app password). */
  connect?: "redirect" | "credentials";
  /** Every way the platform connects, the preferred first (Bluesky: its own page, or an app password). */
  connect_with?: ("redirect" | "credentials")[];
  /** Connecting starts with the user naming their server (a Mastodon instance), sent as `server` to `…/authorize`. */
  asks_for_server: boolean;
  /** A server to offer in that form (in dev, the local Mastodon sandbox). */
  suggested_server?: string | null;
  /** The credentials form may name a server (a Matrix homeserver), sent as `server` to `…/sign-in`; left out, it is found from the identifier. */
  sign_in_names_server: boolean;
  /** Posts go to places inside an account (Matrix rooms) the user picks per connection; one task per place. */
  has_destinations: boolean;
  /** The platform's limits; a connection's own `rules` replace them for that connection. */
  rules: ContentRules;
  state: PlatformState;
  connections: Connection[];
}

export type MediaKind = "image" | "gif" | "video";

/** An upload (`POST /api/v1/media`). */
export interface Media {
  id: string;
  kind: MediaKind;
  /** Sniffed from the bytes. */
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  /** A video's codec, e.g. `h264`. */
  codec?: string | null;
  sha256: string;
  alt_text: string;
  created_at: string;
  /** A JPEG of at most 320 px a side; null for video. */
  thumbnail_url: string | null;
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

/**
 * One state change of a task (`history` of `GET /api/v1/jobs/{id}`, oldest
 * first). `to_status` `running` starts attempt `attempt`.
 */
export interface TaskEvent {
  at: string;
  from_status: string | null;
  to_status: string;
  attempt: number;
  /** How the attempt ended (`ok`, `verified`, `transient`, `rate_limited`, `rejected`, `unauthorized`, `revoked`, `unknown`). */
  outcome: string | null;
  /** The platform's HTTP status, where it answered. */
  platform_status: number | null;
  latency_ms: number | null;
  /** What the server says about it (e.g. the platform's error). */
  detail: string | null;
}

export interface Task {
  id: string;
  connection_id: string;
  platform: string;
  handle: string;
  /** Where in the account it posts (a Matrix room's id), for platforms with several. */
  destination?: string | null;
  /** That place's name (the room's name when it was picked). */
  destination_name?: string | null;
  status: TaskStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  last_error_kind: string | null;
  external_url: string | null;
  /** When the task last changed. */
  updated_at: string;
  /** When it reached a final state (for `succeeded`: when it was published); null until then. */
  completed_at: string | null;
  /** Every state change, oldest first (`GET /api/v1/jobs/{id}` only; absent or empty in the history list). */
  history?: TaskEvent[];
  /** The text this target gets, where it has its own (a variation); absent: the post's `content`. */
  content?: string;
}

export interface Job {
  job_id: string;
  post_id: string;
  status: JobStatus;
  content: string;
  scheduled_at: string | null;
  time_zone: string | null;
  created_at: string;
  /** When the job last changed. */
  updated_at: string;
  /** When it reached a final state; null until then. */
  completed_at: string | null;
  tasks: Task[];
  /** The attachments, in the post's order. */
  media_ids: string[];
  options: PostOptions;
  variations: Variation[];
  /** Nothing of it has been sent yet: `PATCH /api/v1/posts/{post_id}` may change it (edit, reschedule). */
  editable: boolean;
}

export interface History {
  posts: Job[];
  next_cursor: string | null;
}

/** Who sees a post on Mastodon (others ignore it); default: public. */
export type Visibility = "public" | "unlisted" | "followers";

/**
 * How a post goes out where the platform offers the choice: Mastodon takes
 * all three (and counts `content_warning + content` towards its limit),
 * Bluesky the language, others none. 422 `invalid_options` for a bad one.
 */
export interface PostOptions {
  visibility?: Visibility;
  /** At most 1,000 characters. */
  content_warning?: string;
  /** ISO 639-1, two lowercase letters (`en`, `hi`). */
  language?: string;
}

export interface Accepted {
  post_id: string;
  job_id: string;
  /** `/api/v1/jobs/{job_id}` (publishing a draft). */
  status_url?: string;
}

/** Text for one target that replaces the post's `content` there. */
export interface Variation {
  connection_id: string;
  content: string;
}

/** A post kept on the server to finish later (`/api/v1/drafts`); any field may still be empty. */
export interface Draft {
  id: string;
  status: "draft";
  /** May be "". */
  content: string;
  /** null: every active connection. */
  connection_ids: string[] | null;
  media_ids: string[];
  /** RFC 3339 (UTC, as stored). */
  scheduled_at: string | null;
  time_zone: string | null;
  options: PostOptions;
  variations: Variation[];
  created_at: string;
  updated_at: string;
}

/**
 * `POST /api/v1/drafts` and `PATCH /api/v1/drafts/{id}`: every field
 * optional; on PATCH each one present replaces the stored one (`scheduled_at:
 * null` clears the time).
 */
export interface DraftInput {
  content?: string;
  connection_ids?: string[] | null;
  media_ids?: string[];
  scheduled_at?: string | null;
  time_zone?: string | null;
  options?: PostOptions;
  variations?: Variation[];
}

/**
 * `PATCH /api/v1/posts/{post_id}` while the post is `editable`: edit and
 * reschedule alike. `scheduled_at: null` publishes it now. 409
 * `already_started` (the message names the target) or `not_editable`; 422 as
 * publishing.
 */
export interface EditPost {
  content?: string;
  connection_ids?: string[];
  media_ids?: string[];
  scheduled_at?: string | null;
  time_zone?: string;
  options?: PostOptions;
  variations?: Variation[];
}

/** How `GET /api/v1/posts` is asked. */
export interface PostQuery {
  /** 1 to 100. */
  limit?: number;
  /** `newest` (the default: written last first) or `time` (the post's time, earliest first: calendar, queue). */
  order?: "newest" | "time";
  /** RFC 3339: posts whose time (`scheduled_at`, else `created_at`) is in [from, to). */
  from?: string;
  to?: string;
  status?: JobStatus;
  /** A platform id: posts with a target on it. */
  platform?: string;
  /** Text the content contains (any case). */
  q?: string;
  cursor?: string;
}

export const FINAL_JOB_STATES: JobStatus[] = [
  "succeeded",
  "partially_failed",
  "failed",
  "cancelled",
  "missed",
];

/** `DELETE /api/v1/connections/{id}`: the connection, now revoked, and whether the platform ended its grant. */
export interface DisconnectResult extends Connection {
  platform_revocation: "revoked" | "not_needed" | "failed";
  /** What the user should do, when the platform could not be reached. */
  message?: string;
}
