// The one way the app talks to the server: JSON over fetch with the session
// cookie, and the CSRF token on every state-changing request. Uploads go over
// XMLHttpRequest, the one browser API that reports upload progress.
import type {
  Accepted,
  AuthorizeView,
  Connection,
  CreatedApiToken,
  DisconnectResult,
  Draft,
  DraftInput,
  DraftList,
  EditPost,
  History,
  Job,
  MailSent,
  Media,
  NewApiToken,
  OpenSessionList,
  PlatformList,
  PostQuery,
  PublishRequest,
  Session,
  Steered,
  TokenList,
} from "./types";

/** An error answer of the API: `{"error": {"code", "message"}}` plus its status. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    /** Seconds from `Retry-After` (429, 503). */
    public retryAfter: number | null = null,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** The session's CSRF token, for requests sent other than through `request` (Swagger UI's "Try it out"). */
export function getCsrfToken(): string | null {
  return csrfToken;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...headers },
  };
  if (body !== undefined) {
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && csrfToken) {
    (init.headers as Record<string, string>)["X-CSRF-Token"] = csrfToken;
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network_error", "The server cannot be reached. Check your connection and try again.");
  }
  if (response.status === 204) {
    return undefined as T;
  }
  const text = await response.text();
  const data = text ? safeJson(text) : null;
  if (!response.ok) {
    throw errorAnswer(response.status, data, response.headers.get("Retry-After"));
  }
  return data as T;
}

