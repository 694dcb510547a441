// The composer's attachments: each file uploads as soon as it is added, then
// carries its alt text (saved on blur) and its place in the post's order.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, api, uploadMedia, type Upload } from "../../api/client";
import type { Media } from "../../api/types";
import { charCount } from "../../lib/schemas";

/** What the file picker offers; the server reads the real type from the bytes. */
export const ACCEPTED_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"];
/** The server's limit (src/domain/media.rs), in Unicode scalar values. */
export const MAX_ALT_TEXT_CHARS = 1500;

export interface Attachment {
  /** Local, stable across the upload (the media id comes with the answer). */
  key: string;
  name: string;
  status: "uploading" | "failed" | "ready";
  /** Fraction sent, 0–1. */
  progress: number;
  /** Why the upload failed, in the server's words. */
  error: string | null;
  media: Media | null;
  /** The alt text field as typed; saved when it loses focus. */
  altDraft: string;
  altState: "idle" | "saving" | "saved" | "failed";
  altError: string | null;
  /** Already the post's (a draft or a scheduled post opened here): removing it leaves the stored upload alone. */
  adopted?: boolean;
}

/** An upload a post already has: as the server keeps it, or why it could not be read. */
export type StoredMedia = Media | { id: string; error: string };

export interface Attachments {
  items: Attachment[];
  add: (files: File[]) => void;
  remove: (key: string) => void;
  move: (key: string, by: -1 | 1) => void;
  setAlt: (key: string, text: string) => void;
  saveAlt: (key: string) => Promise<boolean>;
  /** Saves every changed alt text and waits for saves under way; false if one failed. */
  flush: () => Promise<boolean>;
  /** Forgets every attachment, deleting nothing (a published post uses them). */
  clear: () => void;
  /** Starts from the attachments a post already has, in its order. */
  adopt: (media: StoredMedia[]) => void;
  uploading: boolean;
  failed: boolean;
}

