import type { ListPage } from '../api.ts';

/** Previous/next for a paginated list, with where we are; nothing before the first page loads or when it all fits one page. */
export function Pager({ label, listed, onPage }: { label: string; listed: ListPage<unknown> | undefined; onPage: (page: number) => void }) {
  if (listed === undefined || listed.totalPages <= 1) return null;
  const { page, totalPages, total } = listed;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        Previous page
      </button>
      <span>
        Page {page} of {totalPages} ({total} in all)
      </span>
      <button type="button" onClick={() => onPage(page + 1)} disabled={page >= totalPages}>
        Next page
      </button>
    </nav>
  );
}
