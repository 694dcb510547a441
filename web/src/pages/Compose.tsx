// Write once, attach images or a video, pick the accounts, publish now or at
// a chosen local time. What is being written is kept as a draft in this
// browser (per user) until it is published or cleared.
import { zodResolver } from "@hookform/resolvers/zod";
import { useEffect, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { Link, useNavigate } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type { Connection, ContentRules, Platform, PostOptions, Visibility } from "../api/types";
import { useOptionalAuth } from "../auth";
import { AttachmentList, useFileDrop } from "../components/media/Attachments";
import { MediaNotes, type PlatformNotes } from "../components/media/MediaNotes";
import { useAttachments } from "../components/media/useAttachments";
import { PostPreview } from "../components/PostPreview";
import { Alert, Button, Card, EmptyState, FieldError, Input, Label, Select, Spinner, Textarea } from "../components/ui";
import { clearDraft, draftKey, readDraft, saveDraft, type Draft } from "../lib/draft";
import { LANGUAGES, defaultLanguage } from "../lib/languages";
import { atHandle } from "../lib/handle";
import { charCount, tooLong, usage } from "../lib/length";
import { mediaNotes } from "../lib/mediaNotes";
import { browserTimeZone, composeSchema, toRfc3339WithOffset, type ComposeForm } from "../lib/schemas";

type PublishBody = Parameters<typeof api.publish>[0];

/**
 * Where the post goes, by the limits that apply: a platform's chosen accounts
 * that follow its rules (key: the platform's id), or one account whose server
 * sets its own (a Mastodon instance; key: `{platform}-{connection}`).
 */
interface Target {
  key: string;
  platform: Platform;
  /** Set when the connection's own rules apply. */
  connection?: Connection;
  /** `Mastodon`, or `Mastodon @hal@fosstodon.org`. */
  name: string;
  rules: ContentRules;
}

const platformTarget = (p: Platform): Target => ({ key: p.id, platform: p, name: p.name, rules: p.rules });

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

function targetsOf(platforms: Platform[], chosen: string[]): Target[] {
  return platforms.flatMap((p) => {
    const picked = p.connections.filter((c) => chosen.includes(c.id));
    const own = picked.filter((c) => c.rules);
    return [
      ...(picked.length > own.length ? [platformTarget(p)] : []),
      ...own.map((c) => ({
        key: `${p.id}-${c.id}`,
        platform: p,
        connection: c,
        name: `${p.name} ${atHandle(c.handle)}`,
        rules: c.rules as ContentRules,
      })),
    ];
  });
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
  };
}

