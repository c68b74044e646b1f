// The API's errors: problem+json (RFC 9457), with `errors` naming the fields of invalid input.
import type { components } from "./schema";

type Schemas = components["schemas"];

/** One invalid field of a 422 answer, as the API's OpenAPI document says. */
export type FieldProblem = Schemas["FieldProblem"];

/** A problem+json body as the OpenAPI document says (`Problem`); a 422's also has `errors`
 * (`ValidationProblem`), so they are optional here. */
export type Problem = Schemas["Problem"] & Partial<Pick<Schemas["ValidationProblem"], "errors">>;

/** A problem+json body, or one made up from the status when the body is not one. */
export async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = await response.clone().json();
    if (body && typeof body === "object" && "detail" in body) return body as Problem;
  } catch {
    // not JSON: fall through
  }
  return {
    title: response.statusText || "Error",
    status: response.status,
    detail: `The server answered ${response.status}. Try again in a moment.`,
  };
}

/** The data of an openapi-fetch answer, or throw its problem (TanStack Query shows it). */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    const problem = (error ?? {}) as Partial<Problem>;
    throw {
      title: problem.title ?? response.statusText,
      status: problem.status ?? response.status,
      detail: problem.detail ?? `The server answered ${response.status}.`,
      errors: problem.errors,
    } satisfies Problem;
  }
  return data as T;
}

/** Whether a thrown value is the API's problem (not a failed fetch: offline). */
export function isProblem(value: unknown): value is Problem {
  return !!value && typeof value === "object" && "status" in value && "detail" in value;
}

/** Each field's message, by the field's dotted path (what a form shows beside its input), and
 * what no field of `known` shows (for a message above the form). */
export function fieldMessages(
  problem: Problem,
  known: readonly string[],
): { fields: Record<string, string>; rest: string[] } {
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const e of problem.errors ?? []) {
    if (e.field && known.includes(e.field) && !(e.field in fields)) fields[e.field] = e.message;
    else rest.push(e.field ? `${e.field}: ${e.message}` : e.message);
  }
  if (!problem.errors?.length) rest.push(problem.detail);
  return { fields, rest };
}
