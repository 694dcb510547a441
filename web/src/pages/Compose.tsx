// Write once, attach images or a video, pick the accounts, publish now or at
// a chosen local time. A new post is kept as a draft in this browser (per
// user) until it is published or cleared; "Save draft" keeps it on the server
// too, under Drafts. The same page opens a saved draft
// (`/compose?draft=<id>`) and edits a post nothing of which has gone out yet
// (`/compose?post=<post_id>&job=<job_id>`).
import { zodResolver } from "@hookform/resolvers/zod";
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { useForm } from "react-hook-form";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type {
  Connection,
  ContentRules,
  Draft as SavedDraft,
  DraftInput,
  EditPost,
  Job,
  Platform,
  PostOptions,
  Variation,
  Visibility,
} from "../api/types";
import { useOptionalAuth } from "../auth";
import { AttachmentList, useFileDrop } from "../components/media/Attachments";
import { MediaNotes, type PlatformNotes } from "../components/media/MediaNotes";
import { useAttachments, type StoredMedia } from "../components/media/useAttachments";
import { AccountAvatar } from "../components/AccountAvatar";
import { PlatformIcon } from "../components/PlatformIcon";
import { PostPreview } from "../components/PostPreview";
import { Alert, Button, Card, EmptyState, FieldError, Input, Label, Select, Spinner, Textarea } from "../components/ui";
import { clearDraft, draftKey, readDraft, saveDraft, type Draft } from "../lib/draft";
import { LANGUAGES, defaultLanguage } from "../lib/languages";
import { displayNameOf } from "../lib/avatar";
import { atHandle } from "../lib/handle";
import { isUuid } from "../lib/ids";
import { charCount, tooLong, usage } from "../lib/length";
import { mediaNotes } from "../lib/mediaNotes";
import { browserTimeZone, composeSchema, toRfc3339WithOffset, type ComposeForm } from "../lib/schemas";
import { localInputValue } from "../lib/zoned";

type PublishBody = Parameters<typeof api.publish>[0];

/** What the composer works on: a new post, a draft saved on the server, or an accepted post still editable. */
type Mode = { kind: "new" } | { kind: "draft"; draftId: string } | { kind: "edit"; jobId: string };

/**
 * Where the post goes, by the limits and text that apply: a platform's chosen
 * accounts that follow its rules and take the main text (key: the platform's
 * id), or one account with its server's own limits (a Mastodon instance) or
 * its own text (key: `{platform}-{connection}`).
 */
interface Target {
  key: string;
  platform: Platform;
  /** Set when the target is one account. */
  connection?: Connection;
  /** `Mastodon`, or `Mastodon @hal@fosstodon.org`. */
  name: string;
  rules: ContentRules;
  /** What it publishes: the account's own text, or the main text. */
  text: string;
  /** The accounts it stands for (`@ada`). */
  accounts: string[];
  ownText: boolean;
}

const platformTarget = (p: Platform, text: string): Target => ({
  key: p.id,
  platform: p,
  name: p.name,
  rules: p.rules,
  text,
  accounts: [],
  ownText: false,
});

const VISIBILITIES: [Visibility, string][] = [
  ["public", "Public"],
  ["unlisted", "Unlisted"],
  ["followers", "Followers only"],
];

/** Longest content warning the API takes, in characters. */
const MAX_CONTENT_WARNING = 1000;

/**
 * The options set that a chosen platform takes: visibility (unless public, the
 * default) and the content warning for Mastodon, the language for Mastodon and
 * Bluesky; null when none is, so the request carries no `options`.
 */
function postOptions(
  form: Pick<ComposeForm, "visibility" | "language">,
  warning: string,
  { mastodon, bluesky }: { mastodon: boolean; bluesky: boolean },
): PostOptions | null {
  const options: PostOptions = {
    ...(mastodon && form.visibility && form.visibility !== "public" ? { visibility: form.visibility } : {}),
    ...(mastodon && warning ? { content_warning: warning } : {}),
    ...((mastodon || bluesky) && form.language ? { language: form.language } : {}),
  };
  return Object.keys(options).length > 0 ? options : null;
}

