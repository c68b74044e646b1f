// A list's filters kept in the URL (?status=pending&page=2): a reload, a shared link and the back
// button all keep them. Changing a filter goes back to page 1.
import { useSearchParams } from "react-router";

export function useUrlFilters<K extends string>(
  keys: readonly K[],
): [Record<K, string | null> & { page: number }, (key: K | "page", value: string | number | null) => void] {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(keys.map((k) => [k, params.get(k)])) as Record<K, string | null>;
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const set = (key: K | "page", value: string | number | null) => {
    const next = new URLSearchParams(params);
    if (value === null || value === "") next.delete(key);
    else next.set(key, String(value));
    if (key !== "page") next.delete("page");
    setParams(next, { replace: true });
  };
  return [{ ...values, page }, set];
}
