import { createContext, useContext } from 'react';
import type { Api, Session } from './api.ts';

/** The signed-in session: the token lives in this page's memory and this tab's sessionStorage, never in a cookie. */
export interface SignedIn {
  api: Api;
  session: Session;
  /** Read-only sessions (read_virtual_registry tokens) see no write controls. */
  canWrite: boolean;
  signOut(message?: string): void;
}

export const SessionContext = createContext<SignedIn | undefined>(undefined);

export function useSession(): SignedIn {
  const value = useContext(SessionContext);
  if (value === undefined) throw new Error('useSession outside a signed-in console');
  return value;
}

const STORAGE_KEY = 'vreg-console-token';

/** sessionStorage ends with the tab; a browser without it (private mode quirks) keeps the token in memory only. */
export const tokenStore = {
  read(): string | undefined {
    try {
      return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
    } catch {
      return undefined;
    }
  },
  write(token: string | undefined): void {
    try {
      if (token === undefined) sessionStorage.removeItem(STORAGE_KEY);
      else sessionStorage.setItem(STORAGE_KEY, token);
    } catch {
      // Memory only.
    }
  },
};
