// Who is signed in: loaded from GET /api/v1/me once, updated on login/logout.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { ApiError, api, setCsrfToken } from "./api/client";
import type { Session, User } from "./api/types";

interface AuthState {
  user: User | null;
  loading: boolean;
  signedIn: (session: Session) => void;
  signOut: () => Promise<void>;
  /** The server has already ended this session (logged out everywhere): forget it here. */
  signedOut: () => void;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    api
      .me()
      .then((session) => {
        setCsrfToken(session.csrf_token);
        setUser(session.user);
      })
      .catch((error) => {
        if (!(error instanceof ApiError && error.status === 401)) console.warn(error);
      })
      .finally(() => setLoading(false));
  }, []);

  const signedIn = useCallback((session: Session) => {
    setCsrfToken(session.csrf_token);
    setUser(session.user);
  }, []);

  const signedOut = useCallback(() => {
    setCsrfToken(null);
    setUser(null);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      signedOut();
    }
  }, [signedOut]);

  return <AuthContext.Provider value={{ user, loading, signedIn, signOut, signedOut }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}