export function Compose() {
  const [platforms, setPlatforms] = useState<Platform[] | null>(null);
  // The draft is kept per signed-in user (none without one, e.g. the page alone in a test).
  const userId = useOptionalAuth()?.user?.id ?? null;
  const storageKey = userId ? draftKey(userId) : null;
  const [draft] = useState(() => (storageKey ? readDraft(storageKey) : null));
  const [draftKept, setDraftKept] = useState(draft !== null);
  // Not saved until the accounts are loaded (the ticks are set then), nor once published.
  const saving = useRef<"waiting" | "on" | "off">("waiting");
  const [formError, setFormError] = useState<string | null>(null);
  const navigate = useNavigate();
  // One key per publish: a double click (or a retried request) publishes once.
  const idempotencyKey = useRef(crypto.randomUUID());
  // What was published under that key: a second submit sends it again, so the
  // server replays the same job even though the attachments were cleared.
  const published = useRef<PublishBody | null>(null);
  const attachments = useAttachments();
  const drop = useFileDrop(attachments.add);
  const zone = browserTimeZone();
  const {
    register,
    handleSubmit,
    watch,
    setValue,
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
  useEffect(() => {
    api
      .platforms()
      .then((r) => {
        setPlatforms(r.platforms);
        const active = r.platforms.flatMap((p) => p.connections.filter((c) => c.status === "active").map((c) => c.id));
        const kept = startingDraft.current;
        if (saving.current === "waiting") saving.current = "on";
        setValue("connectionIds", kept ? kept.connectionIds.filter((id) => active.includes(id)) : active);
      })
      .catch((e) => setFormError(e instanceof ApiError ? e.message : String(e)));
  }, [setValue]);

  // Every change is kept as the draft.
  useEffect(() => {
    if (!storageKey) return;
    const subscription = watch((values) => {
      if (saving.current !== "on") return;
      setDraftKept(saveDraft(storageKey, values as Partial<Draft>));
    });
    return () => subscription.unsubscribe();
  }, [watch, storageKey]);

  /** Drops the draft and starts the composer afresh, every active account ticked. */
  const discardDraft = () => {
    if (storageKey) clearDraft(storageKey);
    startingDraft.current = null;
    setDraftKept(false);
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
  const active = (platforms ?? []).flatMap((p) =>
    p.connections
      .filter((c) => c.status === "active")
      .map((c) => ({ ...c, platformName: p.name, hasDestinations: p.has_destinations })),
  );
  // Each platform counts as it does: code points or graphemes (👍🏽 is one),
  // Mastodon's links at a fixed weight; an instance's own limits replace the platform's.
  const targets = targetsOf(platforms ?? [], chosen);
  // A counter per platform, or per chosen account with its own limits.
  const counters = (platforms ?? []).flatMap((p) => {
    const its = targets.filter((t) => t.platform.id === p.id);
    return its.length > 0 ? its : [platformTarget(p)];
  });
  // Post options go where a chosen platform takes them.
  const mastodon = targets.some((t) => t.platform.id === "mastodon");
  const bluesky = targets.some((t) => t.platform.id === "bluesky");
  // Mastodon counts the content warning with the text (`content_warning + text`).
  const warning = mastodon ? (watch("contentWarning") ?? "").trim() : "";
  const warningTooLong = charCount(warning) > MAX_CONTENT_WARNING;
  const warningOf = (t: Target) => (t.platform.id === "mastodon" ? warning : "");
  const counted = (t: Target) => warningOf(t) + content;
  const overLimit = targets.some((t) => tooLong(counted(t), t.rules)) || warningTooLong;
  const ready = attachments.items.flatMap((a) => (a.media ? [{ media: a.media, altText: a.altDraft }] : []));
  const facts = ready.map(({ media, altText }) => ({ ...media, alt_text: altText }));
  const notes: PlatformNotes[] = targets.map((t) => ({
    platform: t.key,
    notes: t.rules.media ? mediaNotes(t.name, t.rules.media, facts) : [],
  }));
  const mediaBlocked = notes.some((n) => n.notes.some((note) => note.level === "error"));
  const waiting = attachments.uploading
    ? "Publishing waits for the uploads to finish."
    : attachments.failed
      ? "To publish, remove the files that could not be attached."
      : null;

  const onSubmit = handleSubmit(async (form) => {
    setFormError(null);
    let body = published.current;
    if (body === null) {
      if (overLimit || mediaBlocked || waiting) return;
      // Alt text typed just before clicking Publish is saved before the post
      // is accepted, so the platforms get it.
      if (!(await attachments.flush())) {
        setFormError("An alt text could not be saved; see the attachment.");
        return;
      }
      body = {
        content: form.content,
        connection_ids: form.connectionIds,
        ...(ready.length > 0 ? { media_ids: ready.map((a) => a.media.id) } : {}),
        ...(form.when === "later" && form.scheduledAt
          ? { scheduled_at: toRfc3339WithOffset(form.scheduledAt), time_zone: zone }
          : {}),
      };
      const options = postOptions(form, warning, { mastodon, bluesky });
      if (options) body.options = options;
    }
    try {
      const accepted = await api.publish(body, idempotencyKey.current);
      // The key is kept: a second submit of this form (a double click whose
      // second click comes after the first answer) replays the same job
      // instead of making another. A new compose starts with a new key.
      published.current = body;
      // Sent: no longer a draft.
      saving.current = "off";
      if (storageKey) clearDraft(storageKey);
      setDraftKept(false);
      attachments.clear();
      navigate(`/jobs/${accepted.job_id}`);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setFormError(e.code === "rate_limited" ? `Too many posts. Try again in ${e.retryAfter ?? 60} seconds.` : e.message);
    }
  });

  if (platforms === null && !formError) return <Spinner label="Loading your accounts…" />;
  if (platforms !== null && active.length === 0) {
    return (
      <EmptyState title="No connected accounts yet">
        <Link className="font-medium text-indigo-700 underline" to="/">Connect a platform</Link> to publish.
      </EmptyState>
    );
  }

  return (
    <Card className="relative" {...drop.handlers}>
      <h1 className="mb-4 text-2xl font-bold">Compose</h1>
      <form onSubmit={onSubmit} noValidate className="space-y-5">
        {formError && <Alert>{formError}</Alert>}
        <div>
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
          <FieldError id="content-error" message={errors.content?.message} />
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
        {content.trim() !== "" && targets.length > 0 && (
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
                text={content}
                warning={warningOf(t)}
                media={facts}
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
                    {c.platformName} {atHandle(c.handle)}
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
        <Button
          type="submit"
          busy={isSubmitting}
          disabled={overLimit || mediaBlocked || waiting !== null}
          aria-describedby="media-notes"
        >
          {when === "later" ? "Schedule" : "Publish now"}
        </Button>
      </form>
      {drop.overlay}
    </Card>
  );
}