function targetsOf(
  platforms: Platform[],
  chosen: string[],
  content: string,
  variations: Record<string, string>,
): Target[] {
  return platforms.flatMap((p) => {
    const picked = p.connections.filter((c) => chosen.includes(c.id));
    const own = picked.filter((c) => c.rules || variations[c.id] !== undefined);
    const shared = picked.filter((c) => !own.includes(c));
    return [
      ...(shared.length > 0 ? [{ ...platformTarget(p, content), accounts: shared.map((c) => atHandle(c.handle)) }] : []),
      ...own.map((c) => ({
        key: `${p.id}-${c.id}`,
        platform: p,
        connection: c,
        name: `${p.name} ${atHandle(c.handle)}`,
        rules: c.rules ?? p.rules,
        text: variations[c.id] ?? content,
        accounts: [atHandle(c.handle)],
        ownText: variations[c.id] !== undefined,
      })),
    ];
  });
}

/** The chosen accounts' own texts, as the API takes them; one the same as the main text is none. */
export function variationList(form: Partial<Pick<ComposeForm, "content" | "connectionIds" | "variations">>): Variation[] {
  const own = form.variations ?? {};
  return (form.connectionIds ?? []).flatMap((id) =>
    own[id] !== undefined && own[id] !== form.content ? [{ connection_id: id, content: own[id] }] : [],
  );
}

/** The form's values when it starts: the kept draft's, else the defaults. */
function startingValues(draft: Draft | null): ComposeForm {
  return {
    content: draft?.content ?? "",
    connectionIds: [],
    when: draft?.when ?? "now",
    scheduledAt: draft?.scheduledAt,
    visibility: draft?.visibility ?? "public",
    contentWarning: draft?.contentWarning ?? "",
    language: draft?.language ?? defaultLanguage(),
    variations: draft?.variations ?? {},
  };
}

/** The form's values for a saved draft or an accepted post; of its accounts, those still active. */
function storedValues(stored: Job | SavedDraft, active: string[], zone: string): ComposeForm {
  const ids =
    "job_id" in stored
      ? [...new Set(stored.tasks.map((t) => t.connection_id))]
      : (stored.connection_ids ?? active);
  const options = stored.options ?? {};
  return {
    content: stored.content,
    connectionIds: ids.filter((id) => active.includes(id)),
    when: stored.scheduled_at ? "later" : "now",
    scheduledAt: stored.scheduled_at ? localInputValue(stored.scheduled_at, zone) : undefined,
    visibility: options.visibility ?? "public",
    contentWarning: options.content_warning ?? "",
    // What was stored, not the browser's language: an edit changes only what the user changes.
    language: options.language ?? "",
    variations: Object.fromEntries((stored.variations ?? []).map((v) => [v.connection_id, v.content])),
  };
}

const linkStyle = "font-medium text-indigo-700 underline";

/** The page's frame when there is nothing to compose from. */
function Nothing({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">{title}</h1>
      <Alert tone="warning">{children}</Alert>
    </div>
  );
}

export function Compose() {
  const [params] = useSearchParams();
  const jobId = params.get("job");
  const draftId = params.get("draft");
  if (jobId !== null) {
    if (!isUuid(jobId)) {
      return (
        <Nothing title="Edit post">
          This is not a post's address.{" "}
          <Link className={linkStyle} to="/queue">
            Back to the queue
          </Link>
        </Nothing>
      );
    }
    // Another post or draft starts afresh.
    return <Composer key={`edit-${jobId}`} mode={{ kind: "edit", jobId }} />;
  }
  if (draftId !== null) {
    if (!isUuid(draftId)) {
      return (
        <Nothing title="Edit draft">
          This is not a draft's address.{" "}
          <Link className={linkStyle} to="/drafts">
            Back to Drafts
          </Link>
        </Nothing>
      );
    }
    return <Composer key={`draft-${draftId}`} mode={{ kind: "draft", draftId }} />;
  }
  return <Composer key="new" mode={{ kind: "new" }} />;
}

