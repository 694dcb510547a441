// Forgot password: the address gets a reset link if it has an account. The
// server answers the same either way, and so does this page.
import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { ApiError, api } from "../api/client";
import { PublicPage, TextLink } from "../components/PublicPage";
import { Alert, Button, FieldError, Input, Label } from "../components/ui";
import { tooManyAttempts } from "../lib/messages";
import { emailSchema, type EmailOnly } from "../lib/schemas";

export function ForgotPassword() {
  // The server's answer, once it has one.
  const [sent, setSent] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<EmailOnly>({ resolver: zodResolver(emailSchema), mode: "onBlur" });

  const onSubmit = handleSubmit(async ({ email }) => {
    setFormError(null);
    try {
      setSent((await api.forgotPassword(email)).message);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === "invalid_email") {
        setError("email", { message: error.message });
      } else if (error.code === "rate_limited") {
        setFormError(tooManyAttempts(error.retryAfter));
      } else {
        setFormError(error.message);
      }
    }
  });

  if (sent !== null) {
    return (
      <PublicPage title="Check your email">
        <Alert tone="info">{sent}</Alert>
        <p className="mt-3 text-sm text-slate-600">
          Open the link in the message to choose a new password. Nothing there? Look in your spam folder, or check
          the address and ask again.
        </p>
        <p className="mt-4 flex flex-wrap justify-between gap-2 text-sm">
          <TextLink to="/login">Back to log in</TextLink>
          <button type="button" className="font-medium text-indigo-700 underline" onClick={() => setSent(null)}>
            Ask again
          </button>
        </p>
      </PublicPage>
    );
  }

  return (
    <PublicPage title="Reset your password">
      <form onSubmit={onSubmit} noValidate className="space-y-4">
        <p className="text-sm text-slate-600">
          Enter your account's email address and we will send you a link to choose a new password.
        </p>
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
        <Button type="submit" busy={isSubmitting} className="w-full">
          Send reset link
        </Button>
      </form>
      <p className="mt-4 text-center text-sm text-slate-600">
        <TextLink to="/login">Back to log in</TextLink>
      </p>
    </PublicPage>
  );
}
