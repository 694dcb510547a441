// The frame of the pages a visitor sees without being signed in: log in, sign
// up, and the links that arrive by email (verify, reset the password).
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { Card } from "./ui";

export function PublicPage({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="mx-auto mt-10 max-w-sm px-4">
      <h1 className="mb-2 text-center text-2xl font-bold text-indigo-700">Prasaran</h1>
      <Card>
        <h2 className="mb-4 text-lg font-semibold">{title}</h2>
        {children}
      </Card>
    </div>
  );
}

/** A link in the app's link style; `state` goes along as router state (e.g. where to return after logging in). */
export function TextLink({ to, state, children }: { to: string; state?: unknown; children: ReactNode }) {
  return (
    <Link className="font-medium text-indigo-700 underline" to={to} state={state}>
      {children}
    </Link>
  );
}
