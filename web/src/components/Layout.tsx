import { useEffect, useRef, useState, type RefObject } from "react";
import { NavLink, Outlet, useLocation, useNavigate, useNavigationType } from "react-router-dom";
import { useAuth } from "../auth";
import { initialOf } from "../lib/avatar";
import { Button } from "./ui";
import { VerifyEmailBanner } from "./VerifyEmailBanner";

const links = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/compose", label: "Compose" },
  { to: "/queue", label: "Queue" },
  { to: "/calendar", label: "Calendar" },
  { to: "/drafts", label: "Drafts" },
  { to: "/history", label: "History" },
  { to: "/docs", label: "API docs" },
  { to: "/settings", label: "Settings" },
];

/** How long a page that is still loading may take to show its heading before focus stays on <main>. */
const HEADING_WAIT_MS = 10_000;

/**
 * After a navigation to another page (not on the app's first load, not when
 * only the query string changes), focus moves to the page's main heading, so
 * a screen reader announces it and Tab starts from there. A page still
 * loading has no heading yet: <main> holds focus until the heading appears.
 */
function useFocusOnNavigation(main: RefObject<HTMLElement | null>) {
  const { pathname } = useLocation();
  // POP on mount: the app's first load (or the browser's back/forward into it), where focus is left alone.
  const arrival = useNavigationType();
  const handled = useRef<string | null>(arrival === "POP" ? pathname : null);

  useEffect(() => {
    if (handled.current === pathname) return;
    const previous = handled.current;
    handled.current = pathname;
    const area = main.current;
    if (!area) return;
    const focusHeading = () => {
      const heading = area.querySelector("h1");
      if (!heading) return false;
      if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
      heading.focus();
      return true;
    };
    if (focusHeading()) return;
    area.focus();
    let done = false;
    const observer = new MutationObserver(() => {
      // The user moved on meanwhile (typed, clicked): leave their focus alone.
      const active = document.activeElement;
      if (active !== area && active !== document.body && active !== null) done = true;
      else done = focusHeading();
      if (done) observer.disconnect();
    });
    observer.observe(area, { childList: true, subtree: true });
    const timer = window.setTimeout(() => {
      done = true;
      observer.disconnect();
    }, HEADING_WAIT_MS);
    return () => {
      observer.disconnect();
      window.clearTimeout(timer);
      // Undone before the heading came (React's StrictMode runs effects twice): the next run tries again.
      if (!done) handled.current = previous;
    };
  }, [pathname, main]);
}

export function Layout() {
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  const main = useRef<HTMLElement>(null);
  useFocusOnNavigation(main);
  const { pathname } = useLocation();
  // Settings shows the address and its own resend button instead.
  const onSettings = pathname === "/settings";
  // The calendar's seven columns want the width a wide screen has.
  const width = pathname === "/calendar" ? "max-w-6xl" : "max-w-5xl";
  // On a narrow screen the menu folds behind a button; going to a page folds it again.
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [pathname]);
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className={`mx-auto flex ${width} flex-wrap items-center gap-x-3 gap-y-2 px-4 py-3`}>
          <span className="text-lg font-bold text-indigo-700">Prasaran</span>
          <nav
            id="main-menu"
            aria-label="Main"
            data-open={menuOpen || undefined}
            className={`${menuOpen ? "flex" : "hidden"} order-last w-full flex-col gap-1 md:order-none md:flex md:w-auto md:flex-1 md:flex-row md:flex-wrap`}
          >
            {links.map((link) => (
              <NavLink
                key={link.to}
                to={link.to}
                end={link.end}
                className={({ isActive }) =>
                  `rounded-md px-3 py-1.5 text-sm font-medium ${isActive ? "bg-indigo-50 text-indigo-700" : "text-slate-700 hover:bg-slate-100"}`
                }
              >
                {link.label}
              </NavLink>
            ))}
          </nav>
          <div className="ml-auto flex items-center gap-2 md:ml-0">
            {user && (
              <div className="flex items-center gap-2 text-sm">
                <span
                  aria-hidden="true"
                  title={user.email}
                  data-testid="avatar"
                  className="flex h-8 w-8 shrink-0 items-center justify-center rounded-full bg-indigo-600 text-sm font-semibold text-white"
                >
                  {initialOf(user.email)}
                </span>
                {/* The badge stands for the address; the menu leaves no room to write it out. */}
                <span className="sr-only">{user.email}</span>
                <Button
                  variant="secondary"
                  onClick={async () => {
                    // To the login page first: a page left by logging out is not one to return to after the next login.
                    navigate("/login");
                    await signOut();
                  }}
                >
                  Log out
                </Button>
              </div>
            )}
            <Button
              variant="secondary"
              className="md:hidden"
              aria-expanded={menuOpen}
              aria-controls="main-menu"
              onClick={() => setMenuOpen((open) => !open)}
            >
              <svg viewBox="0 0 20 20" aria-hidden="true" className="h-4 w-4" fill="none" stroke="currentColor" strokeWidth="2">
                {menuOpen ? <path d="M5 5l10 10M15 5L5 15" /> : <path d="M3 5h14M3 10h14M3 15h14" />}
              </svg>
              Menu
            </Button>
          </div>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className={`mx-auto ${width} px-4 py-6 focus:outline-none`}>
        {!onSettings && <VerifyEmailBanner />}
        <Outlet />
      </main>
    </div>
  );
}
