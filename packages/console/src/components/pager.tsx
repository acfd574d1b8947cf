/** Previous/next for a paginated list, with where we are; nothing when it all fits one page. */
export function Pager({ label, page, totalPages, total, onPage }: { label: string; page: number; totalPages: number; total: number; onPage: (page: number) => void }) {
  if (totalPages <= 1) return null;
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
