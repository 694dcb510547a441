// Every post, newest first, with its status; retry failed targets, cancel
// scheduled ones. Filters (status, platform, text, dates) live in the address,
// so a filtered list can be reloaded, bookmarked and shared.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import { FINAL_JOB_STATES, type Job, type JobStatus, type PostQuery } from "../api/types";
import { CancelPost, cancelOutcome, hasStarted } from "../components/CancelPost";
import { ClampedText } from "../components/ClampedText";
import { Alert, Badge, Button, Card, EmptyState, Input, Label, Select, Spinner } from "../components/ui";
import { taskTarget } from "../lib/handle";
import { PLATFORM_IDS, platformName } from "../lib/platforms";
import { browserTimeZone } from "../lib/schemas";
import { isWaitingForSchedule, jobStatusLabel, jobStatusText, localTime, publishedAt } from "../lib/status";
import { addDays, isDayKey, isoSeconds, startOfDay } from "../lib/zoned";

type Filters = Omit<PostQuery, "cursor" | "limit" | "order">;

const STATUSES = Object.keys(jobStatusText) as JobStatus[];

/** The address's filters that are valid, as the API takes them; dates are whole days in the zone, `to` included. */
export function filtersOf(params: URLSearchParams, zone: string): Filters {
  const status = params.get("status");
  const platform = params.get("platform");
  const q = params.get("q")?.trim();
  const from = params.get("from");
  const to = params.get("to");
  return {
    ...(status && (STATUSES as string[]).includes(status) ? { status: status as JobStatus } : {}),
    ...(platform && PLATFORM_IDS.includes(platform) ? { platform } : {}),
    ...(isDayKey(from) ? { from: isoSeconds(startOfDay(from, zone)) } : {}),
    ...(isDayKey(to) ? { to: isoSeconds(startOfDay(addDays(to, 1), zone)) } : {}),
    ...(q ? { q } : {}),
  };
}

const FILTER_NAMES = ["status", "platform", "q", "from", "to"];

/** The line under a post: when it was written or is scheduled, when it went out, and where to. */
function summary(job: Job): string {
  const parts: string[] = [];
  if (job.scheduled_at && !isWaitingForSchedule(job)) {
    // While it waits, the status beside it says when it goes.
    parts.push(`Scheduled for ${localTime(job.scheduled_at)} (${job.time_zone ?? "UTC"})`);
  } else {
    parts.push(`Written ${localTime(job.created_at)}`);
  }
  const published = publishedAt(job);
  if (published) parts.push(`Published ${localTime(published)}`);
  parts.push(job.tasks.map((t) => `${platformName(t.platform)} ${taskTarget(t)}`).join(", "));
  return parts.join(" · ");
}

/** How often the list is read again while a post in it is still going out. */
export const HISTORY_POLL_MS = 5_000;

/**
 * The list with a fresh first page: its posts in the server's order, then the
 * older ones already loaded that it no longer holds (the user's place in the
 * list stays).
 */
export function mergeFirstPage(old: Job[], fresh: Job[]): Job[] {
  const ids = new Set(fresh.map((j) => j.job_id));
  return [...fresh, ...old.filter((j) => !ids.has(j.job_id))];
}

