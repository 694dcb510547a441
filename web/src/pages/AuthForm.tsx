// Sign up and log in: one form, field errors from zod and from the server.
// Signing up does not log in by itself (the server answers the same for a new
// and a known address): the form logs in with the same credentials next.
// Either way the user lands where they were going (router state `from`,
// set when a signed-out visitor opened a signed-in page), else the dashboard.
import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useLocation, useNavigate } from "react-router-dom";
import { ApiError, api } from "../api/client";
import type { Session } from "../api/types";
import { useAuth } from "../auth";
import { PublicPage, TextLink } from "../components/PublicPage";
import { Alert, Button, FieldError, Input, Label } from "../components/ui";
import { tooManyAttempts } from "../lib/messages";
import { fromOf, returnPath } from "../lib/returnPath";
import { credentialsSchema, loginSchema, type Credentials } from "../lib/schemas";

/** What other pages may hand the login page (router state). */
export interface LoginState {
  /** Shown above the form, e.g. after a password reset. */
  notice?: string;
  /** The signed-in page asked for (path and query), to open once logged in. */
  from?: string;
}

type Mode = "login" | "signup";

/**
 * One form per mode: going from the login page to the sign-up page (or back)
 * starts afresh, without the other form's values and errors.
 */
export function AuthForm({ mode }: { mode: Mode }) {
  return <CredentialsForm key={mode} mode={mode} />;
}

function CredentialsForm({ mode }: { mode: Mode }) {
  const { signedIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const notice = mode === "login" ? (location.state as LoginState | null)?.notice : undefined;
  // Only a path on this site; carried along between login and sign-up.
  const from = returnPath(fromOf(location.state));
  const carried: LoginState | undefined = from ? { from } : undefined;
  const [formError, setFormError] = useState<string | null>(null);
  // Signed up, but the login that followed was refused: the address may belong to someone else.
  const [sentTo, setSentTo] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<Credentials>({
    // The length rule is for new passwords; logging in only needs one.
    resolver: zodResolver(mode === "signup" ? credentialsSchema : loginSchema),
    mode: "onBlur",
  });

  const onSubmit = handleSubmit(async ({ email, password }) => {
    setFormError(null);
    try {
      if (mode === "signup") await api.signup(email, password);
      let session: Session;
      try {
        session = await api.login(email, password);
      } catch (error) {
        if (mode === "signup" && error instanceof ApiError && error.status === 401) {
          setSentTo(email);
          return;
        }
        throw error;
      }
      signedIn(session);
      navigate(from ?? "/", { replace: true });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === "invalid_email") {
        setError("email", { message: error.message });
      } else if (error.code === "invalid_password") {
        setError("password", { message: error.message });
      } else if (error.code === "rate_limited") {
        setFormError(tooManyAttempts(error.retryAfter));
      } else {
        setFormError(error.message);
      }
    }
  });

  if (sentTo) {
    return (
      <PublicPage title="Check your email">
        <Alert tone="info">
          We sent a message to <strong>{sentTo}</strong>. If you already have an account with that address, log in
          with its password or reset it.
        </Alert>
        <p className="mt-4 flex flex-wrap justify-between gap-2 text-sm">
          <TextLink to="/login" state={carried}>
            Log in
          </TextLink>
          <TextLink to="/forgot-password">Reset your password</TextLink>
        </p>
      </PublicPage>
    );
  }

  return (
    <PublicPage title={mode === "signup" ? "Create your account" : "Log in"}>
      <form onSubmit={onSubmit} noValidate className="space-y-4">
        {notice && <Alert tone="success">{notice}</Alert>}
        {formError && <Alert>{formError}</Alert>}
        <div>
          <Label htmlFor="email">Email</Label>
          <Input
            id="email"
            type="email"
            autoComplete="email"
            aria-invalid={errors.email ? true : undefined}
            aria-describedby={errors.email ? "email-error" : undefined}
            {...register("email")}
          />
          <FieldError id="email-error" message={errors.email?.message} />
        </div>
        <div>
          <Label htmlFor="password">Password</Label>
          <Input
            id="password"
            type="password"
            autoComplete={mode === "signup" ? "new-password" : "current-password"}
            aria-invalid={errors.password ? true : undefined}
            aria-describedby={errors.password ? "password-error" : "password-hint"}
            {...register("password")}
          />
          <FieldError id="password-error" message={errors.password?.message} />
          {!errors.password && mode === "signup" && (
            <p id="password-hint" className="mt-1 text-xs text-slate-500">
              At least 12 characters.
            </p>
          )}
          {mode === "login" && (
            <p className="mt-1 text-right text-sm">
              <TextLink to="/forgot-password">Forgot password?</TextLink>
            </p>
          )}
        </div>
        <Button type="submit" busy={isSubmitting} className="w-full">
          {mode === "signup" ? "Sign up" : "Log in"}
        </Button>
      </form>
      <p className="mt-4 text-center text-sm text-slate-600">
        {mode === "signup" ? (
          <>
            Have an account?{" "}
            <TextLink to="/login" state={carried}>
              Log in
            </TextLink>
          </>
        ) : (
          <>
            New here?{" "}
            <TextLink to="/signup" state={carried}>
              Create an account
            </TextLink>
          </>
        )}
      </p>
    </PublicPage>
  );
}