function errorAnswer(status: number, data: unknown, retry: string | null): ApiError {
  const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
  return new ApiError(
    status,
    error?.code ?? "http_error",
    error?.message ?? `The server answered ${status}.`,
    retry ? Number(retry) : null,
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const api = {
  me: () => request<Session>("GET", "/api/v1/me"),
  /**
   * Asks for an account: 202 with a verification mail sent, for a new and an
   * existing address alike. It does not log in: `login` follows. 422
   * `invalid_email`/`invalid_password`, 429 `rate_limited`.
   */
  signup: (email: string, password: string) =>
    request<MailSent>("POST", "/api/v1/auth/signup", { email, password }),
  login: (email: string, password: string) =>
    request<Session>("POST", "/api/v1/auth/login", { email, password }),
  logout: () => request<void>("POST", "/api/v1/auth/logout"),
  /**
   * Changes the password and ends every other session (this one continues).
   * 403 `wrong_password` (nothing changed), 422 `invalid_password`, 429 `rate_limited`.
   */
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>("POST", "/api/v1/auth/password", {
      current_password: currentPassword,
      new_password: newPassword,
    }),
  /** Sends the verification link again (202); 409 `already_verified`. */
  resendVerification: () => request<MailSent>("POST", "/api/v1/auth/resend-verification"),
  /** Confirms the address with the emailed link's token (no session needed); 422 `invalid_link`. */
  verifyEmail: (token: string) => request<void>("POST", "/api/v1/auth/verify-email", { token }),
  /** Mails a reset link if the address has an account: the same 202 either way; 429 `rate_limited`. */
  forgotPassword: (email: string) => request<MailSent>("POST", "/api/v1/auth/forgot-password", { email }),
  /**
   * Sets a new password with the emailed link's token and ends every session
   * and API token of the account. 422 `invalid_link` or `invalid_password`.
   */
  resetPassword: (token: string, password: string) =>
    request<void>("POST", "/api/v1/auth/reset-password", { token, password }),
  /** Ends every session of the account, this one included. */
  logoutEverywhere: () => request<void>("POST", "/api/v1/auth/logout-everywhere"),
  /** The account's open sessions, the last used first. */
  sessions: () => request<OpenSessionList>("GET", "/api/v1/sessions"),
  /** Ends one session; 404 `not_found` when it has already ended. */
  endSession: (id: string) => request<void>("DELETE", `/api/v1/sessions/${id}`),
  tokens: () => request<TokenList>("GET", "/api/v1/tokens"),
  /**
   * Creates a personal API token; its secret is in this answer only. 422
   * `invalid_body` for a bad name; 403 `reauthentication_required` (send
   * `password`) or `wrong_password`.
   */
  createToken: (token: NewApiToken) => request<CreatedApiToken>("POST", "/api/v1/tokens", token),
  revokeToken: (id: string) => request<void>("DELETE", `/api/v1/tokens/${id}`),
  platforms: () => request<PlatformList>("GET", "/api/v1/platforms"),
  /**
   * Starts connecting an account: the platform's consent URL. `server` (a
   * Mastodon instance, for platforms with `asks_for_server`) is sent only when
   * given; 422 `server_required`/`invalid_server`, 502 `platform_unavailable`,
   * 403 `email_unverified` until the user's address is verified (so is `signIn`).
   */
  authorize: (platform: string, server?: string) =>
    request<AuthorizeView>(
      "POST",
      `/api/v1/connections/${platform}/authorize`,
      server !== undefined ? { server } : undefined,
    ),
  disconnect: (id: string) => request<DisconnectResult>("DELETE", `/api/v1/connections/${id}`),
  /**
   * Connects a credentials platform's account. `server` (a Matrix homeserver,
   * for platforms with `sign_in_names_server`) is sent only when given; left
   * out, the server finds it from the identifier. 400 `oauth_exchange_failed`
   * for a refused password, 422 `invalid_server`.
   */
  signIn: (platform: string, identifier: string, password: string, server?: string) =>
    request<Connection>("POST", `/api/v1/connections/${platform}/sign-in`, {
      identifier,
      password,
      ...(server !== undefined ? { server } : {}),
    }),
  /** Picks where posts to a connection go (its Matrix rooms, by id); 422 `invalid_destination` for an unknown id. */
  pickDestinations: (id: string, selected: string[]) =>
    request<Connection>("PUT", `/api/v1/connections/${id}/destinations`, { selected }),
  /** Options and own texts go only where set; a bad option is 422 `invalid_options`. */
  publish: (body: PublishRequest, idempotencyKey: string) => request<Accepted>("POST", "/api/v1/posts", body, { "Idempotency-Key": idempotencyKey }),
  /** The history list, ten a page, narrowed by `filters`. */
  history: (cursor?: string, filters: Omit<PostQuery, "cursor" | "limit"> = {}) =>
    request<History>("GET", postsPath({ limit: 10, ...filters, cursor })),
  posts: (query: PostQuery) => request<History>("GET", postsPath(query)),
  /** Edits or reschedules a post nothing of which has gone out; see `EditPost` for its refusals. */
  editPost: (postId: string, body: EditPost) => request<Job>("PATCH", `/api/v1/posts/${postId}`, body),
  /** "Post again": a new draft with the post's text, targets, media and options, and no time. */
  duplicatePost: (postId: string) => request<Draft>("POST", `/api/v1/posts/${postId}/duplicate`),
  /** The drafts, the last changed first (at most 200). */
  drafts: () => request<DraftList>("GET", "/api/v1/drafts"),
  draft: (id: string) => request<Draft>("GET", `/api/v1/drafts/${id}`),
  createDraft: (body: DraftInput) => request<Draft>("POST", "/api/v1/drafts", body),
  updateDraft: (id: string, body: DraftInput) => request<Draft>("PATCH", `/api/v1/drafts/${id}`, body),
  deleteDraft: (id: string) => request<void>("DELETE", `/api/v1/drafts/${id}`),
  /** Publishes (or schedules, with a future `scheduled_at`) the draft as stored; it is deleted once accepted. 422 as publishing. */
  publishDraft: (id: string) => request<Accepted>("POST", `/api/v1/drafts/${id}/publish`),
  job: (id: string) => request<Job>("GET", `/api/v1/jobs/${id}`),
  retry: (id: string) => request<Steered>("POST", `/api/v1/jobs/${id}/retry`),
  cancel: (id: string) => request<Steered>("POST", `/api/v1/jobs/${id}/cancel`),
  media: (id: string) => request<Media>("GET", `/api/v1/media/${id}`),
  describeMedia: (id: string, altText: string) =>
    request<Media>("PATCH", `/api/v1/media/${id}`, { alt_text: altText }),
  deleteMedia: (id: string) => request<void>("DELETE", `/api/v1/media/${id}`),
};

const POST_QUERY_ORDER: (keyof PostQuery)[] = ["limit", "order", "from", "to", "status", "platform", "q", "cursor"];

/** `/api/v1/posts` with the query's parameters that are set, always in the same order. */
export function postsPath(query: PostQuery): string {
  const parts = POST_QUERY_ORDER.flatMap((name) => {
    const value = query[name];
    return value === undefined || value === "" ? [] : [`${name}=${encodeURIComponent(String(value))}`];
  });
  return parts.length > 0 ? `/api/v1/posts?${parts.join("&")}` : "/api/v1/posts";
}

/**
 * Every post the query matches, page after page (a calendar's month, the
 * queue); stops after `maxPages`, so a runaway list cannot keep the page busy.
 */
export async function allPosts(query: Omit<PostQuery, "cursor">, maxPages = 20): Promise<Job[]> {
  const posts: Job[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const answer = await api.posts({ ...query, cursor });
    posts.push(...answer.posts);
    if (!answer.next_cursor) break;
    cursor = answer.next_cursor;
  }
  return posts;
}

/** An upload under way: its answer, and a way to stop it. */
export interface Upload {
  /** The stored media, or an ApiError (`aborted` when stopped). */
  done: Promise<Media>;
  abort: () => void;
}

/**
 * Uploads one file as the raw request body (the server reads its type from
 * the bytes), reporting the fraction sent so far to `onProgress`.
 */
export function uploadMedia(file: Blob, onProgress: (fraction: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<Media>((resolve, reject) => {
    xhr.open("POST", "/api/v1/media");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    if (csrfToken) xhr.setRequestHeader("X-CSRF-Token", csrfToken);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      const data = xhr.responseText ? safeJson(xhr.responseText) : null;
      if (xhr.status >= 200 && xhr.status < 300 && data) {
        onProgress(1);
        resolve(data as Media);
      } else {
        reject(errorAnswer(xhr.status, data, xhr.getResponseHeader("Retry-After")));
      }
    };
    xhr.onerror = () =>
      reject(new ApiError(0, "network_error", "The upload did not reach the server. Check your connection and try again."));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "The upload was stopped."));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