export function History() {
  const [params, setParams] = useSearchParams();
  const zone = browserTimeZone();
  const filters = filtersOf(params, zone);
  const filterKey = JSON.stringify(filters);
  const filtering = filterKey !== "{}";
  // The filters of the list shown, for the poll (which outlives renders).
  const current = useRef(filters);
  current.current = filters;
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // What a cancel did, by job: shown in that post's card.
  const [notices, setNotices] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | null>(null);
  // The search box as typed; it filters once submitted.
  const [search, setSearch] = useState(params.get("q") ?? "");
  const addressSearch = params.get("q") ?? "";
  useEffect(() => setSearch(addressSearch), [addressSearch]);

  // Older pages were loaded: a fresh first page then keeps them and their cursor.
  const pagedOn = useRef(false);
  // Each change of the filters starts a new list: an answer for older filters is dropped.
  const generation = useRef(0);

  const load = useCallback(
    async (after?: string) => {
      const asked = generation.current;
      try {
        const page = await api.history(after, JSON.parse(filterKey) as Filters);
        if (asked !== generation.current) return;
        if (after) pagedOn.current = true;
        setJobs((old) => (after ? [...(old ?? []), ...page.posts] : page.posts));
        setCursor(page.next_cursor ?? null);
      } catch (e) {
        if (asked !== generation.current) return;
        setError(e instanceof ApiError ? e.message : String(e));
      }
    },
    [filterKey],
  );
  useEffect(() => {
    generation.current += 1;
    pagedOn.current = false;
    setJobs(null);
    setCursor(null);
    setError(null);
    void load();
  }, [load]);

  const setFilter = (name: string, value: string) =>
    setParams(
      (old) => {
        const next = new URLSearchParams(old);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  const clearFilters = () =>
    setParams(
      (old) => {
        const next = new URLSearchParams(old);
        for (const name of FILTER_NAMES) next.delete(name);
        return next;
      },
      { replace: true },
    );
  const submitSearch = (e: FormEvent) => {
    e.preventDefault();
    setFilter("q", search.trim());
  };

  // While a listed post is still going out, read the first page again now and
  // then (only while the page is in view); no longer once every post is final.
  const unfinished = jobs?.some((j) => !FINAL_JOB_STATES.includes(j.status)) ?? false;
  useEffect(() => {
    if (!unfinished) return;
    let stopped = false;
    let inFlight = false;
    const poll = async () => {
      if (inFlight || document.visibilityState !== "visible") return;
      inFlight = true;
      try {
        const asked = generation.current;
        const page = await api.history(undefined, current.current);
        if (stopped || asked !== generation.current) return;
        if (pagedOn.current) {
          setJobs((old) => mergeFirstPage(old ?? [], page.posts));
        } else {
          setJobs(page.posts);
          setCursor(page.next_cursor ?? null);
        }
      } catch {
        // A missed refresh is no error to show: the next one tries again.
      } finally {
        inFlight = false;
      }
    };
    const timer = window.setInterval(() => void poll(), HISTORY_POLL_MS);
    const onVisible = () => {
      if (document.visibilityState === "visible") void poll();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      stopped = true;
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [unfinished]);

  const act = async (job: Job, what: "retry" | "cancel") => {
    setError(null);
    setNotices(({ [job.job_id]: _, ...rest }) => rest);
    setBusy(job.job_id);
    try {
      const { tasks } = await (what === "retry" ? api.retry(job.job_id) : api.cancel(job.job_id));
      if (what === "cancel") setNotices((old) => ({ ...old, [job.job_id]: cancelOutcome(tasks, hasStarted(job)) }));
      const fresh = await api.job(job.job_id);
      setJobs((old) => (old ?? []).map((j) => (j.job_id === fresh.job_id ? fresh : j)));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">History</h1>
      <form
        role="search"
        aria-label="Filter posts"
        onSubmit={submitSearch}
        className="grid gap-3 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 sm:grid-cols-2 lg:grid-cols-4"
      >
        <div>
          <Label htmlFor="filter-status">Status</Label>
          <Select id="filter-status" value={filters.status ?? ""} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">Any status</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {jobStatusText[status][0]}
              </option>
            ))}
          </Select>
        </div>
        <div>
          <Label htmlFor="filter-platform">Platform</Label>
          <Select id="filter-platform" value={filters.platform ?? ""} onChange={(e) => setFilter("platform", e.target.value)}>
            <option value="">Any platform</option>
            {PLATFORM_IDS.map((id) => (
              <option key={id} value={id}>
                {platformName(id)}
              </option>
            ))}
          </Select>
        </div>
        <div>
          <Label htmlFor="filter-from">From</Label>
          <Input
            id="filter-from"
            type="date"
            value={isDayKey(params.get("from")) ? (params.get("from") as string) : ""}
            onChange={(e) => setFilter("from", e.target.value)}
          />
        </div>
        <div>
          <Label htmlFor="filter-to">To</Label>
          <Input
            id="filter-to"
            type="date"
            value={isDayKey(params.get("to")) ? (params.get("to") as string) : ""}
            onChange={(e) => setFilter("to", e.target.value)}
          />
        </div>
        <div className="sm:col-span-2 lg:col-span-4">
          <Label htmlFor="filter-q">Text</Label>
          <div className="flex flex-wrap items-end gap-2">
            <Input
              id="filter-q"
              type="search"
              className="min-w-0 flex-1"
              placeholder="Words in the post"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
            <Button type="submit" variant="secondary">
              Search
            </Button>
            {filtering && (
              <Button type="button" variant="ghost" onClick={clearFilters}>
                Clear filters
              </Button>
            )}
          </div>
        </div>
        <p className="text-xs text-slate-500 sm:col-span-2 lg:col-span-4">
          Dates are whole days in {zone}; a post's date is its scheduled time, or when it was written.
        </p>
      </form>
      {error && <Alert>{error}</Alert>}
      {jobs === null && !error && <Spinner label="Loading your posts…" />}
      {jobs?.length === 0 &&
        (filtering ? (
          <EmptyState title="No posts match these filters">
            <button className="font-medium text-indigo-700 underline" onClick={clearFilters}>
              Show every post
            </button>
          </EmptyState>
        ) : (
          <EmptyState title="Nothing published yet">
            <Link className="font-medium text-indigo-700 underline" to="/compose">Write your first post</Link>.
          </EmptyState>
        ))}
      <ul className="space-y-3" aria-label="Posts">
        {jobs?.map((job) => {
          const [label, tone] = jobStatusLabel(job);
          const notice = notices[job.job_id];
          return (
            <li key={job.job_id}>
              <Card>
                <div className="flex flex-wrap items-start justify-between gap-2">
                  <ClampedText className="min-w-0 flex-1" text={job.content} />
                  <Badge tone={tone}>{label}</Badge>
                </div>
                <p className="mt-2 text-sm text-slate-600">{summary(job)}</p>
                {notice && (
                  <div className="mt-3">
                    <Alert tone="success">{notice}</Alert>
                  </div>
                )}
                <div className="mt-3 flex flex-wrap gap-2">
                  <Link className="self-center text-sm text-indigo-700 underline" to={`/jobs/${job.job_id}`}>
                    Details
                  </Link>
                  {job.tasks.some((t) => t.status === "failed") && (
                    <Button variant="secondary" busy={busy === job.job_id} onClick={() => act(job, "retry")}>
                      Retry failed
                    </Button>
                  )}
                  {job.tasks.some((t) => t.status === "queued" || t.status === "retry_scheduled") && (
                    <CancelPost job={job} busy={busy === job.job_id} onConfirm={() => act(job, "cancel")} />
                  )}
                </div>
              </Card>
            </li>
          );
        })}
      </ul>
      {cursor && (
        <Button
          variant="secondary"
          busy={loadingMore}
          onClick={async () => {
            setLoadingMore(true);
            await load(cursor);
            setLoadingMore(false);
          }}
        >
          Older posts
        </Button>
      )}
    </div>
  );
}
