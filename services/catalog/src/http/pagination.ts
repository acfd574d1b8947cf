import type { FastifyReply } from 'fastify';
import { type PageRequest, pageCount } from '../domain/page.ts';

/**
 * Pagination as GitLab does it: the body is the plain array of the page;
 * the position in the list rides in headers. `X-Next-Page` and
 * `X-Prev-Page` are empty on the last and first page.
 */
export const PaginationHeaders = {
  total: 'X-Total',
  totalPages: 'X-Total-Pages',
  page: 'X-Page',
  perPage: 'X-Per-Page',
  nextPage: 'X-Next-Page',
  prevPage: 'X-Prev-Page',
} as const;

/** The `?page=&per_page=` query as a domain page request. */
export function pageRequestOf(query: { page: number; per_page: number }): PageRequest {
  return { page: query.page, perPage: query.per_page };
}

/** Sets the pagination headers of a list response. */
export function setPaginationHeaders(reply: FastifyReply, request: PageRequest, total: number): void {
  const pages = pageCount(total, request.perPage);
  reply.header(PaginationHeaders.total, String(total));
  reply.header(PaginationHeaders.totalPages, String(pages));
  reply.header(PaginationHeaders.page, String(request.page));
  reply.header(PaginationHeaders.perPage, String(request.perPage));
  reply.header(PaginationHeaders.nextPage, request.page < pages ? String(request.page + 1) : '');
  reply.header(PaginationHeaders.prevPage, request.page > 1 ? String(Math.min(request.page - 1, pages)) : '');
}
