// What goes out next: every post waiting for its time, earliest first,
// grouped by day in the user's time zone; each can be edited, moved, or
// cancelled before it goes.
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, allPosts, api } from "../api/client";
import type { Job } from "../api/types";
import { CancelPost, cancelOutcome, hasStarted } from "../components/CancelPost";
import { ClampedText } from "../components/ClampedText";
import { PlatformLabel } from "../components/PlatformIcon";
import { RescheduleButton } from "../components/Reschedule";
import { Alert, Badge, Card, EmptyState, Spinner } from "../components/ui";
import { taskTarget } from "../lib/handle";
import { platformName } from "../lib/platforms";
import { browserTimeZone } from "../lib/schemas";
import { postTime } from "../lib/status";
import { addDays, dayIn, isoSeconds, longDayLabel, timeOfDay, whenLabel, type DayKey } from "../lib/zoned";

const linkButton =
  "inline-flex items-center justify-center rounded-md px-3.5 py-2 text-sm font-semibold text-slate-700 hover:bg-slate-100";

/** The posts by day, in the order given (the server's: earliest first). */
export function byDay(jobs: Job[], zone: string): [DayKey, Job[]][] {
  const days = new Map<DayKey, Job[]>();
  for (const job of jobs) {
    const day = dayIn(postTime(job), zone);
    days.set(day, [...(days.get(day) ?? []), job]);
  }
  return [...days];
}

/** "Today", "Tomorrow", or the day in words. */
function dayHeading(day: DayKey, today: DayKey): string {
  if (day === today) return `Today · ${longDayLabel(day)}`;
  if (day === addDays(today, 1)) return `Tomorrow · ${longDayLabel(day)}`;
  return longDayLabel(day);
}

const byTime = (a: Job, b: Job) => postTime(a).localeCompare(postTime(b));

export function Queue({ zone = browserTimeZone() }: { zone?: string }) {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const posts = await allPosts({ limit: 100, order: "time", status: "pending", from: isoSeconds(new Date()) });
      setJobs(posts);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const rescheduled = (fresh: Job) => {
    setError(null);
    // Its new time may put it elsewhere in the queue.
    setJobs((old) => (old ?? []).map((j) => (j.job_id === fresh.job_id ? fresh : j)).sort(byTime));
    setNotice(fresh.scheduled_at ? `Rescheduled to ${whenLabel(fresh.scheduled_at, zone)}.` : "Rescheduled.");
  };

  const cancel = async (job: Job) => {
    setError(null);
    setNotice(null);
    setBusy(job.job_id);
    try {
      const { tasks } = await api.cancel(job.job_id);
      setNotice(cancelOutcome(tasks, hasStarted(job)));
      const fresh = await api.job(job.job_id);
      // Cancelled, it leaves the queue; whatever still waits stays.
      setJobs((old) =>
        (old ?? []).flatMap((j) => (j.job_id !== fresh.job_id ? [j] : fresh.status === "pending" ? [fresh] : [])),
      );
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };

  const today = dayIn(new Date(), zone);
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-2xl font-bold">Queue</h1>
        <p className="text-sm text-slate-600" data-testid="queue-zone">
          Scheduled posts, next first. Times in {zone}.
        </p>
      </div>
      {notice && <Alert tone="success">{notice}</Alert>}
      {error && <Alert>{error}</Alert>}
      {jobs === null && !error && <Spinner label="Loading the queue…" />}
      {jobs?.length === 0 && (
        <EmptyState title="Nothing scheduled">
          <Link className="font-medium text-indigo-700 underline" to="/compose">
            Write a post
          </Link>{" "}
          and pick Schedule to see it here.
        </EmptyState>
      )}
      {jobs &&
        byDay(jobs, zone).map(([day, posts]) => (
          <section key={day} aria-labelledby={`queue-${day}`} className="space-y-2">
            <h2 id={`queue-${day}`} className="text-sm font-semibold text-slate-700">
              {dayHeading(day, today)}
            </h2>
            <ul className="space-y-2" aria-label={longDayLabel(day)}>
              {posts.map((job) => (
                <li key={job.job_id} data-testid="queue-post">
                  <Card className="p-4">
                    <div className="flex flex-wrap items-start gap-3">
                      <time dateTime={postTime(job)} className="w-14 shrink-0 text-lg font-semibold tabular-nums text-slate-900">
                        {timeOfDay(postTime(job), zone)}
                      </time>
                      <div className="min-w-0 flex-1">
                        <ClampedText text={job.content} />
                        <ul className="mt-1 flex flex-wrap gap-x-3 gap-y-1 text-sm text-slate-600">
                          {job.tasks.map((t) => (
                            <li key={t.id}>
                              <PlatformLabel platform={t.platform}>
                                {platformName(t.platform)} {taskTarget(t)}
                              </PlatformLabel>
                            </li>
                          ))}
                        </ul>
                      </div>
                      {!job.editable && <Badge tone="info">Going out</Badge>}
                    </div>
                    <div className="mt-3 flex flex-wrap items-center gap-2">
                      {job.editable && (
                        <>
                          <Link className={linkButton} to={`/compose?post=${job.post_id}&job=${job.job_id}`}>
                            Edit
                          </Link>
                          <RescheduleButton job={job} zone={zone} onDone={rescheduled} />
                        </>
                      )}
                      <CancelPost job={job} busy={busy === job.job_id} onConfirm={() => cancel(job)} />
                      <Link className="ml-auto text-sm text-indigo-700 underline" to={`/jobs/${job.job_id}`}>
                        Details
                      </Link>
                    </div>
                  </Card>
                </li>
              ))}
            </ul>
          </section>
        ))}
    </div>
  );
}
