import type { ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { useAuth } from "./auth";
import { Layout } from "./components/Layout";
import { Spinner } from "./components/ui";
import { ApiDocs } from "./pages/ApiDocs";
import { AuthForm } from "./pages/AuthForm";
import { Calendar } from "./pages/Calendar";
import { Compose } from "./pages/Compose";
import { Dashboard } from "./pages/Dashboard";
import { Drafts } from "./pages/Drafts";
import { ForgotPassword } from "./pages/ForgotPassword";
import { History } from "./pages/History";
import { JobStatusPage } from "./pages/JobStatus";
import { Landing } from "./pages/Landing";
import { Queue } from "./pages/Queue";
import { ResetPassword } from "./pages/ResetPassword";
import { Settings } from "./pages/Settings";
import { VerifyEmail } from "./pages/VerifyEmail";

/**
 * The signed-in pages. A visitor who is not logged in sees the landing page
 * at "/" (what Prasaran does), and is sent to log in from any other of them,
 * to come back there once logged in.
 */
function SignedIn({ children }: { children: ReactNode }) {
  const { user, loading } = useAuth();
  const location = useLocation();
  if (loading) return <div className="p-6"><Spinner label="Loading…" /></div>;
  if (!user) {
    if (location.pathname === "/") return <Landing />;
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <>{children}</>;
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<AuthForm mode="login" />} />
      <Route path="/signup" element={<AuthForm mode="signup" />} />
      {/* Public: the links in emails open these, signed in or not. */}
      <Route path="/forgot-password" element={<ForgotPassword />} />
      <Route path="/reset-password" element={<ResetPassword />} />
      <Route path="/verify-email" element={<VerifyEmail />} />
      <Route
        element={
          <SignedIn>
            <Layout />
          </SignedIn>
        }
      >
        <Route index element={<Dashboard />} />
        <Route path="compose" element={<Compose />} />
        <Route path="queue" element={<Queue />} />
        <Route path="calendar" element={<Calendar />} />
        <Route path="drafts" element={<Drafts />} />
        <Route path="jobs/:id" element={<JobStatusPage />} />
        <Route path="history" element={<History />} />
        <Route path="docs" element={<ApiDocs />} />
        <Route path="settings" element={<Settings />} />
        <Route path="*" element={<p>There is no such page. <a className="underline" href="/">Back to the dashboard</a>.</p>} />
      </Route>
    </Routes>
  );
}
