import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { findNul, MAX_INPUT_DEPTH, nestedDeeperThan, NUL_MESSAGE } from '@mz/contracts';

export interface ValidationIssue { path: string; message: string }

/** The 400 body every invalid request gets: one line per problem, with the field it concerns. */
export function validationError(where: string, issues: ValidationIssue[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: `Invalid ${where}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`,
    issues,
  });
}

export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/**
 * Validates a request part against a zod schema (the project's one validation library: the same
 * schemas describe the API in OpenAPI). Unknown keys are refused by strict schemas, so a typo in a
 * field name is an error rather than a silent no-op.
 */
@Injectable()
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S, private readonly where: 'body' | 'query' | 'parameter' = 'body') {}

  transform(value: unknown): z.output<S> {
    // The api's one door for outside text: a NUL can never reach a text or jsonb column (Postgres
    // refuses it — a 500 before this check), whatever the schema says about the field.
    if (nestedDeeperThan(value)) throw validationError(this.where, [{ path: '', message: `nested deeper than ${MAX_INPUT_DEPTH} levels` }]);
    const nulAt = findNul(value);
    if (nulAt !== null) throw validationError(this.where, [{ path: nulAt, message: NUL_MESSAGE }]);
    const result = this.schema.safeParse(value ?? (this.where === 'body' ? undefined : {}));
    if (!result.success) throw validationError(this.where, zodIssues(result.error));
    return result.data;
  }
}

export const body = <S extends z.ZodType>(schema: S) => new ZodPipe(schema, 'body');
export const query = <S extends z.ZodType>(schema: S) => new ZodPipe(schema, 'query');

/** Path parameters that must be uuids (a malformed one is a 400, never a database error). */
export const UuidParam = new ZodPipe(z.uuid({ message: 'expected a uuid' }), 'parameter');
