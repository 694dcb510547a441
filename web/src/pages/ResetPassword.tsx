// A reset link from the email: choose a new password (typed twice). Setting
// it ends every session and API token of the account, this browser's too.
import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, api } from "../api/client";
import { useAuth } from "../auth";
import { PublicPage, TextLink } from "../components/PublicPage";
import { Alert, Button, FieldError, Input, Label } from "../components/ui";
import { PASSWORD_RESET_NOTICE, tooManyAttempts } from "../lib/messages";
import { passwordResetSchema, type PasswordReset } from "../lib/schemas";
import type { LoginState } from "./AuthForm";

export function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const { signedOut } = useAuth();
  const navigate = useNavigate();
  const [formError, setFormError] = useState<string | null>(null);
  // The server's word for an expired, used or unknown link.
  const [badLink, setBadLink] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<PasswordReset>({ resolver: zodResolver(passwordResetSchema), mode: "onBlur" });

  const onSubmit = handleSubmit(async ({ password }) => {
    if (!token) return;
    setFormError(null);
    try {
      await api.resetPassword(token, password);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === "invalid_link") {
        setBadLink(error.message);
      } else if (error.code === "invalid_password") {
        setError("password", { message: error.message });
      } else if (error.code === "rate_limited") {
        setFormError(tooManyAttempts(error.retryAfter));
      } else {
        setFormError(error.message);
      }
      return;
    }
    // Every session ended, this browser's too if it was signed in.
    signedOut();
    const state: LoginState = { notice: PASSWORD_RESET_NOTICE };
    navigate("/login", { replace: true, state });
  });

  if (!token || badLink !== null) {
    return (
      <PublicPage title={token ? "This link no longer works" : "This link is incomplete"}>
        <Alert>
          {badLink ??
            "The link has no token. Open the whole link from the email (some mail programs break long links), or ask for a new one."}
        </Alert>
        {badLink !== null && (
          <p className="mt-3 text-sm text-slate-600">A reset link works once, for a limited time.</p>
        )}
        <p className="mt-4 flex flex-wrap justify-between gap-2 text-sm">
          <TextLink to="/forgot-password">Ask for a new link</TextLink>
          <TextLink to="/login">Back to log in</TextLink>
        </p>
      </PublicPage>
    );
  }

  return (
    <PublicPage title="Choose a new password">
      <form onSubmit={onSubmit} noValidate className="space-y-4">
        {formError && <Alert>{formError}</Alert>}
        <div>
          <Label htmlFor="password">New password</Label>
          <Input
            id="password"
            type="password"
            autoComplete="new-password"
            minLength={12}
            maxLength={256}
            aria-invalid={errors.password ? true : undefined}
            aria-describedby={errors.password ? "password-error" : "password-hint"}
            {...register("password")}
          />
          <FieldError id="password-error" message={errors.password?.message} />
          {!errors.password && (
            <p id="password-hint" className="mt-1 text-xs text-slate-500">
              At least 12 characters. Every session and API token of your account ends.
            </p>
          )}
        </div>
        <div>
          <Label htmlFor="confirm">Confirm new password</Label>
          <Input
            id="confirm"
            type="password"
            autoComplete="new-password"
            aria-invalid={errors.confirm ? true : undefined}
            aria-describedby={errors.confirm ? "confirm-error" : undefined}
            {...register("confirm")}
          />
          <FieldError id="confirm-error" message={errors.confirm?.message} />
        </div>
        <Button type="submit" busy={isSubmitting} className="w-full">
          Set new password
        </Button>
      </form>
    </PublicPage>
  );
}