function Composer({ mode }: { mode: Mode }) {
  const [platforms, setPlatforms] = useState<Platform[] | null>(null);
  // A new post is kept per signed-in user (none without one, e.g. the page
  // alone in a test); a saved draft or post is kept where it is saved.
  const userId = useOptionalAuth()?.user?.id ?? null;
  const storageKey = userId && mode.kind === "new" ? draftKey(userId) : null;
  const [draft] = useState(() => (storageKey ? readDraft(storageKey) : null));
  const [draftKept, setDraftKept] = useState(draft !== null);
  // Not saved until the accounts are loaded (the ticks are set then), nor once published.
  const saving = useRef<"waiting" | "on" | "off">(mode.kind === "new" ? "waiting" : "off");
  const [formError, setFormError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // The saved draft or post being changed, once loaded; missing: the server does not know it.
  const [stored, setStored] = useState<Job | SavedDraft | null>(null);
  const [missing, setMissing] = useState(false);
  // The server's draft this post is saved as: its own in draft mode, or the
  // one "Save draft" made (kept with the local draft, so a reload finds it).
  const [serverDraftId, setServerDraftId] = useState<string | null>(
    mode.kind === "draft" ? mode.draftId : (draft?.serverDraftId ?? null),
  );
  const serverDraft = useRef(serverDraftId);
  const linkDraft = (id: string | null) => {
    serverDraft.current = id;
    setServerDraftId(id);
  };
  const [savingDraft, setSavingDraft] = useState(false);
  const [tab, setTab] = useState<string>("all");
  const navigate = useNavigate();
  // One key per publish: a double click (or a retried request) publishes once.
  const idempotencyKey = useRef(crypto.randomUUID());
  // What was published under that key: a second submit sends it again, so the
  // server replays the same job even though the attachments were cleared.
  const published = useRef<PublishBody | null>(null);
  const attachments = useAttachments();
  const { adopt } = attachments;
  const drop = useFileDrop(attachments.add);
  const zone = browserTimeZone();
  const {
    register,
    handleSubmit,
    watch,
    setValue,
    getValues,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<ComposeForm>({
    resolver: zodResolver(composeSchema),
    defaultValues: startingValues(draft),
  });

  const postField = useRef<HTMLTextAreaElement | null>(null);
  const contentField = register("content");
  // The draft's accounts where they are still connected, else every active one.
  const startingDraft = useRef(draft);
  const sourceId = mode.kind === "edit" ? mode.jobId : mode.kind === "draft" ? mode.draftId : null;
  useEffect(() => {
    let stale = false;
    const source: Promise<Job | SavedDraft | null> =
      mode.kind === "edit" && sourceId
        ? api.job(sourceId)
        : mode.kind === "draft" && sourceId
          ? api.draft(sourceId)
          : Promise.resolve(null);
    Promise.all([api.platforms(), source])
      .then(async ([r, loaded]) => {
        const active = r.platforms.flatMap((p) => p.connections.filter((c) => c.status === "active").map((c) => c.id));
        if (loaded) {
          // An attachment that cannot be read any more is shown as failed: publishing waits for its removal.
          const media: StoredMedia[] = await Promise.all(
            (loaded.media_ids ?? []).map((id) =>
              api.media(id).catch((e: unknown) => ({ id, error: e instanceof ApiError ? e.message : String(e) })),
            ),
          );
          if (stale) return;
          setPlatforms(r.platforms);
          reset(storedValues(loaded, active, zone));
          adopt(media);
          setStored(loaded);
          return;
        }
        if (stale) return;
        setPlatforms(r.platforms);
        const kept = startingDraft.current;
        if (saving.current === "waiting") saving.current = "on";
        setValue("connectionIds", kept ? kept.connectionIds.filter((id) => active.includes(id)) : active);
      })
      .catch((e) => {
        if (stale) return;
        if (e instanceof ApiError && e.status === 404) setMissing(true);
        else setFormError(e instanceof ApiError ? e.message : String(e));
      });
    return () => {
      stale = true;
    };
  }, [mode.kind, sourceId, setValue, reset, adopt, zone]);

  // Every change of a new post is kept as the local draft.
  useEffect(() => {
    if (!storageKey) return;
    const subscription = watch((values) => {
      if (saving.current !== "on") return;
      setDraftKept(
        saveDraft(storageKey, { ...(values as Partial<Draft>), serverDraftId: serverDraft.current ?? undefined }),
      );
    });
    return () => subscription.unsubscribe();
  }, [watch, storageKey]);

  /** Drops the draft and starts the composer afresh, every active account ticked. */
  const discardDraft = () => {
    if (storageKey) clearDraft(storageKey);
    startingDraft.current = null;
    // The draft saved on the server stays under Drafts; this post is no longer it.
    linkDraft(null);
    setDraftKept(false);
    setNotice(null);
    setTab("all");
    const activeIds = (platforms ?? []).flatMap((p) =>
      p.connections.filter((c) => c.status === "active").map((c) => c.id),
    );
    reset({ ...startingValues(null), connectionIds: activeIds });
    // The button is gone: the empty post is where to go on.
    postField.current?.focus();
  };

  const content = watch("content");
  const when = watch("when");
  const chosen = watch("connectionIds");
  const variations = watch("variations") ?? {};
  const active = (platforms ?? []).flatMap((p) =>
    p.connections
      .filter((c) => c.status === "active")
      .map((c) => ({ ...c, platformName: p.name, hasDestinations: p.has_destinations })),
  );
  const chosenAccounts = active.filter((c) => chosen.includes(c.id));
  // A tab whose account is no longer chosen falls back to the main text.
  const shownTab = tab !== "all" && chosenAccounts.some((c) => c.id === tab) ? tab : "all";
  const tabAccount = chosenAccounts.find((c) => c.id === shownTab);
  // Each platform counts as it does: code points or graphemes (👍🏽 is one),
  // Mastodon's links at a fixed weight; an instance's own limits replace the platform's.
  const targets = targetsOf(platforms ?? [], chosen, content, variations);
  // A counter per platform, or per chosen account with its own limits or text.
  const counters = (platforms ?? []).flatMap((p) => {
    const its = targets.filter((t) => t.platform.id === p.id);
    return its.length > 0 ? its : [platformTarget(p, content)];
  });
  // Post options go where a chosen platform takes them.
  const mastodon = targets.some((t) => t.platform.id === "mastodon");
  const bluesky = targets.some((t) => t.platform.id === "bluesky");
  // Mastodon counts the content warning with the text (`content_warning + text`).
  const warning = mastodon ? (watch("contentWarning") ?? "").trim() : "";
  const warningTooLong = charCount(warning) > MAX_CONTENT_WARNING;
  const warningOf = (t: Target) => (t.platform.id === "mastodon" ? warning : "");
  const counted = (t: Target) => warningOf(t) + t.text;
  const overLimit = targets.some((t) => tooLong(counted(t), t.rules)) || warningTooLong;
  const ready = attachments.items.flatMap((a) => (a.media ? [{ media: a.media, altText: a.altDraft }] : []));
  const facts = ready.map(({ media, altText }) => ({ ...media, alt_text: altText }));
  const notes: PlatformNotes[] = targets.map((t) => ({
    platform: t.key,
    notes: t.rules.media ? mediaNotes(t.name, t.rules.media, facts) : [],
  }));
  const mediaBlocked = notes.some((n) => n.notes.some((note) => note.level === "error"));
  const editable = mode.kind !== "edit" || (stored !== null && "job_id" in stored && stored.editable);
  const [sending, send] = mode.kind === "edit" ? ["Saving", "save"] : ["Publishing", "publish"];
  const waiting = attachments.uploading
    ? `${sending} waits for the uploads to finish.`
    : attachments.failed
      ? `To ${send}, remove the files that could not be attached.`
      : null;
  const blocked = overLimit || mediaBlocked || waiting !== null || !editable;

  const setVariation = (id: string, text: string) =>
    setValue("variations", { ...(getValues("variations") ?? {}), [id]: text }, { shouldDirty: true });
  const dropVariation = (id: string) => {
    const { [id]: _, ...rest } = getValues("variations") ?? {};
    setValue("variations", rest, { shouldDirty: true });
  };

  const scheduledAtOf = (form: Partial<ComposeForm>) =>
    form.when === "later" && form.scheduledAt ? toRfc3339WithOffset(form.scheduledAt) : null;

  /** Everything the post is now, for a draft (any part may be empty) or an edit. */
  const savedBody = (form: Partial<ComposeForm>): DraftInput & EditPost => ({
    content: form.content ?? "",
    connection_ids: form.connectionIds ?? [],
    media_ids: ready.map((a) => a.media.id),
    scheduled_at: scheduledAtOf(form),
    time_zone: zone,
    // Each field replaces the stored one: no options and no own texts clear theirs.
    options: postOptions(form, warning, { mastodon, bluesky }) ?? {},
    variations: variationList(form),
  });

  /** Alt text typed just before the click is saved first, so the platforms get it. */
  const flushAlt = async () => {
    if (await attachments.flush()) return true;
    setFormError("An alt text could not be saved; see the attachment.");
    return false;
  };

  /** Sent: leaves the composer for the post's status page. */
  const done = (jobId: string) => {
    saving.current = "off";
    if (storageKey) clearDraft(storageKey);
    setDraftKept(false);
    attachments.clear();
    navigate(`/jobs/${jobId}`);
  };

  const saveToServer = async () => {
    setFormError(null);
    setNotice(null);
    if (attachments.uploading) {
      setFormError("Saving waits for the uploads to finish.");
      return;
    }
    setSavingDraft(true);
    try {
      await attachments.flush();
      const body = savedBody(getValues());
      const id = serverDraft.current;
      let saved: SavedDraft;
      try {
        saved = id ? await api.updateDraft(id, body) : await api.createDraft(body);
      } catch (e) {
        // Deleted meanwhile (on the Drafts page): a new draft takes its place.
        if (!(id && mode.kind === "new" && e instanceof ApiError && e.status === 404)) throw e;
        saved = await api.createDraft(body);
      }
      linkDraft(saved.id);
      if (storageKey && saving.current === "on") {
        setDraftKept(saveDraft(storageKey, { ...(getValues() as Partial<Draft>), serverDraftId: saved.id }));
      }
      setNotice("Draft saved.");
    } catch (e) {
      setFormError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setSavingDraft(false);
    }
  };

  const onSubmit = handleSubmit(async (form) => {
    setFormError(null);
    setNotice(null);
    const replay = published.current;
    if (replay === null && blocked) return;
    try {
      if (mode.kind === "edit") {
        if (!stored || !("job_id" in stored) || !(await flushAlt())) return;
        const job = await api.editPost(stored.post_id, savedBody(form));
        done(job.job_id);
        return;
      }
      const draftId = serverDraft.current;
      if (replay === null && draftId) {
        if (!(await flushAlt())) return;
        // The draft is published as stored: its latest state first.
        let current = true;
        try {
          await api.updateDraft(draftId, savedBody(form));
        } catch (e) {
          // A draft deleted meanwhile no longer holds this post: it is published as a new one.
          if (!(mode.kind === "new" && e instanceof ApiError && e.status === 404)) throw e;
          linkDraft(null);
          current = false;
        }
        if (current) {
          const accepted = await api.publishDraft(draftId);
          done(accepted.job_id);
          return;
        }
      }
      let body = replay;
      if (body === null) {
        if (!(await flushAlt())) return;
        const scheduledAt = scheduledAtOf(form);
        body = {
          content: form.content,
          connection_ids: form.connectionIds,
          ...(ready.length > 0 ? { media_ids: ready.map((a) => a.media.id) } : {}),
          ...(scheduledAt ? { scheduled_at: scheduledAt, time_zone: zone } : {}),
        };
        const options = postOptions(form, warning, { mastodon, bluesky });
        if (options) body.options = options;
        const own = variationList(form);
        if (own.length > 0) body.variations = own;
      }
      const accepted = await api.publish(body, idempotencyKey.current);
      // The key is kept: a second submit of this form (a double click whose
      // second click comes after the first answer) replays the same job
      // instead of making another. A new compose starts with a new key.
      published.current = body;
      done(accepted.job_id);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setFormError(e.code === "rate_limited" ? `Too many posts. Try again in ${e.retryAfter ?? 60} seconds.` : e.message);
    }
  });

  // Ctrl+Enter (⌘+Enter on a Mac) anywhere in the form sends it, as the button would.
  const onShortcut = (e: KeyboardEvent<HTMLFormElement>) => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.nativeEvent.isComposing) return;
    e.preventDefault();
    if (!blocked && !isSubmitting) void onSubmit();
  };

  const title = mode.kind === "edit" ? "Edit post" : mode.kind === "draft" ? "Edit draft" : "Compose";
  if (missing) {
    return mode.kind === "draft" ? (
      <Nothing title={title}>
        No such draft — it may have been published or deleted.{" "}
        <Link className={linkStyle} to="/drafts">
          See your drafts
        </Link>
      </Nothing>
    ) : (
      <Nothing title={title}>
        No such post — it may belong to another account, or the link is wrong.{" "}
        <Link className={linkStyle} to="/queue">
          See the queue
        </Link>
      </Nothing>
    );
  }
  if ((platforms === null || (mode.kind !== "new" && stored === null)) && !formError) {
    return <Spinner label={mode.kind === "new" ? "Loading your accounts…" : "Loading the post…"} />;
  }
  if (mode.kind === "edit" && stored && "job_id" in stored && !stored.editable) {
    return (
      <Nothing title={title}>
        This post can no longer be changed: it has started going out, or it is finished.{" "}
        <Link className={linkStyle} to={`/jobs/${stored.job_id}`}>
          See its status
        </Link>
      </Nothing>
    );
  }
  if (platforms !== null && active.length === 0) {
    return (
      <EmptyState title="No connected accounts yet">
        <Link className="font-medium text-indigo-700 underline" to="/">Connect a platform</Link> to publish.
      </EmptyState>
    );
  }

  const submitLabel = mode.kind === "edit" ? "Save changes" : when === "later" ? "Schedule" : "Publish now";
  const tabKeys = ["all", ...chosenAccounts.map((c) => c.id)];
  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const at = tabKeys.indexOf(shownTab);
    const moves: Record<string, number> = {
      ArrowRight: (at + 1) % tabKeys.length,
      ArrowLeft: (at - 1 + tabKeys.length) % tabKeys.length,
      Home: 0,
      End: tabKeys.length - 1,
    };
    const to = moves[e.key];
    if (to === undefined) return;
    e.preventDefault();
    setTab(tabKeys[to]);
    document.getElementById(`text-tab-${tabKeys[to]}`)?.focus();
  };

  return (
    <Card className="relative" {...drop.handlers}>
      <h1 className="mb-4 text-2xl font-bold">{title}</h1>
      <form onSubmit={onSubmit} onKeyDown={onShortcut} noValidate className="space-y-5">
        {formError && <Alert>{formError}</Alert>}
        {notice && (
          <Alert tone="success">
            {notice}{" "}
            <Link className="underline" to="/drafts">
              See all drafts
            </Link>
          </Alert>
        )}
        <div>
          {chosenAccounts.length > 0 && (
            <div
              role="tablist"
              aria-label="Whose text"
              className="mb-2 flex flex-wrap gap-1 border-b border-slate-200"
              onKeyDown={onTabKey}
            >
              {tabKeys.map((key) => {
                const account = chosenAccounts.find((c) => c.id === key);
                const selected = key === shownTab;
                return (
                  <button
                    key={key}
                    id={`text-tab-${key}`}
                    type="button"
                    role="tab"
                    aria-selected={selected}
                    aria-controls={`text-panel-${key}`}
                    tabIndex={selected ? 0 : -1}
                    onClick={() => setTab(key)}
                    className={`-mb-px flex items-center gap-1.5 border-b-2 px-3 py-1.5 text-sm ${
                      selected ? "border-indigo-600 font-medium text-indigo-700" : "border-transparent text-slate-600 hover:text-slate-900"
                    }`}
                  >
                    {account ? (
                      <>
                        <PlatformIcon platform={account.platform} />
                        {account.platformName} {atHandle(account.handle)}
                        {variations[key] !== undefined && <span className="text-xs text-indigo-600"> · own text</span>}
                      </>
                    ) : (
                      "All"
                    )}
                  </button>
                );
              })}
            </div>
          )}
          <div
            id="text-panel-all"
            role={chosenAccounts.length > 0 ? "tabpanel" : undefined}
            aria-label={chosenAccounts.length > 0 ? "Main text" : undefined}
            hidden={shownTab !== "all"}
          >
            <Label htmlFor="content">Post</Label>
            <Textarea
              id="content"
              rows={5}
              aria-invalid={errors.content ? true : undefined}
              aria-describedby="counters content-error"
              {...contentField}
              ref={(element) => {
                contentField.ref(element);
                postField.current = element;
              }}
            />
          </div>
          {tabAccount && (
            <div id={`text-panel-${tabAccount.id}`} role="tabpanel" aria-label={`Text for ${tabAccount.platformName} ${atHandle(tabAccount.handle)}`}>
              <Label htmlFor={`content-${tabAccount.id}`}>
                Post for {tabAccount.platformName} {atHandle(tabAccount.handle)}
              </Label>
              <Textarea
                id={`content-${tabAccount.id}`}
                rows={5}
                value={variations[tabAccount.id] ?? content}
                onChange={(e) => setVariation(tabAccount.id, e.target.value)}
                aria-describedby="counters variation-hint variations-error"
              />
              <p id="variation-hint" className="mt-1 flex flex-wrap items-center gap-2 text-xs text-slate-600">
                {variations[tabAccount.id] !== undefined
                  ? "Only this account gets this text."
                  : "The main text, until you change it here for this account."}
                {variations[tabAccount.id] !== undefined && (
                  <button type="button" className="font-medium text-indigo-700 underline" onClick={() => dropVariation(tabAccount.id)}>
                    Use the main text
                  </button>
                )}
              </p>
            </div>
          )}
          <FieldError id="content-error" message={errors.content?.message} />
          <FieldError id="variations-error" message={(errors.variations as { message?: string } | undefined)?.message} />
          {draftKept && (
            <p className="mt-1 flex items-center gap-2 text-xs text-slate-500" data-testid="draft-hint">
              Draft kept on this device.
              <button type="button" className="font-medium text-indigo-700 underline" onClick={discardDraft}>
                Clear
              </button>
            </p>
          )}
          <ul id="counters" className="mt-2 flex flex-wrap gap-3 text-sm" aria-label="Characters per platform">
            {counters.map((t) => {
              const over = tooLong(counted(t), t.rules);
              return (
                <li
                  key={t.key}
                  data-testid={`counter-${t.key}`}
                  className={over ? "font-semibold text-red-600" : "text-slate-600"}
                >
                  {t.connection ? t.name : `${t.name}:`} {usage(counted(t), t.rules)}
                  {over && " — too long"}
                  {warningOf(t) && (
                    <>
                      {" · "}
                      <span className="text-xs font-normal">the content warning counts too</span>
                    </>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
        {targets.some((t) => t.text.trim() !== "") && (
          <section aria-labelledby="preview-heading" className="space-y-3">
            <h2 id="preview-heading" className="text-sm font-medium text-slate-800">
              Preview
            </h2>
            {targets.map((t) => (
              <PostPreview
                key={t.key}
                platformId={t.platform.id}
                connectionId={t.connection?.id}
                platformName={t.name}
                rules={t.rules}
                text={t.text}
                warning={warningOf(t)}
                media={facts}
                accounts={t.accounts}
                ownText={t.ownText}
              />
            ))}
          </section>
        )}
        <section aria-labelledby="media-heading">
          <h2 id="media-heading" className="mb-2 text-sm font-medium text-slate-800">
            Images and video
          </h2>
          <AttachmentList attachments={attachments} />
        </section>
        <fieldset>
          <legend className="text-sm font-medium text-slate-800">Publish to</legend>
          <div className="mt-2 space-y-2">
            {active.map((c) => {
              const rooms = (c.destinations ?? []).filter((d) => d.selected).map((d) => d.name);
              const name = displayNameOf(c);
              return (
                <div key={c.id} className="flex flex-wrap items-center gap-x-2 text-sm">
                  <label className="flex items-center gap-2">
                    <input
                      type="checkbox"
                      value={c.id}
                      {...register("connectionIds")}
                      aria-describedby={c.hasDestinations ? `rooms-${c.id}` : undefined}
                      className="h-4 w-4"
                    />
                    <AccountAvatar account={c} size="sm" />
                    {name && <span className="font-medium">{name}</span>}
                    <span className="inline-flex items-center gap-1.5 text-slate-700">
                      <PlatformIcon platform={c.platform} />
                      {c.platformName} {atHandle(c.handle)}
                    </span>
                  </label>
                  {c.hasDestinations && (
                    // Each picked room gets its own copy; with none the server refuses the post.
                    <span id={`rooms-${c.id}`} className={rooms.length > 0 ? "text-slate-600" : "text-amber-700"}>
                      {rooms.length > 0 ? (
                        `· ${rooms.join(", ")}`
                      ) : (
                        <>
                          · no room picked:{" "}
                          <Link className="underline" to="/">
                            pick one on the dashboard
                          </Link>
                        </>
                      )}
                    </span>
                  )}
                </div>
              );
            })}
          </div>
          <FieldError id="targets-error" message={errors.connectionIds?.message} />
        </fieldset>
        {(mastodon || bluesky) && (
          <details className="rounded-md ring-1 ring-slate-200" data-testid="post-options">
            <summary className="cursor-pointer px-3 py-2 text-sm font-medium text-slate-800">Post options</summary>
            <div className="grid gap-4 px-3 pb-3 sm:grid-cols-2">
              {mastodon && (
                <div>
                  <Label htmlFor="visibility">Visibility</Label>
                  <Select id="visibility" aria-describedby="visibility-hint" {...register("visibility")}>
                    {VISIBILITIES.map(([value, label]) => (
                      <option key={value} value={value}>
                        {label}
                      </option>
                    ))}
                  </Select>
                  <p id="visibility-hint" className="mt-1 text-xs text-slate-600">
                    Mastodon only.
                  </p>
                </div>
              )}
              <div>
                <Label htmlFor="language">Language</Label>
                <Select id="language" aria-describedby="language-hint" {...register("language")}>
                  <option value="">Not set</option>
                  {LANGUAGES.map((l) => (
                    <option key={l.code} value={l.code}>
                      {l.name} ({l.code})
                    </option>
                  ))}
                </Select>
                <p id="language-hint" className="mt-1 text-xs text-slate-600">
                  {mastodon && bluesky ? "Mastodon and Bluesky." : mastodon ? "Mastodon only." : "Bluesky only."}
                </p>
              </div>
              {mastodon && (
                <div className="sm:col-span-2">
                  <Label htmlFor="contentWarning">Content warning</Label>
                  <Input
                    id="contentWarning"
                    type="text"
                    placeholder="e.g. spoilers"
                    maxLength={MAX_CONTENT_WARNING}
                    aria-invalid={warningTooLong ? true : undefined}
                    aria-describedby="content-warning-hint content-warning-error"
                    {...register("contentWarning")}
                  />
                  <p id="content-warning-hint" className="mt-1 text-xs text-slate-600">
                    Optional. Mastodon shows it before the post, which stays folded until opened.
                  </p>
                  <FieldError
                    id="content-warning-error"
                    message={
                      warningTooLong
                        ? `Use at most ${MAX_CONTENT_WARNING.toLocaleString("en")} characters.`
                        : undefined
                    }
                  />
                </div>
              )}
            </div>
          </details>
        )}
        <fieldset>
          <legend className="text-sm font-medium text-slate-800">When</legend>
          <div className="mt-2 flex flex-wrap gap-4 text-sm">
            <label className="flex items-center gap-2">
              <input type="radio" value="now" {...register("when")} /> Now
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" value="later" {...register("when")} /> Schedule
            </label>
          </div>
          {when === "later" && (
            <div className="mt-3 max-w-xs">
              <Label htmlFor="scheduledAt">Date and time ({zone})</Label>
              <Input
                id="scheduledAt"
                type="datetime-local"
                aria-invalid={errors.scheduledAt ? true : undefined}
                aria-describedby="scheduled-error"
                {...register("scheduledAt")}
              />
              <FieldError id="scheduled-error" message={errors.scheduledAt?.message} />
            </div>
          )}
        </fieldset>
        <MediaNotes id="media-notes" notes={notes} />
        {waiting && <p className="text-sm text-slate-600">{waiting}</p>}
        <div className="flex flex-wrap items-center gap-3">
          <Button
            type="submit"
            busy={isSubmitting}
            disabled={blocked}
            aria-describedby="media-notes submit-shortcut"
            aria-keyshortcuts="Control+Enter Meta+Enter"
          >
            {submitLabel}
          </Button>
          {mode.kind !== "edit" && (
            <Button type="button" variant="secondary" busy={savingDraft} disabled={isSubmitting} onClick={() => void saveToServer()}>
              Save draft
            </Button>
          )}
          <span id="submit-shortcut" className="text-xs text-slate-500">
            or Ctrl+Enter (⌘+Enter)
          </span>
          {serverDraftId && mode.kind === "new" && (
            <span className="text-xs text-slate-500" data-testid="saved-draft-hint">
              Saved under Drafts; publishing takes it from there.
            </span>
          )}
        </div>
      </form>
      {drop.overlay}
    </Card>
  );
}
