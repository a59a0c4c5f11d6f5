import { z } from 'zod';
import { TopicCreate } from '@mz/api-schemas';
import { UsageError } from '../command';

const Email = z.email().max(320);
const Uuid = z.uuid();

/** An address as stored (lower case, docs/architecture.md §14 AppUser), or a UsageError naming the argument. */
export function emailArg(name: string, value: string): string {
  const r = Email.safeParse(value.trim().toLowerCase());
  if (!r.success) throw new UsageError(`${name} must be an email address`);
  return r.data;
}

export function uuidArg(name: string, value: string): string {
  const r = Uuid.safeParse(value);
  if (!r.success) throw new UsageError(`${name} must be a UUID`);
  return r.data.toLowerCase();
}

/** An ISO 8601 instant with a zone (Z or ±hh:mm) or a bare date (midnight UTC). */
export function instantArg(name: string, value: string): Date {
  const r = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).safeParse(value);
  if (!r.success) throw new UsageError(`${name} must be an ISO 8601 date or time with a zone, e.g. 2026-12-01 or 2026-12-01T08:00:00Z`);
  return new Date(r.data);
}

/** A positive whole number within bounds. */
export function countArg(name: string, value: string, max: number): number {
  const r = z.coerce.number().int().min(1).max(max).safeParse(value);
  if (!r.success) throw new UsageError(`${name} must be a whole number from 1 to ${max}`);
  return r.data;
}

/** A topic code, by the console's own rule for codes (libs/api-schemas TopicCreate). */
export function topicArg(name: string, value: string): string {
  const r = TopicCreate.shape.code.safeParse(value);
  if (!r.success) throw new UsageError(`${name} must be a topic code (${r.error.issues[0].message})`);
  return r.data;
}
