// Shapes of the REST API. Each one the server's document describes is taken
// from the types generated from it (`npm run gen:api` writes schema.gen.ts
// from openapi.json), under the name the app uses: when the server changes a
// shape, the type check finds every place the app has to follow. Only what
// the document does not describe is written here by hand.
import type { components, paths } from "./schema.gen";

type Schemas = components["schemas"];

export type User = Schemas["UserView"];
export type Session = Schemas["SessionView"];
export type QuotaUse = Schemas["Usage"];
/** What one account may use; over one the server answers 429 `quota_exceeded`. */
export type Quotas = Schemas["QuotaUsage"];
/** A mail was (or would have been) sent: the same answer for known and unknown addresses. */
export type MailSent = Schemas["MailSent"];
/** One signed-in browser or client of the account. */
export type OpenSession = Schemas["OpenSession"];

/** What an API token may do. */
export type TokenScope = Schemas["Scope"];
export type ApiToken = Schemas["TokenView"];
/** `POST /api/v1/tokens`; 403 `reauthentication_required` asks for `password`. */
export type NewApiToken = Schemas["NewToken"];
/** A token as created: the secret is in this answer only. */
export type CreatedApiToken = Schemas["CreatedToken"];

export type ConnectionStatus = Schemas["ConnectionStatus"];
export type PlatformState = Schemas["PlatformConnectionState"];
export type Connection = Schemas["ConnectionView"];
/** A place inside one account a post can go to (a Matrix room). */
export type Destination = Schemas["Destination"];
export type MediaRules = Schemas["MediaRules"];
export type ContentRules = Schemas["ContentRules"];
export type Platform = Schemas["PlatformView"];
/** `DELETE /api/v1/connections/{id}`: the connection, now revoked, and whether the platform ended its grant. */
export type DisconnectResult = Schemas["DisconnectView"];

export type MediaKind = Schemas["MediaKind"];
export type Media = Schemas["MediaView"];

export type TaskStatus = Schemas["TaskStatus"];
export type JobStatus = Schemas["JobStatus"];
/** One state change of a task (`history` of `GET /api/v1/jobs/{id}`, oldest first). */
export type TaskEvent = Schemas["HistoryEntry"];
export type Task = Schemas["TaskView"];
export type Job = Schemas["JobView"];
export type History = Schemas["History"];

export type Visibility = Schemas["Visibility"];
export type PostOptions = Schemas["PostOptions"];
export type Variation = Schemas["Variation"];
export type Accepted = Schemas["Accepted"];
/** `POST /api/v1/posts`. */
export type PublishRequest = Schemas["PublishRequest"];
/** A post kept on the server to finish later (`/api/v1/drafts`); any field may still be empty. */
export type Draft = Schemas["Draft"];
/**
 * `POST`/`PATCH /api/v1/drafts…` and `PATCH /api/v1/posts/{post_id}` (edit and
 * reschedule alike): each field sent replaces the stored one.
 */
export type DraftInput = Schemas["PostChanges"];
export type EditPost = Schemas["PostChanges"];
/** How many targets a retry or a cancel moved (`{"tasks": n}`). */
export type Steered = Schemas["Steered"];

// The lists' envelopes.
export type PlatformList = Schemas["PlatformList"];
export type TokenList = Schemas["TokenList"];
export type OpenSessionList = Schemas["OpenSessionList"];
export type DraftList = Schemas["DraftList"];
/** Where to send the browser to connect an account. */
export type AuthorizeView = Schemas["AuthorizeView"];

type ListQuery = NonNullable<paths["/api/v1/posts"]["get"]["parameters"]["query"]>;

/**
 * How `GET /api/v1/posts` is asked. The document types `status` and `order`
 * as any string; the app sends only the values it names.
 */
export type PostQuery = Omit<ListQuery, "status" | "order"> & {
  status?: JobStatus;
  /** `newest` (the default: written last first) or `time` (the post's time, earliest first: calendar, queue). */
  order?: "newest" | "time";
};

/** Every scope, in the order the form shows them. */
export const TOKEN_SCOPES: TokenScope[] = ["posts:write", "posts:read", "connections", "tokens"];

/** The scopes a token gets when `scopes` is left out. */
export const DEFAULT_TOKEN_SCOPES: TokenScope[] = ["posts:write", "posts:read", "connections"];

export const FINAL_JOB_STATES: JobStatus[] = ["succeeded", "partially_failed", "failed", "cancelled", "missed"];
