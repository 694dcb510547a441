// Who is signed in: loaded from GET /api/v1/me once, updated on login/logout.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { ApiError, api, setCsrfToken } from "./api/client";
import type { Session, User } from "./api/types";

interface AuthState {
  user: User | null;
  loading: boolean;
  signedIn: (session: Session) => void;
  signOut: () => Promise<void>;
  /** The server has already ended this session (logged out everywhere): forget it here. */
  signedOut: () => void;
  /** Reads the user again (e.g. once the email address is verified); never rejects. */
  refresh: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);
  // Each read of GET /me and each sign-in or out takes the next number; an
  // answer is applied only while its number is the latest (a slower, older
  // read must not undo a newer one, a login, or a logout).
  const latest = useRef(0);

  const apply = useCallback((session: Session | null) => {
    setCsrfToken(session?.csrf_token ?? null);
    setUser(session?.user ?? null);
    setLoading(false);
  }, []);

  const read = useCallback(async () => {
    const ticket = ++latest.current;
    try {
      const session = await api.me();
      if (ticket === latest.current) apply(session);
    } catch (error) {
      if (ticket !== latest.current) return;
      if (error instanceof ApiError && error.status === 401) {
        apply(null);
      } else {
        console.warn(error);
        setLoading(false);
      }
    }
  }, [apply]);

  useEffect(() => {
    void read();
  }, [read]);

  const signedIn = useCallback(
    (session: Session) => {
      latest.current += 1;
      apply(session);
    },
    [apply],
  );

  const signedOut = useCallback(() => {
    latest.current += 1;
    apply(null);
  }, [apply]);

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      signedOut();
    }
  }, [signedOut]);

  return (
    <AuthContext.Provider value={{ user, loading, signedIn, signOut, signedOut, refresh: read }}>
      {children}
    </AuthContext.Provider>
  );
}

/** The auth state, or null outside an AuthProvider (a page rendered alone, as in some tests). */
export function useOptionalAuth(): AuthState | null {
  return useContext(AuthContext);
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}
