// The user's posts on a month or a week, each on the day (and, by the week,
// at the hour) it has in the user's time zone, coloured by its state. A post
// nothing of which has gone out yet can be dragged to another day (keeping its
// time of day) or hour, or moved with its Reschedule form from the keyboard.
import { useEffect, useRef, useState, type DragEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ApiError, allPosts, api } from "../api/client";
import type { Job } from "../api/types";
import { PlatformIcon } from "../components/PlatformIcon";
import { RescheduleButton, editError, pastTimeProblem, rescheduleBody } from "../components/Reschedule";
import { Alert, Button, Spinner } from "../components/ui";
import { browserTimeZone } from "../lib/schemas";
import { isWaitingForSchedule, jobStatusText, postTime, type Tone } from "../lib/status";
import {
  addDays,
  addMonths,
  dayIn,
  dayLabel,
  isDayKey,
  isoSeconds,
  longDayLabel,
  monthGrid,
  monthLabel,
  parseDay,
  startOfDay,
  timeOfDay,
  wallTime,
  weekOf,
  weekdayLabel,
  whenLabel,
  type DayKey,
} from "../lib/zoned";

type View = "month" | "week";

/** A post's state for the calendar: "Scheduled" while it waits for its time, else its status. */
export function calendarStatus(job: Pick<Job, "status" | "scheduled_at">): [string, Tone | "scheduled"] {
  return isWaitingForSchedule(job) ? ["Scheduled", "scheduled"] : jobStatusText[job.status];
}

const colours: Record<Tone | "scheduled", string> = {
  scheduled: "border-sky-500 bg-sky-50 text-sky-950",
  neutral: "border-slate-400 bg-slate-50 text-slate-800",
  info: "border-indigo-500 bg-indigo-50 text-indigo-950",
  success: "border-green-600 bg-green-50 text-green-950",
  warning: "border-amber-500 bg-amber-50 text-amber-950",
  danger: "border-red-600 bg-red-50 text-red-950",
};

const LEGEND: [string, Tone | "scheduled"][] = [
  ["Scheduled", "scheduled"],
  ["Publishing", "info"],
  ["Published", "success"],
  ["Partly failed", "warning"],
  ["Failed or missed", "danger"],
  ["Cancelled or pending", "neutral"],
];

const todayMark = "inline-flex h-5 w-5 items-center justify-center rounded-full bg-indigo-600 font-semibold text-white";
const HOURS = Array.from({ length: 24 }, (_, h) => h);
const pad = (n: number) => String(n).padStart(2, "0");

/** Where a dragged post may land: a day (month), or a day's hour (week). */
interface Slot {
  day: DayKey;
  hour?: number;
}

const slotKey = (slot: Slot) => (slot.hour === undefined ? slot.day : `${slot.day}T${pad(slot.hour)}`);

