// Posts saved to finish later (on the server, so on every device): open one
// in the composer, publish or schedule it as it is, or delete it.
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type { Draft, Platform } from "../api/types";
import { ClampedText } from "../components/ClampedText";
import { PlatformLabel } from "../components/PlatformIcon";
import { Alert, Button, Card, EmptyState, Spinner } from "../components/ui";
import { atHandle } from "../lib/handle";
import { localTime } from "../lib/status";

/** Where a draft goes, in words: its accounts by name where known, else how many. */
function targetsOf(draft: Draft, platforms: Platform[] | null): { platform?: string; name: string }[] {
  if (draft.connection_ids == null) return [{ name: "Every active account" }];
  if (draft.connection_ids.length === 0) return [{ name: "No account chosen yet" }];
  const known = (platforms ?? []).flatMap((p) =>
    p.connections.map((c) => ({ id: c.id, platform: p.id, name: `${p.name} ${atHandle(c.handle)}` })),
  );
  return draft.connection_ids.map(
    (id) => known.find((k) => k.id === id) ?? { name: "An account no longer connected" },
  );
}

/** Publishing a draft with a time still ahead schedules it. */
function schedules(draft: Draft, now: number = Date.now()): boolean {
  return draft.scheduled_at != null && new Date(draft.scheduled_at).getTime() > now;
}

/** "Delete", then "Yes, delete" / "Keep it" in place. */
function DeleteDraft({ onConfirm }: { onConfirm: () => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const refocus = useRef(false);
  useEffect(() => {
    if (asking || !refocus.current) return;
    refocus.current = false;
    button.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <Button ref={button} variant="ghost" onClick={() => setAsking(true)}>
        Delete
      </Button>
    );
  }
  return (
    <div role="alertdialog" aria-label="Delete this draft?" className="flex flex-wrap items-center gap-2 text-sm">
      <span>Delete this draft?</span>
      <Button
        variant="danger"
        busy={busy}
        autoFocus
        onClick={async () => {
          setBusy(true);
          await onConfirm();
          setBusy(false);
        }}
      >
        Yes, delete
      </Button>
      <Button
        variant="ghost"
        onClick={() => {
          refocus.current = true;
          setAsking(false);
        }}
      >
        Keep it
      </Button>
    </div>
  );
}

export function Drafts() {
  const [drafts, setDrafts] = useState<Draft[] | null>(null);
  const [platforms, setPlatforms] = useState<Platform[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // A draft's own problem (a refused publish) is shown in its card.
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [publishing, setPublishing] = useState<string | null>(null);
  const navigate = useNavigate();

  useEffect(() => {
    api
      .drafts()
      .then((r) => setDrafts(r.drafts))
      .catch((e) => setError(e instanceof ApiError ? e.message : String(e)));
    // Only for the accounts' names: without them a draft still lists.
    api
      .platforms()
      .then((r) => setPlatforms(r.platforms))
      .catch(() => undefined);
  }, []);

  const problem = (id: string, text: string | null) =>
    setProblems(({ [id]: _, ...rest }) => (text ? { ...rest, [id]: text } : rest));

  const publish = async (draft: Draft) => {
    setNotice(null);
    problem(draft.id, null);
    setPublishing(draft.id);
    try {
      const accepted = await api.publishDraft(draft.id);
      navigate(`/jobs/${accepted.job_id}`);
    } catch (e) {
      setPublishing(null);
      if (!(e instanceof ApiError)) throw e;
      problem(
        draft.id,
        e.code === "rate_limited" ? `Too many posts. Try again in ${e.retryAfter ?? 60} seconds.` : e.message,
      );
    }
  };

  const remove = async (draft: Draft) => {
    setNotice(null);
    problem(draft.id, null);
    try {
      await api.deleteDraft(draft.id);
      setDrafts((old) => (old ?? []).filter((d) => d.id !== draft.id));
      setNotice("Draft deleted.");
    } catch (e) {
      // Already gone (deleted or published elsewhere): the list catches up.
      if (e instanceof ApiError && e.status === 404) {
        setDrafts((old) => (old ?? []).filter((d) => d.id !== draft.id));
        return;
      }
      problem(draft.id, e instanceof ApiError ? e.message : String(e));
    }
  };

  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Drafts</h1>
      {notice && <Alert tone="success">{notice}</Alert>}
      {error && <Alert>{error}</Alert>}
      {drafts === null && !error && <Spinner label="Loading your drafts…" />}
      {drafts?.length === 0 && (
        <EmptyState title="No drafts">
          In the composer, Save draft keeps a post here to finish later.{" "}
          <Link className="font-medium text-indigo-700 underline" to="/compose">
            Write a post
          </Link>
        </EmptyState>
      )}
      <ul className="space-y-3" aria-label="Drafts">
        {drafts?.map((draft) => (
          <li key={draft.id} data-testid="draft">
            <Card>
              {draft.content.trim() ? (
                <ClampedText text={draft.content} />
              ) : (
                <p className="text-slate-500 italic">No text yet</p>
              )}
              <p className="mt-2 text-sm text-slate-600">
                Saved {localTime(draft.updated_at)}
                {draft.scheduled_at && ` · for ${localTime(draft.scheduled_at)} (${draft.time_zone ?? "UTC"})`}
                {draft.media_ids.length > 0 &&
                  ` · ${draft.media_ids.length} ${draft.media_ids.length === 1 ? "attachment" : "attachments"}`}
              </p>
              <ul className="mt-1 flex flex-wrap gap-x-3 gap-y-1 text-sm text-slate-600" aria-label="Accounts">
                {targetsOf(draft, platforms).map((t, i) => (
                  <li key={i}>{t.platform ? <PlatformLabel platform={t.platform}>{t.name}</PlatformLabel> : t.name}</li>
                ))}
              </ul>
              {problems[draft.id] && (
                <div className="mt-3">
                  <Alert>{problems[draft.id]}</Alert>
                </div>
              )}
              <div className="mt-3 flex flex-wrap items-center gap-2">
                <Link
                  className="inline-flex items-center rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700"
                  to={`/compose?draft=${draft.id}`}
                >
                  Open
                </Link>
                <Button
                  variant="secondary"
                  busy={publishing === draft.id}
                  disabled={publishing !== null && publishing !== draft.id}
                  onClick={() => void publish(draft)}
                >
                  {schedules(draft) ? "Schedule" : "Publish now"}
                </Button>
                <DeleteDraft onConfirm={() => remove(draft)} />
              </div>
            </Card>
          </li>
        ))}
      </ul>
    </div>
  );
}
