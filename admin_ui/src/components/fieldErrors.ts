// Field errors of a problem+json answer (422 `errors`, fields as dotted paths of the body) put
// on the form's own fields; what no field shows is returned for an alert above the form.
import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import type { Problem } from "../api/session";

export function applyFieldErrors<T extends FieldValues>(
  problem: Problem,
  setError: UseFormSetError<T>,
  known: readonly string[],
  rename: (field: string) => string = (f) => f,
): string[] {
  const rest: string[] = [];
  for (const e of problem.errors ?? []) {
    const field = rename(e.field);
    const matches = known.some((k) => field === k || new RegExp(`^${k.replace(/\*/g, "\\d+")}$`).test(field));
    if (field && matches) setError(field as Path<T>, { type: "server", message: e.message });
    else rest.push(e.field ? `${e.field}: ${e.message}` : e.message);
  }
  if (!problem.errors?.length) rest.push(problem.detail);
  return rest;
}
