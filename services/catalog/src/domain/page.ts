/** Default number of items per page of a list. */
export const DEFAULT_PER_PAGE = 20;
/** Largest page a caller may ask for. */
export const MAX_PER_PAGE = 100;

/** One page of a list: `page` counts from 1. */
export interface PageRequest {
  readonly page: number;
  readonly perPage: number;
}

/** A page of items and the total number of items across all pages. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
}

/** Number of items to skip before the requested page. */
export function pageOffset(request: PageRequest): number {
  return (request.page - 1) * request.perPage;
}

/** Number of pages `total` items fill, at least 1 (an empty list still has page 1). */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}