export function Calendar({ zone = browserTimeZone() }: { zone?: string }) {
  const [params, setParams] = useSearchParams();
  const view: View = params.get("view") === "week" ? "week" : "month";
  const today = dayIn(new Date(), zone);
  const asked = params.get("date");
  const date = isDayKey(asked) ? asked : today;
  const days = view === "month" ? monthGrid(date) : weekOf(date);
  const from = isoSeconds(startOfDay(days[0], zone));
  const to = isoSeconds(startOfDay(addDays(days[days.length - 1], 1), zone));

  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [moving, setMoving] = useState<string | null>(null);
  const [over, setOver] = useState<string | null>(null);
  // The post being dragged (some browsers hide dataTransfer's data until the drop).
  const dragged = useRef<Job | null>(null);

  useEffect(() => {
    let stale = false;
    setLoading(true);
    setError(null);
    allPosts({ limit: 100, order: "time", from, to })
      .then((posts) => {
        if (stale) return;
        setJobs(posts);
      })
      .catch((e) => {
        if (!stale) setError(e instanceof ApiError ? e.message : String(e));
      })
      .finally(() => {
        if (!stale) setLoading(false);
      });
    return () => {
      stale = true;
    };
  }, [from, to]);

  const go = (next: { view?: View; date?: DayKey }) =>
    setParams((old) => {
      const fresh = new URLSearchParams(old);
      fresh.set("view", next.view ?? view);
      fresh.set("date", next.date ?? date);
      return fresh;
    });
  const step = (by: -1 | 1) => go({ date: view === "month" ? addMonths(date, by) : addDays(date, 7 * by) });

  const replace = (fresh: Job) => setJobs((old) => (old ?? []).map((j) => (j.job_id === fresh.job_id ? fresh : j)));
  const rescheduled = (fresh: Job) => {
    replace(fresh);
    setError(null);
    setNotice(fresh.scheduled_at ? `Rescheduled to ${whenLabel(fresh.scheduled_at, zone)}.` : "Rescheduled.");
  };

  /** A post dropped on a day keeps its time of day there; on an hour, its minutes. */
  const move = async (job: Job, slot: Slot) => {
    const was = wallTime(postTime(job), zone);
    const when = { ...parseDay(slot.day), hour: slot.hour ?? was.hour, minute: was.minute };
    if (slot.day === dayIn(postTime(job), zone) && when.hour === was.hour) return;
    setNotice(null);
    const past = pastTimeProblem(when, zone);
    if (past) {
      setError(past);
      return;
    }
    setError(null);
    setMoving(job.job_id);
    try {
      rescheduled(await api.editPost(job.post_id, rescheduleBody(when, zone)));
    } catch (e) {
      setError(editError(e));
      // Refused because it has started (409): show it as it now is.
      if (e instanceof ApiError && e.status === 409) {
        api.job(job.job_id).then(replace, () => undefined);
      }
    } finally {
      setMoving(null);
    }
  };

  const dropTarget = (slot: Slot) => ({
    "data-drop": slotKey(slot),
    onDragOver: (e: DragEvent) => {
      if (!dragged.current) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
      setOver(slotKey(slot));
    },
    onDragLeave: () => setOver((o) => (o === slotKey(slot) ? null : o)),
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      const job = dragged.current;
      dragged.current = null;
      setOver(null);
      if (job) void move(job, slot);
    },
  });

  // Each post under its day and hour in the zone, in time order (the server's).
  const byDay = new Map<string, Job[]>();
  for (const job of jobs ?? []) {
    const at = postTime(job);
    const day = dayIn(at, zone);
    const keys = [day, `${day}T${pad(wallTime(at, zone).hour)}`];
    for (const key of keys) byDay.set(key, [...(byDay.get(key) ?? []), job]);
  }

  const item = (job: Job, compact: boolean) => {
    const at = postTime(job);
    const [label, tone] = calendarStatus(job);
    return (
      <li
        key={job.job_id}
        data-testid="calendar-post"
        draggable={job.editable}
        aria-busy={moving === job.job_id || undefined}
        onDragStart={(e) => {
          // Its link can be dragged even where the post cannot be moved.
          if (!job.editable) return;
          dragged.current = job;
          if (e.dataTransfer) {
            e.dataTransfer.effectAllowed = "move";
            e.dataTransfer.setData("text/plain", job.job_id);
          }
        }}
        onDragEnd={() => {
          dragged.current = null;
          setOver(null);
        }}
        className={`rounded border-l-4 px-1.5 py-1 text-xs ${colours[tone]} ${job.editable ? "cursor-grab" : ""} ${
          moving === job.job_id ? "opacity-50" : ""
        }`}
      >
        <p className="flex flex-wrap items-center gap-x-1">
          <time dateTime={at} className="font-semibold tabular-nums">
            {timeOfDay(at, zone)}
          </time>
          <span>· {label}</span>
          <span className="ml-auto flex gap-0.5">
            {[...new Set(job.tasks.map((t) => t.platform))].map((p) => (
              <PlatformIcon key={p} platform={p} className="h-3 w-3" />
            ))}
          </span>
        </p>
        <Link to={`/jobs/${job.job_id}`} className={`block font-medium hover:underline ${compact ? "truncate" : "line-clamp-2"}`}>
          {job.content.trim() || "(no text)"}
        </Link>
        {job.editable && (
          <RescheduleButton job={job} zone={zone} onDone={rescheduled} className="mt-0.5 px-1! py-0! text-xs shadow-none!" />
        )}
      </li>
    );
  };

  const heading =
    view === "month"
      ? monthLabel(date)
      : `${dayLabel(days[0])} – ${dayLabel(days[6])}, ${parseDay(days[6]).year}`;
  const inMonth = (day: DayKey) => day.slice(0, 7) === date.slice(0, 7);

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <div>
          <h1 className="text-2xl font-bold">Calendar</h1>
          <p className="text-sm text-slate-600" data-testid="calendar-zone">
            Times in {zone}
          </p>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <div role="group" aria-label="View" className="flex rounded-md ring-1 ring-slate-300">
            {(["month", "week"] as View[]).map((v) => (
              <button
                key={v}
                type="button"
                aria-pressed={view === v}
                onClick={() => go({ view: v })}
                className={`px-3 py-1.5 text-sm font-medium first:rounded-l-md last:rounded-r-md ${
                  view === v ? "bg-indigo-600 text-white" : "bg-white text-slate-700 hover:bg-slate-50"
                }`}
              >
                {v === "month" ? "Month" : "Week"}
              </button>
            ))}
          </div>
          <Button variant="secondary" aria-label={view === "month" ? "Previous month" : "Previous week"} onClick={() => step(-1)}>
            ‹
          </Button>
          <Button variant="secondary" onClick={() => go({ date: today })}>
            Today
          </Button>
          <Button variant="secondary" aria-label={view === "month" ? "Next month" : "Next week"} onClick={() => step(1)}>
            ›
          </Button>
        </div>
      </div>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold" aria-live="polite" data-testid="calendar-period">
          {heading}
        </h2>
        {loading && <Spinner label="Loading posts…" />}
      </div>
      {notice && <Alert tone="success">{notice}</Alert>}
      {error && <Alert>{error}</Alert>}
      <p className="text-xs text-slate-600">
        Drag a scheduled post to another {view === "month" ? "day (it keeps its time)" : "hour"}, or use its Reschedule
        button.
      </p>
      <div className="overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
        {view === "month" ? (
          <table className="w-full min-w-[48rem] table-fixed border-collapse text-left">
            <thead>
              <tr>
                {days.slice(0, 7).map((d) => (
                  <th key={d} scope="col" className="border-b border-slate-200 px-2 py-1.5 text-xs font-medium text-slate-500">
                    {weekdayLabel(d)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Array.from({ length: days.length / 7 }, (_, w) => (
                <tr key={w}>
                  {days.slice(w * 7, w * 7 + 7).map((day) => (
                    <td
                      key={day}
                      data-testid={`day-${day}`}
                      {...dropTarget({ day })}
                      className={`h-28 border border-slate-100 p-1 align-top ${inMonth(day) ? "" : "bg-slate-50"} ${
                        over === day ? "bg-indigo-50 ring-2 ring-indigo-400 ring-inset" : ""
                      }`}
                    >
                      <p
                        className={`mb-1 text-xs ${day === today ? todayMark : inMonth(day) ? "text-slate-700" : "text-slate-400"}`}
                        aria-label={longDayLabel(day)}
                        aria-current={day === today ? "date" : undefined}
                      >
                        {parseDay(day).day}
                      </p>
                      <ul className="space-y-1">{(byDay.get(day) ?? []).map((job) => item(job, true))}</ul>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <table className="w-full min-w-[48rem] table-fixed border-collapse text-left">
            <thead>
              <tr>
                <th scope="col" className="w-14 border-b border-slate-200">
                  <span className="sr-only">Hour</span>
                </th>
                {days.map((d) => (
                  <th
                    key={d}
                    scope="col"
                    aria-current={d === today ? "date" : undefined}
                    className={`border-b border-slate-200 px-2 py-1.5 text-xs font-medium ${d === today ? "text-indigo-700" : "text-slate-600"}`}
                  >
                    {dayLabel(d)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {HOURS.map((hour) => (
                <tr key={hour}>
                  <th scope="row" className="border-r border-slate-100 px-1 py-1 align-top text-xs font-normal text-slate-500 tabular-nums">
                    {pad(hour)}:00
                  </th>
                  {days.map((day) => {
                    const key = `${day}T${pad(hour)}`;
                    return (
                      <td
                        key={day}
                        data-testid={`slot-${key}`}
                        {...dropTarget({ day, hour })}
                        className={`h-10 border border-slate-100 p-0.5 align-top ${over === key ? "bg-indigo-50 ring-2 ring-indigo-400 ring-inset" : ""}`}
                      >
                        <ul className="space-y-0.5">{(byDay.get(key) ?? []).map((job) => item(job, false))}</ul>
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <ul className="flex flex-wrap gap-3 text-xs text-slate-600" aria-label="Colours">
        {LEGEND.map(([label, tone]) => (
          <li key={label} className="flex items-center gap-1.5">
            <span aria-hidden="true" className={`h-3 w-3 rounded-sm border-l-4 ${colours[tone]}`} />
            {label}
          </li>
        ))}
      </ul>
    </div>
  );
}
