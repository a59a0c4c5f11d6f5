import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';

/** OpenAPI schema of a zod schema: the validation and the documentation cannot drift apart. */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json as SchemaObject;
}

/** Documents a zod-validated JSON body. */
export const ZodBody = (schema: z.ZodType, description?: string) =>
  applyDecorators(ApiBody({ schema: openApiSchema(schema), description }), ApiResponse({ status: 400, description: 'Invalid body (issues listed)' }));

/** Documents zod-validated query parameters, one entry per property. */
export function ZodQuery(schema: z.ZodObject): MethodDecorator {
  const json = openApiSchema(schema);
  const required = new Set((json.required as string[] | undefined) ?? []);
  const props = (json.properties ?? {}) as Record<string, SchemaObject>;
  return applyDecorators(
    ...Object.entries(props).map(([name, s]) => ApiQuery({ name, required: required.has(name), schema: s, description: s.description })),
    ApiResponse({ status: 400, description: 'Invalid query (issues listed)' }),
  );
}

/** Documents a JSON response by an example-shaped schema written as zod (documentation only). */
export const ZodOk = (schema: z.ZodType, description?: string) => ApiOkResponse({ schema: openApiSchema(schema, 'output'), description });
