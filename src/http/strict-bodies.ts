import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

/**
 * Request bodies are strict (README, "API"): a key that the body's schema does
 * not name is a 422 naming it, never silently dropped. Done once for every route
 * here (an `onRoute` hook, registered before the routes and the OpenAPI
 * generator, which then shows `additionalProperties: false`), not route by route.
 */
export function strictBodies(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const body = route.schema?.body;
    if (body instanceof z.ZodType) route.schema = { ...route.schema, body: strict(body) };
  });
}

/** The schema with every object in it (nested, optional, nullable, in arrays) refusing unknown keys. */
export function strict(schema: z.ZodType): z.ZodType {
  const described = (result: z.ZodType): z.ZodType =>
    schema.description !== undefined && result !== schema ? result.describe(schema.description) : result;
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) {
    const inner = strict(schema.unwrap() as z.ZodType);
    return inner === schema.unwrap()
      ? schema
      : described(schema.clone({ ...schema._zod.def, innerType: inner } as never));
  }
  if (schema instanceof z.ZodArray) {
    const element = strict(schema.element as z.ZodType);
    return element === schema.element ? schema : described(schema.clone({ ...schema._zod.def, element }));
  }
  if (schema instanceof z.ZodObject) {
    // An object with refinements cannot be extended (zod): only its own keys are made strict.
    if ((schema._zod.def.checks?.length ?? 0) > 0) return schema.strict();
    const shape = Object.fromEntries(Object.entries(schema.shape).map(([k, v]) => [k, strict(v as z.ZodType)]));
    return described(schema.extend(shape).strict());
  }
  return schema;
}