export function useAttachments(): Attachments {
  const [items, setItems] = useState<Attachment[]>([]);
  // The list as the last change left it, for async callbacks (an upload's
  // answer, a save started on blur) that outlive the render they began in.
  const latest = useRef<Attachment[]>([]);
  const uploads = useRef(new Map<string, Upload>());
  const saves = useRef(new Map<string, { text: string; done: Promise<boolean> }>());

  const change = useCallback((next: (list: Attachment[]) => Attachment[]) => {
    latest.current = next(latest.current);
    setItems(latest.current);
  }, []);
  const patch = useCallback(
    (key: string, fields: Partial<Attachment>) =>
      change((list) => list.map((a) => (a.key === key ? { ...a, ...fields } : a))),
    [change],
  );

  // Leaving the composer stops uploads still under way.
  useEffect(() => {
    const running = uploads.current;
    return () => running.forEach((u) => u.abort());
  }, []);

  const add = useCallback(
    (files: File[]) => {
      for (const file of files) {
        const key = crypto.randomUUID();
        const base: Attachment = {
          key,
          name: file.name,
          status: "uploading",
          progress: 0,
          error: null,
          media: null,
          altDraft: "",
          altState: "idle",
          altError: null,
        };
        // A type the browser knows and no platform takes is refused here,
        // before its bytes travel; an unknown one goes to the server to judge.
        if (file.type && !ACCEPTED_TYPES.includes(file.type)) {
          change((list) => [
            ...list,
            { ...base, status: "failed", error: "Only JPEG, PNG, GIF and WebP images and MP4 videos can be attached." },
          ]);
          continue;
        }
        change((list) => [...list, base]);
        const upload = uploadMedia(file, (progress) => patch(key, { progress }));
        uploads.current.set(key, upload);
        upload.done
          .then(
            (media) => patch(key, { status: "ready", progress: 1, media, altDraft: media.alt_text }),
            (e: unknown) => {
              if (e instanceof ApiError && e.code === "aborted") return;
              patch(key, { status: "failed", error: e instanceof ApiError ? e.message : String(e) });
            },
          )
          .finally(() => uploads.current.delete(key));
      }
    },
    [change, patch],
  );

  const remove = useCallback(
    (key: string) => {
      const item = latest.current.find((a) => a.key === key);
      if (!item) return;
      uploads.current.get(key)?.abort();
      change((list) => list.filter((a) => a.key !== key));
      // Gone from the post at once. The stored upload is deleted too, unless
      // a pending post still uses it (409 `media_in_use`): then it only
      // leaves this post. Any other failure is left to the server's expiry
      // of uploads no post uses. One the post had before stays: the saved
      // draft or post keeps it until this change is saved.
      if (item.media && !item.adopted) api.deleteMedia(item.media.id).catch(() => undefined);
    },
    [change],
  );

  const move = useCallback(
    (key: string, by: -1 | 1) =>
      change((list) => {
        const from = list.findIndex((a) => a.key === key);
        const to = from + by;
        if (from < 0 || to < 0 || to >= list.length) return list;
        const next = [...list];
        [next[from], next[to]] = [next[to], next[from]];
        return next;
      }),
    [change],
  );

  const setAlt = useCallback(
    (key: string, text: string) => patch(key, { altDraft: text, altState: "idle", altError: null }),
    [patch],
  );

  const saveAlt = useCallback(
    (key: string): Promise<boolean> => {
      const item = latest.current.find((a) => a.key === key);
      if (!item?.media) return Promise.resolve(true);
      const text = item.altDraft.trim();
      const under = saves.current.get(key);
      if (under && under.text === text) return under.done;
      if (!under && text === item.media.alt_text) return Promise.resolve(true);
      if (charCount(text) > MAX_ALT_TEXT_CHARS) {
        patch(key, { altState: "failed", altError: `Use at most ${MAX_ALT_TEXT_CHARS.toLocaleString("en")} characters.` });
        return Promise.resolve(false);
      }
      patch(key, { altState: "saving", altError: null });
      const id = item.media.id;
      // One save at a time per attachment, so the last text typed is the one kept.
      const before = under?.done ?? Promise.resolve(true);
      const done = before.then(() => api.describeMedia(id, text)).then(
        (media) => {
          const now = latest.current.find((a) => a.key === key);
          // Typed on while saving: that newer text is saved on the next blur.
          const current = now !== undefined && now.altDraft.trim() === media.alt_text;
          patch(key, { media, altState: current ? "saved" : "idle" });
          return true;
        },
        (e: unknown) => {
          patch(key, { altState: "failed", altError: e instanceof ApiError ? e.message : String(e) });
          return false;
        },
      );
      const entry = { text, done };
      saves.current.set(key, entry);
      void done.finally(() => {
        if (saves.current.get(key) === entry) saves.current.delete(key);
      });
      return done;
    },
    [patch],
  );

  const flush = useCallback(async () => {
    const results = await Promise.all(latest.current.filter((a) => a.media).map((a) => saveAlt(a.key)));
    return results.every(Boolean);
  }, [saveAlt]);

  const clear = useCallback(() => {
    uploads.current.forEach((u) => u.abort());
    change(() => []);
  }, [change]);

  const adopt = useCallback(
    (media: StoredMedia[]) =>
      change(() =>
        media.map((m, i) => {
          // The file's name is not kept: it is named by its kind and place.
          const base = { key: crypto.randomUUID(), progress: 1, altState: "idle" as const, altError: null, adopted: true };
          if ("error" in m) {
            return { ...base, name: `Attachment ${i + 1}`, status: "failed" as const, error: m.error, media: null, altDraft: "" };
          }
          const kind = m.kind === "video" ? "Video" : m.kind === "gif" ? "GIF" : "Image";
          return { ...base, name: `${kind} ${i + 1}`, status: "ready" as const, error: null, media: m, altDraft: m.alt_text };
        }),
      ),
    [change],
  );

  return useMemo(
    () => ({
      items,
      add,
      remove,
      move,
      setAlt,
      saveAlt,
      flush,
      clear,
      adopt,
      uploading: items.some((a) => a.status === "uploading"),
      failed: items.some((a) => a.status === "failed"),
    }),
    [items, add, remove, move, setAlt, saveAlt, flush, clear, adopt],
  );
}
