// The composer's unsent post, kept in this browser's localStorage (one per
// signed-in user) so that leaving the page or reloading it loses nothing.
// Attachments are not kept: their uploads belong to the page that made them.
import type { Visibility } from "../api/types";

export interface Draft {
  content: string;
  /** The accounts ticked. */
  connectionIds: string[];
  when: "now" | "later";
  /** `2026-12-01T09:00`, from the datetime-local field; kept only when scheduling. */
  scheduledAt?: string;
  visibility?: Visibility;
  contentWarning?: string;
  language?: string;
  /** Own text per account (by connection id), where typed in that account's tab. */
  variations?: Record<string, string>;
  /** The draft saved on the server from this post ("Save draft"): saving again updates it, publishing publishes it. */
  serverDraftId?: string;
}

export const draftKey = (userId: string) => `prasaran:compose-draft:${userId}`;

const VISIBILITIES: readonly string[] = ["public", "unlisted", "followers"];

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    // Storage refused (a privacy setting): nothing is kept.
    return null;
  }
}

const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Only the string entries of a kept record. */
function texts(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  const entries = Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string");
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** The kept draft, or null when there is none (or it cannot be read). */
export function readDraft(key: string): Draft | null {
  try {
    const raw = storage()?.getItem(key);
    if (!raw) return null;
    const data = JSON.parse(raw) as Record<string, unknown>;
    const content = text(data.content);
    if (content === undefined || content.trim() === "") return null;
    const ids = Array.isArray(data.connectionIds) ? data.connectionIds.filter((id) => typeof id === "string") : [];
    const when = data.when === "later" ? "later" : "now";
    const visibility = text(data.visibility);
    return {
      content,
      connectionIds: ids,
      when,
      ...(when === "later" && text(data.scheduledAt) ? { scheduledAt: text(data.scheduledAt) } : {}),
      ...(visibility && VISIBILITIES.includes(visibility) ? { visibility: visibility as Visibility } : {}),
      ...(text(data.contentWarning) !== undefined ? { contentWarning: text(data.contentWarning) } : {}),
      ...(text(data.language) !== undefined ? { language: text(data.language) } : {}),
      ...(texts(data.variations) ? { variations: texts(data.variations) } : {}),
      ...(text(data.serverDraftId) ? { serverDraftId: text(data.serverDraftId) } : {}),
    };
  } catch {
    return null;
  }
}

/** Keeps the composer's state; a post with no text is no draft (any kept one is dropped). Whether one is kept now. */
export function saveDraft(key: string, draft: Partial<Draft>): boolean {
  const content = draft.content ?? "";
  if (content.trim() === "") {
    clearDraft(key);
    return false;
  }
  const when = draft.when === "later" ? "later" : "now";
  const kept: Draft = {
    content,
    connectionIds: (draft.connectionIds ?? []).filter((id): id is string => typeof id === "string"),
    when,
    ...(when === "later" && draft.scheduledAt ? { scheduledAt: draft.scheduledAt } : {}),
    ...(draft.visibility ? { visibility: draft.visibility } : {}),
    ...(draft.contentWarning ? { contentWarning: draft.contentWarning } : {}),
    ...(draft.language !== undefined ? { language: draft.language } : {}),
    ...(texts(draft.variations) ? { variations: texts(draft.variations) } : {}),
    ...(draft.serverDraftId ? { serverDraftId: draft.serverDraftId } : {}),
  };
  try {
    storage()?.setItem(key, JSON.stringify(kept));
    return storage() !== null;
  } catch {
    // Full or refused: the post stays on the page, just not kept.
    return false;
  }
}

export function clearDraft(key: string): void {
  try {
    storage()?.removeItem(key);
  } catch {
    // Nothing kept to clear.
  }
}
