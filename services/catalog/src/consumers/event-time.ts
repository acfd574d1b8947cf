import { PermanentFailure } from '@vreg/bus';

/**
 * Reads an ISO-8601 time from an event. An unreadable time is poison: no
 * retry fixes it, so the message is dead-lettered at once.
 */
export function eventTime(value: string, field: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new PermanentFailure(`${field} is not an ISO-8601 time`);
  return date;
}
