// What a visitor who is not logged in sees at "/": what Prasaran does, and
// the way in. Signed in, "/" is the dashboard instead (see App).
import { Link } from "react-router-dom";
import { PlatformIcon } from "../components/PlatformIcon";

const PLATFORMS = [
  ["manch", "Manch"],
  ["bluesky", "Bluesky"],
  ["mastodon", "Mastodon"],
  ["matrix", "Matrix"],
] as const;

const FEATURES: [string, string][] = [
  [
    "Write once",
    "One post goes to every account you pick, each counted against its own platform's limits as you type.",
  ],
  [
    "See it before it goes",
    "A preview for each platform, and a text of its own for any account that needs one.",
  ],
  ["Schedule", "Pick a time in your time zone; the queue shows what goes out next, and each post can still be changed."],
  ["Calendar", "Your posts by month or by week. Drag one to another day or hour to move it."],
  ["Drafts", "Save a post to finish later, on any device, then publish or schedule it from there."],
  [
    "Know what happened",
    "Follow each platform's answer live. Prasaran retries by itself, and says in plain words what to do when it cannot.",
  ],
];

const primary =
  "inline-flex items-center justify-center rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600";
const secondary =
  "inline-flex items-center justify-center rounded-md bg-white px-4 py-2 text-sm font-semibold text-slate-900 shadow-sm ring-1 ring-slate-300 ring-inset hover:bg-slate-50";

export function Landing() {
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-5xl items-center justify-between gap-3 px-4 py-3">
          <span className="text-lg font-bold text-indigo-700">Prasaran</span>
          <nav aria-label="Account" className="flex items-center gap-2">
            <Link className={secondary} to="/login">
              Log in
            </Link>
            <Link className={primary} to="/signup">
              Sign up
            </Link>
          </nav>
        </div>
      </header>
      <main className="mx-auto max-w-5xl px-4 py-10 sm:py-16">
        <section aria-labelledby="landing-title" className="max-w-2xl">
          <h1 id="landing-title" className="text-3xl font-bold tracking-tight text-slate-900 sm:text-4xl">
            Write once. Publish everywhere you are.
          </h1>
          <p className="mt-4 text-lg text-slate-700">
            Prasaran publishes one post to your accounts on Manch, Bluesky, Mastodon and Matrix — now, or at the time
            you choose.
          </p>
          <ul className="mt-5 flex flex-wrap gap-x-5 gap-y-2 text-sm font-medium text-slate-700" aria-label="Platforms">
            {PLATFORMS.map(([id, name]) => (
              <li key={id} className="flex items-center gap-1.5">
                <PlatformIcon platform={id} className="h-5 w-5" />
                {name}
              </li>
            ))}
          </ul>
          <div className="mt-8 flex flex-wrap gap-3">
            <Link className={primary} to="/signup">
              Sign up
            </Link>
            <Link className={secondary} to="/login">
              Log in
            </Link>
          </div>
        </section>
        <section aria-labelledby="landing-features" className="mt-14">
          <h2 id="landing-features" className="sr-only">
            What it does
          </h2>
          <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {FEATURES.map(([title, text]) => (
              <li key={title} className="rounded-lg bg-white p-5 shadow-sm ring-1 ring-slate-200">
                <h3 className="font-semibold text-slate-900">{title}</h3>
                <p className="mt-1 text-sm text-slate-600">{text}</p>
              </li>
            ))}
          </ul>
        </section>
      </main>
    </div>
  );
}
