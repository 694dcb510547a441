import { NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { useAuth } from "../auth";
import { Button } from "./ui";
import { VerifyEmailBanner } from "./VerifyEmailBanner";

const links = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/compose", label: "Compose" },
  { to: "/history", label: "History" },
  { to: "/docs", label: "API docs" },
  { to: "/settings", label: "Settings" },
];

export function Layout() {
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  // Settings shows the address and its own resend button instead.
  const onSettings = useLocation().pathname === "/settings";
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-4xl flex-wrap items-center justify-between gap-3 px-4 py-3">
          <span className="text-lg font-bold text-indigo-700">Prasaran</span>
          <nav aria-label="Main" className="flex flex-wrap gap-1">
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
          {user && (
            <div className="flex items-center gap-2 text-sm">
              <span className="hidden text-slate-600 sm:inline">{user.email}</span>
              <Button
                variant="secondary"
                onClick={async () => {
                  await signOut();
                  navigate("/login");
                }}
              >
                Log out
              </Button>
            </div>
          )}
        </div>
      </header>
      <main id="main" className="mx-auto max-w-4xl px-4 py-6">
        {!onSettings && <VerifyEmailBanner />}
        <Outlet />
      </main>
    </div>
  );
}
