// Sign up and log in: one form, field errors from zod and from the server.
import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { Link, useNavigate } from "react-router-dom";
import { ApiError, api } from "../api/client";
import { useAuth } from "../auth";
import { Alert, Button, Card, FieldError, Input, Label } from "../components/ui";
import { credentialsSchema, type Credentials } from "../lib/schemas";

export function AuthForm({ mode }: { mode: "login" | "signup" }) {
  const { signedIn } = useAuth();
  const navigate = useNavigate();
  const [formError, setFormError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<Credentials>({ resolver: zodResolver(credentialsSchema), mode: "onBlur" });

  const onSubmit = handleSubmit(async ({ email, password }) => {
    setFormError(null);
    try {
      const session = mode === "signup" ? await api.signup(email, password) : await api.login(email, password);
      signedIn(session);
      navigate("/");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === "invalid_email" || error.code === "email_taken") {
        setError("email", { message: error.message });
      } else if (error.code === "invalid_password") {
        setError("password", { message: error.message });
      } else if (error.code === "rate_limited") {
        setFormError(`Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`);
      } else {
        setFormError(error.message);
      }
    }
  });

  const title = mode === "signup" ? "Create your account" : "Log in";
  return (
    <div className="mx-auto mt-10 max-w-sm px-4">
      <h1 className="mb-2 text-center text-2xl font-bold text-indigo-700">Prasaran</h1>
      <Card>
        <h2 className="mb-4 text-lg font-semibold">{title}</h2>
        <form onSubmit={onSubmit} noValidate className="space-y-4">
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
          </div>
          <Button type="submit" busy={isSubmitting} className="w-full">
            {mode === "signup" ? "Sign up" : "Log in"}
          </Button>
        </form>
        <p className="mt-4 text-center text-sm text-slate-600">
          {mode === "signup" ? (
            <>
              Have an account? <Link className="font-medium text-indigo-700 underline" to="/login">Log in</Link>
            </>
          ) : (
            <>
              New here? <Link className="font-medium text-indigo-700 underline" to="/signup">Create an account</Link>
            </>
          )}
        </p>
      </Card>
    </div>
  );
}
