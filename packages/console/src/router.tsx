import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from 'react';

/** The console lives under /console/; paths inside it are client-side routes (the server answers them with index.html). */
export const BASE = '/console';

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(path: string): void {
  window.history.pushState(null, '', `${BASE}${path}`);
  listeners.forEach((l) => l());
}

/** The current path inside the console, e.g. `/registries/4`. */
export function usePath(): string {
  const read = () => window.location.pathname.replace(/^\/console/, '') || '/';
  const [path, setPath] = useState(read);
  useEffect(() => {
    const update = () => setPath(read());
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return path;
}

/** An `<a>` that navigates without a reload; a real link for the keyboard, screen readers and new tabs. */
export function Link({ to, ...props }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={`${BASE}${to}`} onClick={onClick} {...props} />;
}
